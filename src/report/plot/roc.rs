//! ROC plots: one per attack (and per scope), one curve per loss × detector
//! over the stored, downsampled `roc` rows of subset `successful`; and one
//! per abnormal source, over the rows of subset `ood`.
//!
//! Seeds are not pooled: each curve is the lowest seed's, and the legend says
//! which seed it is (once, in its title, when every curve has the same). The colour is the loss's, the line pattern the
//! detector's.

use plotters::prelude::*;

use super::legend::{
    draw_legend, draw_line, legend_height, legend_width, title_width, Entry, Swatch, AXIS_SIZE,
    FONT, LIGHT_GRID, TICK_SIZE, TITLE_SIZE,
};
use super::{err, Ctx, PlotKind, Plots, Scope};
use crate::results::{RocRow, RunTables, OOD_SUBSET};
use crate::Result;

/// The subset whose curves are plotted (docs/definitions.md §3).
const SUBSET: &str = "successful";
const CHANCE: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// One curve: a job's points for one detector.
struct Curve<'a> {
    loss: &'a str,
    detector: &'a str,
    seed: u64,
    points: Vec<(f64, f64)>,
}

/// Adds a ROC plot per (scope, attack) with curves of subset `successful`.
pub(super) fn plots(ctx: &Ctx<'_>, t: &RunTables, out: &mut Plots) -> Result<()> {
    plots_of(ctx, t, out, SUBSET, PlotKind::Roc)
}

/// Adds a ROC plot per (scope, abnormal source) with the curves of the
/// abnormal-input evaluation (docs/definitions.md §5).
pub(super) fn ood_plots(ctx: &Ctx<'_>, t: &RunTables, out: &mut Plots) -> Result<()> {
    plots_of(ctx, t, out, OOD_SUBSET, PlotKind::OodRoc)
}

/// A ROC plot per (scope, attack) with the curves of `subset`, as `kind`.
fn plots_of(
    ctx: &Ctx<'_>,
    t: &RunTables,
    out: &mut Plots,
    subset: &str,
    kind: PlotKind,
) -> Result<()> {
    let rows: Vec<&RocRow> = t.roc.iter().filter(|r| r.subset == subset).collect();
    let mut panels: Vec<(Scope<'_>, &str)> = Vec::new();
    for r in &rows {
        let p = (ctx.scope(&r.job_id), r.attack.as_str());
        if !panels.contains(&p) {
            panels.push(p);
        }
    }
    panels.sort_by_key(|&((d, m), a)| ctx.order.key(d, m, "", a, ""));

    for &(scope, attack) in &panels {
        let panel_rows = rows
            .iter()
            .copied()
            .filter(|r| r.attack == attack && ctx.scope(&r.job_id) == scope);
        let curves = lowest_seed_curves(panel_rows, ctx);
        let title = ctx.title(&format!("ROC: {attack}"), scope);
        let stem = ctx.stem("roc", scope, &[attack]);
        out.push(kind, title.clone(), &stem, || draw(&title, &curves, ctx))?;
    }
    Ok(())
}

/// For every (loss, detector), the curve of the job with the lowest seed,
/// in legend order (loss, then detector).
fn lowest_seed_curves<'a>(rows: impl Iterator<Item = &'a RocRow>, ctx: &Ctx<'_>) -> Vec<Curve<'a>> {
    let mut curves: Vec<(Curve<'a>, &'a str)> = Vec::new();
    for r in rows {
        let slot = curves
            .iter_mut()
            .find(|(c, _)| c.loss == r.loss && c.detector == r.detector);
        match slot {
            Some((c, job)) if *job == r.job_id => c.points.push((r.fpr, r.tpr)),
            Some((c, job)) if r.seed < c.seed => {
                *c = Curve {
                    loss: &r.loss,
                    detector: &r.detector,
                    seed: r.seed,
                    points: vec![(r.fpr, r.tpr)],
                };
                *job = &r.job_id;
            }
            Some(_) => {}
            None => curves.push((
                Curve {
                    loss: &r.loss,
                    detector: &r.detector,
                    seed: r.seed,
                    points: vec![(r.fpr, r.tpr)],
                },
                &r.job_id,
            )),
        }
    }
    let mut curves: Vec<Curve<'a>> = curves.into_iter().map(|(c, _)| c).collect();
    curves.sort_by_key(|c| ctx.order.key("", "", c.loss, "", c.detector));
    curves
}

/// Legend entries (chance included) that still fit inside the chart.
const INSIDE_LEGEND_MAX: usize = 9;

/// Draws the chart and its legend into an SVG string.
fn draw(title: &str, curves: &[Curve<'_>], ctx: &Ctx<'_>) -> std::result::Result<String, String> {
    // Detectors in report order: the first is solid, later ones dashed with
    // longer and longer dashes.
    let mut detectors: Vec<&str> = curves.iter().map(|c| c.detector).collect();
    detectors.sort_by_key(|d| ctx.order.key("", "", "", "", d));
    detectors.dedup();
    let dash = |d: &str| detectors.iter().position(|x| *x == d).unwrap_or(0) as u32;

    // One seed for every curve (the usual case): say it once.
    let one_seed = curves.windows(2).all(|w| w[0].seed == w[1].seed);
    let legend_title = match curves.first() {
        Some(c) if one_seed => format!("loss / detector (seed {})", c.seed),
        _ => "loss / detector".to_owned(),
    };
    let mut entries = vec![Entry::new(
        "chance",
        Swatch::Line {
            colour: CHANCE,
            dash: 1,
        },
    )];
    for c in curves {
        let label = if one_seed {
            format!("{} / {}", c.loss, c.detector)
        } else {
            format!("{} / {} (seed {})", c.loss, c.detector, c.seed)
        };
        entries.push(Entry::new(
            label,
            Swatch::Line {
                colour: ctx.order.loss_colour(c.loss),
                dash: dash(c.detector),
            },
        ));
    }

    // A short legend fits in the lower right corner, which a ROC curve rarely
    // visits; a long one (many losses × detectors) would hide curves there,
    // so it gets a strip right of the chart.
    let inside = entries.len() <= INSIDE_LEGEND_MAX;
    let (lw, lh) = (
        legend_width(&legend_title, &entries) as i32,
        legend_height(&entries) as i32,
    );
    let chart_w = 620u32;
    let strip = if inside { 0 } else { lw as u32 + 24 };
    let height = 640u32.max(lh as u32 + 80);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (title_width(title).max(chart_w + strip), height))
                .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(title, (FONT, TITLE_SIZE)).map_err(err)?;
        let (left, right) = body.split_horizontally(chart_w);
        let mut chart = ChartBuilder::on(if inside { &body } else { &left })
            .margin(14)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("false positive rate")
            .y_desc("true positive rate")
            .axis_desc_style((FONT, AXIS_SIZE))
            .label_style((FONT, TICK_SIZE))
            .light_line_style(LIGHT_GRID)
            .draw()
            .map_err(err)?;
        draw_line(&mut chart, &[(0.0, 0.0), (1.0, 1.0)], CHANCE, 1)?;
        for c in curves {
            let colour = ctx.order.loss_colour(c.loss);
            draw_line(&mut chart, &c.points, colour, dash(c.detector))?;
        }
        if inside {
            let area = chart.plotting_area().strip_coord_spec();
            let (w, h) = area.dim_in_pixel();
            draw_legend(
                &area,
                (w as i32 - lw - 8, h as i32 - lh - 8),
                &legend_title,
                &entries,
                true,
            )?;
        } else {
            draw_legend(&right, (4, 20), &legend_title, &entries, false)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}
