//! ROC plots: one SVG per attack (per dataset and model when a run has
//! several), one curve per loss × detector over the stored, downsampled `roc`
//! rows of subset `successful`.
//!
//! Seeds are not pooled: each curve is the lowest seed's, and the legend says
//! which seed it is. Colours are keyed by loss ([`super::KNOWN_LOSSES`] first),
//! the line pattern by detector.

use std::collections::HashMap;

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{sanitise, Order};
use crate::results::{RocRow, RunTables};
use crate::{Error, Result};

/// Colours by loss rank: softmax, center, lsoftmax, lgm, then the others.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// The subset whose curves are plotted (SPEC §3).
const SUBSET: &str = "successful";

/// One rendered plot.
#[derive(Debug, Clone, PartialEq)]
pub struct RocPlot {
    /// The attack as written in the tables, e.g. `fgsm(eps=0.1)`.
    pub attack: String,
    /// `dataset / model` when the run has several such pairs, else empty.
    pub scope: String,
    /// `roc_<attack>.svg` (sanitised), unique within the report.
    pub file_name: String,
    /// The SVG document.
    pub svg: String,
}

/// One curve: a job's points for one detector.
struct Curve<'a> {
    loss: &'a str,
    detector: &'a str,
    seed: u64,
    points: Vec<(f64, f64)>,
}

/// Renders a plot per attack (and per dataset/model pair when there are
/// several) from the `roc` rows of subset `successful`.
///
/// # Errors
///
/// [`Error::Io`] when plotters fails to draw.
pub fn roc_plots(t: &RunTables) -> Result<Vec<RocPlot>> {
    let order = Order::new(t);
    // roc rows carry no dataset/model: the jobs table has them.
    let scope_of: HashMap<&str, (&str, &str)> = t
        .jobs
        .iter()
        .map(|j| (j.job_id.as_str(), (j.dataset.as_str(), j.model.as_str())))
        .collect();
    let scope = |r: &RocRow| {
        scope_of
            .get(r.job_id.as_str())
            .copied()
            .unwrap_or(("?", "?"))
    };

    let rows: Vec<&RocRow> = t.roc.iter().filter(|r| r.subset == SUBSET).collect();
    let mut panels: Vec<((&str, &str), &str)> = Vec::new();
    for r in &rows {
        let p = (scope(r), r.attack.as_str());
        if !panels.contains(&p) {
            panels.push(p);
        }
    }
    panels.sort_by_key(|&((d, m), a)| order.key(d, m, "", a, ""));
    let many_scopes = panels.iter().any(|(s, _)| *s != panels[0].0);

    let mut plots: Vec<RocPlot> = Vec::new();
    for &((dataset, model), attack) in &panels {
        let panel_rows = rows
            .iter()
            .copied()
            .filter(|r| r.attack == attack && scope(r) == (dataset, model));
        let curves = lowest_seed_curves(panel_rows, &order);
        let scope_label = if many_scopes {
            format!("{dataset} / {model}")
        } else {
            String::new()
        };
        let stem = if many_scopes {
            format!("roc_{}_{}", sanitise(&scope_label), sanitise(attack))
        } else {
            format!("roc_{}", sanitise(attack))
        };
        let mut file_name = format!("{stem}.svg");
        let mut k = 2;
        while plots.iter().any(|p| p.file_name == file_name) {
            file_name = format!("{stem}_{k}.svg");
            k += 1;
        }
        let title = if many_scopes {
            format!("ROC: {attack}, {scope_label}")
        } else {
            format!("ROC: {attack}")
        };
        let svg = draw(&title, &curves, &order)
            .map_err(|e| Error::io("cannot render plot", &file_name, std::io::Error::other(e)))?;
        plots.push(RocPlot {
            attack: attack.to_owned(),
            scope: scope_label,
            file_name,
            svg,
        });
    }
    Ok(plots)
}

/// For every (loss, detector), the curve of the job with the lowest seed,
/// in legend order (loss, then detector).
fn lowest_seed_curves<'a>(rows: impl Iterator<Item = &'a RocRow>, order: &Order) -> Vec<Curve<'a>> {
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
    curves.sort_by_key(|c| order.key("", "", c.loss, "", c.detector));
    curves
}

/// Draws the chart into an SVG string.
fn draw(title: &str, curves: &[Curve<'_>], order: &Order) -> std::result::Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("false positive rate")
            .y_desc("true positive rate")
            .draw()
            .map_err(|e| e.to_string())?;

        let chance = RGBColor(0x99, 0x99, 0x99);
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                6,
                4,
                chance.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label("chance")
            .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 20, y)], 6, 4, chance));

        // Detectors in the order they first appear in this plot: the first is
        // solid, later ones dashed with longer and longer dashes.
        let mut detectors: Vec<&str> = Vec::new();
        for c in curves {
            if !detectors.contains(&c.detector) {
                detectors.push(c.detector);
            }
        }
        for c in curves {
            let colour = PALETTE[order.loss_rank(c.loss) % PALETTE.len()];
            let style = colour.stroke_width(2);
            let label = format!("{} / {} (seed {})", c.loss, c.detector, c.seed);
            let dash = detectors.iter().position(|d| *d == c.detector).unwrap_or(0) as u32;
            if dash == 0 {
                chart
                    .draw_series(LineSeries::new(c.points.iter().copied(), style))
                    .map_err(|e| e.to_string())?
                    .label(label)
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            } else {
                let size = 2 + 3 * dash;
                chart
                    .draw_series(DashedLineSeries::new(
                        c.points.iter().copied(),
                        size,
                        4,
                        style,
                    ))
                    .map_err(|e| e.to_string())?
                    .label(label)
                    .legend(move |(x, y)| {
                        DashedPathElement::new([(x, y), (x + 20, y)], size, 4, style)
                    });
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
