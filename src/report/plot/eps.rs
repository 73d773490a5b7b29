//! Robust accuracy against the attack budget ε: one plot per attack family
//! (the attack label without its `eps`, e.g. `fgsm`, or
//! `bim(a=0.01,T=10,stop=first)`), one line per loss through the mean over
//! seeds at each ε, anchored at ε = 0 by the clean accuracy.
//!
//! ε is read back from the attack label the runner writes (`fgsm(eps=0.1)`,
//! `bim(eps=0.1,a=…,T=…,stop=…)`); attacks without one (DeepFool) have no
//! plot here.

use plotters::prelude::*;

use super::legend::{
    draw_legend, draw_line, legend_width, title_width, Entry, Swatch, AXIS_SIZE, FONT, LIGHT_GRID,
    TICK_SIZE, TITLE_SIZE,
};
use super::{err, Ctx, PlotKind, Plots, Scope};
use crate::metrics::mean_std;
use crate::results::RunTables;
use crate::Result;

/// The attack family (the label without `eps`) and ε of an attack label;
/// `None` when the label has no parseable `eps`.
pub(crate) fn split_eps(label: &str) -> Option<(String, f64)> {
    let open = label.find('(')?;
    let inner = label[open + 1..].strip_suffix(')')?;
    let name = label[..open].trim();
    let mut eps = None;
    let mut rest = Vec::new();
    for part in inner.split(',') {
        let (k, v) = part.split_once('=')?;
        if k.trim() == "eps" {
            eps = Some(v.trim().parse::<f64>().ok()?);
        } else {
            rest.push(part.trim());
        }
    }
    let family = if rest.is_empty() {
        name.to_owned()
    } else {
        format!("{name}({})", rest.join(","))
    };
    eps.filter(|e| e.is_finite()).map(|e| (family, e))
}

/// One loss's line: ε → values over seeds.
struct Line<'a> {
    loss: &'a str,
    points: Vec<(f64, Vec<f64>)>,
}

impl Line<'_> {
    fn add(&mut self, eps: f64, value: f64) {
        match self.points.iter_mut().find(|(e, _)| *e == eps) {
            Some((_, v)) => v.push(value),
            None => self.points.push((eps, vec![value])),
        }
    }
}

/// Adds one plot per (scope, attack family) that has at least one ε.
pub(super) fn plots(ctx: &Ctx<'_>, t: &RunTables, out: &mut Plots) -> Result<()> {
    type Panel<'a> = (Scope<'a>, String, Vec<Line<'a>>);
    let mut panels: Vec<Panel<'_>> = Vec::new();
    for r in &t.metrics {
        if r.detector != "none" || r.metric != "robust_acc" {
            continue;
        }
        let Some((family, eps)) = split_eps(&r.attack) else {
            continue;
        };
        let scope = (r.dataset.as_str(), r.model.as_str());
        let i = match panels
            .iter()
            .position(|(s, f, _)| *s == scope && *f == family)
        {
            Some(i) => i,
            None => {
                panels.push((scope, family, Vec::new()));
                panels.len() - 1
            }
        };
        let lines = &mut panels[i].2;
        let line = match lines.iter().position(|l| l.loss == r.loss) {
            Some(k) => &mut lines[k],
            None => {
                lines.push(Line {
                    loss: &r.loss,
                    points: Vec::new(),
                });
                lines.last_mut().expect("just pushed")
            }
        };
        line.add(eps, r.value);
    }
    // ε = 0: the clean accuracy of the same jobs.
    for (scope, _, lines) in &mut panels {
        for line in lines.iter_mut() {
            for r in &t.metrics {
                if (r.dataset.as_str(), r.model.as_str()) == *scope
                    && r.loss == line.loss
                    && r.metric == "clean_acc"
                    && r.attack == "none"
                {
                    line.add(0.0, r.value);
                }
            }
            line.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        lines.sort_by_key(|l| ctx.order.loss_rank(l.loss));
    }
    panels.sort_by(|a, b| {
        ctx.scope_key(a.0)
            .cmp(&ctx.scope_key(b.0))
            .then_with(|| family_rank(&a.1).cmp(&family_rank(&b.1)))
            .then_with(|| a.1.cmp(&b.1))
    });
    for (scope, family, lines) in &panels {
        let title = ctx.title(&format!("Robust accuracy vs ε: {family}"), *scope);
        let stem = ctx.stem("robust_acc", *scope, &[family]);
        out.push(PlotKind::RobustAccuracy, title.clone(), &stem, || {
            draw(&title, lines, ctx)
        })?;
    }
    Ok(())
}

/// FGSM before BIM before the rest.
fn family_rank(family: &str) -> usize {
    if family.starts_with("fgsm") {
        0
    } else if family.starts_with("bim") {
        1
    } else {
        2
    }
}

fn draw(title: &str, lines: &[Line<'_>], ctx: &Ctx<'_>) -> std::result::Result<String, String> {
    let entries: Vec<Entry> = lines
        .iter()
        .map(|l| {
            Entry::new(
                l.loss,
                Swatch::Line {
                    colour: ctx.order.loss_colour(l.loss),
                    dash: 0,
                },
            )
        })
        .collect();
    let max_eps = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(0.0f64, f64::max);
    let x_hi = if max_eps > 0.0 { max_eps * 1.06 } else { 1.0 };
    let chart_w = 500;
    let lw = legend_width("loss", &entries).max(title_width(title).saturating_sub(chart_w));

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (chart_w + lw, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let body = root.titled(title, (FONT, TITLE_SIZE)).map_err(err)?;
        let (left, right) = body.split_horizontally(chart_w);
        let mut chart = ChartBuilder::on(&left)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..x_hi, 0f64..1.02f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("ε (L∞ budget)")
            .y_desc("robust accuracy")
            .axis_desc_style((FONT, AXIS_SIZE))
            .label_style((FONT, TICK_SIZE))
            .light_line_style(LIGHT_GRID)
            .draw()
            .map_err(err)?;
        for l in lines {
            let colour = ctx.order.loss_colour(l.loss);
            let means: Vec<(f64, f64, f64, usize)> = l
                .points
                .iter()
                .map(|(e, v)| {
                    let (m, s, n) = mean_std(v);
                    (*e, m, s, n)
                })
                .collect();
            let xy: Vec<(f64, f64)> = means.iter().map(|p| (p.0, p.1)).collect();
            draw_line(&mut chart, &xy, colour, 0)?;
            chart
                .draw_series(xy.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(err)?;
            chart
                .draw_series(means.iter().filter(|p| p.3 > 1).map(|&(e, m, s, _)| {
                    ErrorBar::new_vertical(e, m - s, m, m + s, colour.stroke_width(1), 8)
                }))
                .map_err(err)?;
        }
        draw_legend(&right, (0, 20), "loss", &entries, false)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::split_eps;

    #[test]
    fn eps_is_read_from_attack_labels() {
        assert_eq!(split_eps("fgsm(eps=0.1)"), Some(("fgsm".into(), 0.1)));
        assert_eq!(
            split_eps("bim(eps=0.3,a=0.01,T=40,stop=first)"),
            Some(("bim(a=0.01,T=40,stop=first)".into(), 0.3))
        );
        assert_eq!(split_eps("deepfool(overshoot=0.02,max_iter=50)"), None);
        assert_eq!(split_eps("fgsm(eps=nan)"), None);
        assert_eq!(split_eps("none"), None);
        assert_eq!(split_eps("fgsm(eps=0.1"), None);
    }
}
