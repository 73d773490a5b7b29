//! Score histograms: for each detector × attack (and scope), one panel per
//! loss comparing the detector's scores on clean inputs with those on their
//! successful adversarial counterparts, on the held-out test split of the
//! lowest seed (the pairs behind the `successful` detection metrics).
//!
//! Both groups are drawn as fractions of their own size over shared bins, so
//! the overlap reads directly as how hard the two are to tell apart.

use std::collections::HashMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{
    draw_legend, legend_width, title_width, Entry, Swatch, AXIS_SIZE, FONT, LIGHT_GRID,
    PANEL_TITLE_SIZE, TICK_SIZE, TITLE_SIZE,
};
use super::{err, finite_range, padded, Ctx, FirstJob, PlotKind, Plots, Scope};
use crate::results::RunTables;
use crate::Result;

const SPLIT: &str = "test";
const CLEAN: RGBColor = RGBColor(0x80, 0x80, 0x80);
const ALPHA: f64 = 0.55;
const PANEL: (u32, u32) = (380, 320);
const PER_ROW: usize = 3;

/// One panel: a loss's clean and adversarial scores.
struct Panel<'a> {
    job: FirstJob<'a>,
    clean: Vec<f64>,
    adversarial: Vec<f64>,
}

/// One job's scores for one attack and detector: (clean, adversarial).
type Groups = (Vec<f64>, Vec<f64>);

/// Adds one plot per (scope, attack, detector) with scores on the test split.
pub(super) fn plots(ctx: &Ctx<'_>, t: &RunTables, out: &mut Plots) -> Result<()> {
    // One pass over the (large) table: scores by (job, attack, detector).
    let mut by_job: HashMap<(&str, &str, &str), Groups> = HashMap::new();
    let mut jobs: Vec<(&str, &str, &str, &str, u64)> = Vec::new();
    for r in t
        .scores
        .iter()
        .filter(|r| r.split == SPLIT && r.success == 1)
    {
        let key = (r.job_id.as_str(), r.attack.as_str(), r.detector.as_str());
        let groups = by_job.entry(key).or_insert_with(|| {
            jobs.push((key.0, key.1, key.2, r.loss.as_str(), r.seed));
            Groups::default()
        });
        match r.kind.as_str() {
            "clean" => groups.0.push(r.score),
            "adversarial" => groups.1.push(r.score),
            _ => {}
        }
    }
    let mut figures: Vec<(Scope<'_>, &str, &str)> = Vec::new();
    for &(job, attack, detector, _, _) in &jobs {
        let f = (ctx.scope(job), attack, detector);
        if !figures.contains(&f) {
            figures.push(f);
        }
    }
    figures.sort_by_key(|&((d, m), a, det)| ctx.order.key(d, m, "", a, det));

    for &(scope, attack, detector) in &figures {
        let here = jobs
            .iter()
            .filter(|j| j.1 == attack && j.2 == detector && ctx.scope(j.0) == scope)
            .map(|j| (j.0, j.3, j.4));
        let panels: Vec<Panel<'_>> = ctx
            .lowest_seed(here)
            .into_iter()
            .map(|job| {
                let (clean, adversarial) = by_job
                    .get(&(job.job_id, attack, detector))
                    .cloned()
                    .unwrap_or_default();
                Panel {
                    job,
                    clean,
                    adversarial,
                }
            })
            .collect();
        let title = ctx.title(&format!("Scores: {detector}, {attack}"), scope);
        let stem = ctx.stem("scores", scope, &[detector, attack]);
        out.push(PlotKind::Scores, title.clone(), &stem, || {
            draw(&title, &panels, ctx)
        })?;
    }
    Ok(())
}

/// Shared bin edges over the finite values of both groups: about √n bins,
/// between 8 and 40.
fn edges(clean: &[f64], adversarial: &[f64]) -> Vec<f64> {
    let all = clean.iter().chain(adversarial).copied();
    let Some((lo, hi)) = finite_range(all) else {
        return Vec::new();
    };
    let n = clean.len() + adversarial.len();
    let bins = ((n as f64).sqrt().ceil() as usize).clamp(8, 40);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        padded(lo, hi, 0.0)
    };
    (0..=bins)
        .map(|i| lo + (hi - lo) * i as f64 / bins as f64)
        .collect()
}

/// The fraction of the finite `values` in each bin (the last bin closed).
fn fractions(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len().saturating_sub(1);
    let mut counts = vec![0usize; bins];
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if bins == 0 || finite.is_empty() {
        return vec![0.0; bins];
    }
    let (lo, hi) = (edges[0], edges[bins]);
    for v in &finite {
        let k = (((v - lo) / (hi - lo)) * bins as f64).floor() as usize;
        counts[k.min(bins - 1)] += 1;
    }
    counts
        .iter()
        .map(|&c| c as f64 / finite.len() as f64)
        .collect()
}

fn draw(title: &str, panels: &[Panel<'_>], ctx: &Ctx<'_>) -> std::result::Result<String, String> {
    let mut entries = vec![Entry::new("clean", Swatch::Fill(CLEAN.mix(ALPHA)))];
    for p in panels {
        entries.push(Entry::new(
            format!("{}: adversarial", p.job.loss),
            Swatch::Fill(ctx.order.loss_colour(p.job.loss).mix(ALPHA)),
        ));
    }
    // Three in a row; two when that balances the grid better (2 × 2).
    let cols = match panels.len() {
        0 | 1 => 1,
        3 => 3,
        n if n <= 2 * PER_ROW - 2 => 2,
        _ => PER_ROW,
    };
    let rows = panels.len().div_ceil(cols).max(1);
    let grid_w = PANEL.0 * cols as u32;
    let lw = legend_width("scores", &entries).max(title_width(title).saturating_sub(grid_w));
    let size = (grid_w + lw, 50 + PANEL.1 * rows as u32);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(title, (FONT, TITLE_SIZE)).map_err(err)?;
        let (grid, right) = body.split_horizontally(grid_w);
        let areas = grid.split_evenly((rows, cols));
        for (p, area) in panels.iter().zip(&areas) {
            panel(area, p, ctx)?;
        }
        draw_legend(&right, (0, 20), "scores", &entries, false)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    p: &Panel<'_>,
    ctx: &Ctx<'_>,
) -> std::result::Result<(), String> {
    let colour = ctx.order.loss_colour(p.job.loss);
    let non_finite = p
        .clean
        .iter()
        .chain(&p.adversarial)
        .filter(|v| !v.is_finite())
        .count();
    let mut caption = format!(
        "{} (seed {}, {} pairs",
        p.job.loss,
        p.job.seed,
        p.adversarial.len()
    );
    if non_finite > 0 {
        caption.push_str(&format!(", {non_finite} non-finite left out"));
    }
    caption.push(')');
    let edges = edges(&p.clean, &p.adversarial);
    let clean = fractions(&p.clean, &edges);
    let adv = fractions(&p.adversarial, &edges);
    let top = clean.iter().chain(&adv).fold(0.0f64, |a, &b| a.max(b));
    let (x_lo, x_hi) = match (edges.first(), edges.last()) {
        (Some(&lo), Some(&hi)) => (lo, hi),
        _ => (0.0, 1.0),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, PANEL_TITLE_SIZE).into_font().color(&colour))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x_lo..x_hi, 0f64..(top * 1.1).max(0.05))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("detector score")
        .y_desc("fraction of group")
        .axis_desc_style((FONT, AXIS_SIZE))
        .label_style((FONT, TICK_SIZE))
        .light_line_style(LIGHT_GRID)
        .x_labels(5)
        .draw()
        .map_err(err)?;
    if edges.is_empty() {
        let centre = Pos::new(HPos::Center, VPos::Center);
        chart
            .plotting_area()
            .draw(&Text::new(
                "no finite scores",
                ((x_lo + x_hi) / 2.0, 0.025),
                TextStyle::from((FONT, AXIS_SIZE)).pos(centre),
            ))
            .map_err(err)?;
        return Ok(());
    }
    for (fr, fill) in [(&clean, CLEAN.mix(ALPHA)), (&adv, colour.mix(ALPHA))] {
        chart
            .draw_series(
                fr.iter()
                    .enumerate()
                    .filter(|(_, f)| **f > 0.0)
                    .map(|(k, f)| {
                        Rectangle::new([(edges[k], 0.0), (edges[k + 1], *f)], fill.filled())
                    }),
            )
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{edges, fractions};

    #[test]
    fn fractions_sum_to_one_and_ignore_non_finite() {
        let clean = [0.0, 0.1, 0.2, f64::INFINITY];
        let adv = [0.8, 0.9, 1.0, 1.0, f64::NEG_INFINITY];
        let e = edges(&clean, &adv);
        assert_eq!(e.len(), 9, "8 bins minimum");
        assert_eq!((e[0], e[8]), (0.0, 1.0));
        let f = fractions(&adv, &e);
        assert!((f.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // 1.0 falls in the closed last bin, 0.8 in [0.75, 0.875).
        assert!((f[7] - 0.75).abs() < 1e-12 && (f[6] - 0.25).abs() < 1e-12);
        assert!(edges(&[f64::NAN], &[]).is_empty());
        let constant = edges(&[2.0, 2.0], &[2.0]);
        assert!(constant[0] < 2.0 && *constant.last().unwrap() > 2.0);
    }
}
