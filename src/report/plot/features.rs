//! The feature-distribution figure (as in the L-GM paper): per scope and
//! loss, the sampled test features of the lowest seed as a scatter coloured
//! by true class; the raw two dimensions when D = 2, else the projection on
//! the two leading principal components ([`crate::report::pca`]).
//!
//! Both axes share one scale, so clusters keep their shape: a round cluster
//! looks round, as in the paper's figure.

use std::collections::BTreeMap;

use plotters::prelude::*;

use super::legend::{
    draw_legend, legend_width, title_width, Entry, Swatch, AXIS_SIZE, FONT, LIGHT_GRID, TICK_SIZE,
    TITLE_SIZE,
};
use super::{err, finite_range, padded, Ctx, FirstJob, PlotKind, Plots};
use crate::report::pca::pca2;
use crate::results::RunTables;
use crate::Result;

/// Colours by class (Tableau 10): a palette apart from the loss colours,
/// since here colour means class, not loss.
const CLASS_PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0x3b, 0x3b, 0x3b),
];
/// Legend rows at most; more classes are summarised in one row.
const MAX_CLASSES_LISTED: usize = 20;

/// The class's colour.
fn class_colour(label: u64) -> RGBColor {
    CLASS_PALETTE[(label % CLASS_PALETTE.len() as u64) as usize]
}

/// One job's sampled features: per sample its label and feature vector.
struct Sample {
    label: u64,
    values: Vec<f64>,
}

/// The points to draw and their axis names.
struct Scatter {
    points: Vec<(f64, f64, u64)>,
    x_desc: String,
    y_desc: String,
}

/// Adds one plot per (scope, loss) with features.
pub(super) fn plots(ctx: &Ctx<'_>, t: &RunTables, out: &mut Plots) -> Result<()> {
    let firsts = ctx.lowest_seed(
        t.features
            .iter()
            .map(|r| (r.job_id.as_str(), r.loss.as_str(), r.seed)),
    );
    for job in &firsts {
        let mut samples: BTreeMap<u64, (u64, BTreeMap<u64, f64>)> = BTreeMap::new();
        for r in t.features.iter().filter(|r| r.job_id == job.job_id) {
            let entry = samples
                .entry(r.sample)
                .or_insert((r.label, BTreeMap::new()));
            entry.1.insert(r.dim, r.value);
        }
        let dims = samples
            .values()
            .flat_map(|(_, v)| v.keys().copied())
            .max()
            .map_or(0, |m| m as usize + 1);
        // A sample missing a dimension (or with a non-finite value) is left out.
        let samples: Vec<Sample> = samples
            .into_values()
            .filter(|(_, v)| v.len() == dims && v.values().all(|x| x.is_finite()))
            .map(|(label, v)| Sample {
                label,
                values: v.into_values().collect(),
            })
            .collect();
        if samples.is_empty() {
            continue;
        }
        let scatter = scatter(&samples, dims);
        let what = if dims > 2 {
            format!("seed {}, PCA of {dims}-D", job.seed)
        } else {
            format!("seed {}, {dims}-D", job.seed)
        };
        let title = ctx.title(&format!("Features: {} ({what})", job.loss), job.scope);
        let stem = ctx.stem("features", job.scope, &[job.loss]);
        out.push(PlotKind::Features, title.clone(), &stem, || {
            draw(&title, job, &scatter, ctx)
        })?;
    }
    Ok(())
}

fn scatter(samples: &[Sample], dims: usize) -> Scatter {
    if dims > 2 {
        let rows: Vec<Vec<f64>> = samples.iter().map(|s| s.values.clone()).collect();
        let p = pca2(&rows);
        Scatter {
            points: p
                .points
                .iter()
                .zip(samples)
                .map(|(q, s)| (q[0], q[1], s.label))
                .collect(),
            x_desc: format!("PC 1 ({:.1} % of variance)", 100.0 * p.explained[0]),
            y_desc: format!("PC 2 ({:.1} % of variance)", 100.0 * p.explained[1]),
        }
    } else {
        Scatter {
            points: samples
                .iter()
                .map(|s| {
                    (
                        s.values[0],
                        s.values.get(1).copied().unwrap_or(0.0),
                        s.label,
                    )
                })
                .collect(),
            x_desc: "feature 0".into(),
            y_desc: if dims == 2 {
                "feature 1".into()
            } else {
                "(one-dimensional features)".into()
            },
        }
    }
}

fn draw(
    title: &str,
    job: &FirstJob<'_>,
    s: &Scatter,
    ctx: &Ctx<'_>,
) -> std::result::Result<String, String> {
    let mut labels: Vec<u64> = s.points.iter().map(|p| p.2).collect();
    labels.sort_unstable();
    labels.dedup();
    let mut entries: Vec<Entry> = labels
        .iter()
        .take(MAX_CLASSES_LISTED)
        .map(|&l| {
            let name = crate::data::class_name(job.scope.0, l)
                .map_or_else(|| format!("class {l}"), |n| format!("{l} {n}"));
            Entry::new(name, Swatch::Marker(class_colour(l)))
        })
        .collect();
    if labels.len() > MAX_CLASSES_LISTED {
        entries.push(Entry::new(
            format!("… {} more", labels.len() - MAX_CLASSES_LISTED),
            Swatch::Marker(WHITE),
        ));
    }
    let legend_title = if labels.len() > CLASS_PALETTE.len() {
        "class (colours repeat)"
    } else {
        "true class"
    };

    // One scale for both axes, centred on the data.
    let (x_lo, x_hi) = finite_range(s.points.iter().map(|p| p.0)).unwrap_or((0.0, 1.0));
    let (y_lo, y_hi) = finite_range(s.points.iter().map(|p| p.1)).unwrap_or((0.0, 1.0));
    let half = ((x_hi - x_lo).max(y_hi - y_lo) / 2.0) * 1.08;
    let (cx, cy) = ((x_lo + x_hi) / 2.0, (y_lo + y_hi) / 2.0);
    let (x0, x1) = padded(cx - half, cx + half, 0.0);
    let (y0, y1) = padded(cy - half, cy + half, 0.0);

    let chart_w = 500;
    let lw = legend_width(legend_title, &entries).max(title_width(title).saturating_sub(chart_w));
    let colour = ctx.order.loss_colour(job.loss);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (chart_w + lw, 530)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let body = root
            .titled(title, (FONT, TITLE_SIZE).into_font().color(&colour))
            .map_err(err)?;
        let (left, right) = body.split_horizontally(chart_w);
        let mut chart = ChartBuilder::on(&left)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(s.x_desc.as_str())
            .y_desc(s.y_desc.as_str())
            .axis_desc_style((FONT, AXIS_SIZE))
            .label_style((FONT, TICK_SIZE))
            .light_line_style(LIGHT_GRID)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                s.points
                    .iter()
                    .map(|&(x, y, l)| Circle::new((x, y), 3, class_colour(l).mix(0.75).filled())),
            )
            .map_err(err)?;
        draw_legend(&right, (0, 20), legend_title, &entries, false)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
