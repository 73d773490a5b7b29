//! Training curves: per scope, the training loss and the training accuracy
//! per epoch side by side, one line per job (loss colour, line pattern by
//! seed), from the `train_log` table.
//!
//! Losses of different heads live on different scales (L-GM's likelihood
//! term, center loss's distance term), so the loss axis turns logarithmic
//! when every value is positive and they span more than a factor of 10; the
//! accuracy axis zooms to the values it shows.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{
    draw_legend, draw_line, legend_width, title_width, Entry, Swatch, AXIS_SIZE, FONT, LIGHT_GRID,
    PANEL_TITLE_SIZE, TICK_SIZE, TITLE_SIZE,
};
use super::{err, finite_range, padded, Ctx, PlotKind, Plots, Scope};
use crate::results::RunTables;
use crate::Result;

const PANEL: (u32, u32) = (470, 460);

/// One job's log.
struct Curve<'a> {
    loss: &'a str,
    seed: u64,
    /// 0 for the loss's lowest seed, 1 for the next, …: the line pattern.
    dash: u32,
    /// (epoch, training loss, training accuracy), by epoch.
    epochs: Vec<(f64, f64, f64)>,
}

/// Adds one plot per scope with a training log.
pub(super) fn plots(ctx: &Ctx<'_>, t: &RunTables, out: &mut Plots) -> Result<()> {
    let mut scopes: Vec<(Scope<'_>, Vec<Curve<'_>>)> = Vec::new();
    for j in &t.jobs {
        let mut epochs: Vec<(f64, f64, f64)> = t
            .train_log
            .iter()
            .filter(|r| r.job_id == j.job_id)
            .map(|r| (r.epoch as f64, r.train_loss, r.train_acc))
            .collect();
        if epochs.is_empty() {
            continue;
        }
        epochs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let scope = (j.dataset.as_str(), j.model.as_str());
        let curve = Curve {
            loss: &j.loss,
            seed: j.seed,
            dash: 0,
            epochs,
        };
        match scopes.iter_mut().find(|(s, _)| *s == scope) {
            Some((_, curves)) => curves.push(curve),
            None => scopes.push((scope, vec![curve])),
        }
    }
    scopes.sort_by_key(|(s, _)| ctx.scope_key(*s));
    for (scope, curves) in &mut scopes {
        curves.sort_by_key(|c| (ctx.order.loss_rank(c.loss), c.seed));
        for i in 0..curves.len() {
            let (loss, seed) = (curves[i].loss, curves[i].seed);
            let lower = curves
                .iter()
                .filter(|c| c.loss == loss && c.seed < seed)
                .count();
            curves[i].dash = lower as u32;
        }
        let title = ctx.title("Training curves", *scope);
        let stem = ctx.stem("training", *scope, &[]);
        out.push(PlotKind::Training, title.clone(), &stem, || {
            draw(&title, curves, ctx)
        })?;
    }
    Ok(())
}

fn draw(title: &str, curves: &[Curve<'_>], ctx: &Ctx<'_>) -> std::result::Result<String, String> {
    let entries: Vec<Entry> = curves
        .iter()
        .map(|c| {
            Entry::new(
                format!("{} (seed {})", c.loss, c.seed),
                Swatch::Line {
                    colour: ctx.order.loss_colour(c.loss),
                    dash: c.dash,
                },
            )
        })
        .collect();
    let last = curves
        .iter()
        .flat_map(|c| c.epochs.iter().map(|e| e.0))
        .fold(1.0f64, f64::max);
    let x = (1.0 - 0.1 * last.max(2.0) / 2.0)..(last + 0.1 * last.max(2.0) / 2.0);
    let losses = || curves.iter().flat_map(|c| c.epochs.iter().map(|e| e.1));
    let (lo, hi) = finite_range(losses()).unwrap_or((0.0, 1.0));
    let log = lo > 0.0 && hi / lo > 10.0;
    let lw =
        legend_width("loss (seed)", &entries).max(title_width(title).saturating_sub(2 * PANEL.0));

    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (2 * PANEL.0 + lw, PANEL.1 + 50)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(title, (FONT, TITLE_SIZE)).map_err(err)?;
        let (grid, right) = body.split_horizontally(2 * PANEL.0);
        let (left, middle) = grid.split_horizontally(PANEL.0);

        let points = |f: fn(&(f64, f64, f64)) -> f64| -> Vec<Vec<(f64, f64)>> {
            curves
                .iter()
                .map(|c| c.epochs.iter().map(|e| (e.0, f(e))).collect())
                .collect()
        };
        let loss_points = points(|e| e.1);
        if log {
            let y = (lo / 1.25..hi * 1.25).log_scale();
            let mut chart = builder(&left, "training loss (log scale)")
                .build_cartesian_2d(x.clone(), y)
                .map_err(err)?;
            fill(&mut chart, "loss", &loss_points, curves, ctx)?;
        } else {
            let y0 = lo.min(0.0);
            let (_, y1) = padded(y0, hi, 0.05);
            let mut chart = builder(&left, "training loss")
                .build_cartesian_2d(x.clone(), y0..y1)
                .map_err(err)?;
            fill(&mut chart, "loss", &loss_points, curves, ctx)?;
        }
        let mut chart = builder(&middle, "training accuracy")
            .build_cartesian_2d(x, acc_range(curves))
            .map_err(err)?;
        fill(&mut chart, "train accuracy", &points(|e| e.2), curves, ctx)?;

        draw_legend(&right, (0, 20), "loss (seed)", &entries, false)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The accuracy axis: zoomed to the data in steps of 0.05 (accuracies late
/// in training crowd near the top of [0, 1]), never past [0, 1].
fn acc_range(curves: &[Curve<'_>]) -> std::ops::Range<f64> {
    let accs = curves.iter().flat_map(|c| c.epochs.iter().map(|e| e.2));
    let (lo, hi) = finite_range(accs).unwrap_or((0.0, 1.0));
    let lo = (((lo - 0.03) * 20.0).floor() / 20.0).clamp(0.0, 0.95);
    let hi = (((hi + 0.03) * 20.0).ceil() / 20.0).clamp(lo + 0.05, 1.0);
    lo..hi
}

fn builder<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(area);
    b.caption(caption, (FONT, PANEL_TITLE_SIZE))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(64);
    b
}

/// Axes, then one line with markers per curve.
fn fill<Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, Y>>,
    y_desc: &str,
    points: &[Vec<(f64, f64)>],
    curves: &[Curve<'_>],
    ctx: &Ctx<'_>,
) -> std::result::Result<(), String>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    // Epochs are whole numbers: label only the whole ticks.
    let whole = |v: &f64| {
        if (v - v.round()).abs() < 1e-9 {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_label_formatter(&whole)
        .axis_desc_style((FONT, AXIS_SIZE))
        .label_style((FONT, TICK_SIZE))
        .light_line_style(LIGHT_GRID)
        .draw()
        .map_err(err)?;
    for (c, pts) in curves.iter().zip(points) {
        let colour = ctx.order.loss_colour(c.loss);
        draw_line(chart, pts, colour, c.dash)?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(err)?;
    }
    Ok(())
}
