//! Every plot of a report, drawn with plotters into SVG strings: training
//! curves, robust accuracy against ε, ROC curves, detector score histograms,
//! the feature distribution and the adversarial example grid.
//!
//! A loss has one colour everywhere ([`Order::loss_colour`]); legends sit in
//! a strip right of the chart ([`legend`]) so they never hide a curve. When a
//! run holds several dataset / model pairs ("scopes"), each plot is drawn per
//! scope and its title names it.

mod eps;
mod features;
mod legend;
mod roc;
mod scores;
mod train;

use std::collections::HashMap;
use std::fmt::Display;

use super::{sanitise, Order};
use crate::error::IoOp;
use crate::results::{JobRow, RunTables};
use crate::{Error, Result};

/// What a plot shows; the report has one section per kind, in [`PlotKind::ALL`]
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    Training,
    RobustAccuracy,
    Roc,
    /// ROC curves of the abnormal inputs (docs/definitions.md §5).
    OodRoc,
    Scores,
    Features,
    Examples,
}

impl PlotKind {
    /// Section order.
    pub const ALL: [PlotKind; 7] = [
        PlotKind::Training,
        PlotKind::RobustAccuracy,
        PlotKind::Roc,
        PlotKind::OodRoc,
        PlotKind::Scores,
        PlotKind::Features,
        PlotKind::Examples,
    ];

    /// The section heading.
    pub fn heading(self) -> &'static str {
        match self {
            PlotKind::Training => "Training curves",
            PlotKind::RobustAccuracy => "Robust accuracy against ε",
            PlotKind::Roc => "ROC curves",
            PlotKind::OodRoc => "ROC curves, abnormal inputs",
            PlotKind::Scores => "Detector scores",
            PlotKind::Features => "Feature distribution",
            PlotKind::Examples => "Adversarial examples",
        }
    }

    /// The HTML anchor of the section.
    pub fn id(self) -> &'static str {
        match self {
            PlotKind::Training => "training",
            PlotKind::RobustAccuracy => "robust-accuracy",
            PlotKind::Roc => "roc",
            PlotKind::OodRoc => "roc-ood",
            PlotKind::Scores => "scores",
            PlotKind::Features => "features",
            PlotKind::Examples => "examples",
        }
    }

    /// What every plot of the section shows.
    pub fn note(self) -> &'static str {
        match self {
            PlotKind::Training => {
                "Training loss (left) and training accuracy (right) per epoch, one line \
                 per loss and seed (line pattern by seed). The loss axis is logarithmic \
                 when the losses span more than a factor of 10; the accuracy axis is \
                 zoomed to the values."
            }
            PlotKind::RobustAccuracy => {
                "Robust accuracy against the attack budget ε, one line per loss, mean \
                 over seeds (bars: ± one standard deviation when there are several); one \
                 plot per attack family (its other parameters fixed). At ε = 0 the \
                 point is the clean accuracy on the whole test set; with `attack-subset` \
                 the other points are over that sample only."
            }
            PlotKind::Roc => {
                "Subset `successful`; one curve per loss and detector, from the lowest \
                 seed (named in the legend); stored curves are downsampled."
            }
            PlotKind::OodRoc => {
                "Abnormal inputs (positives) against the in-distribution test samples \
                 (negatives), one plot per source (docs/definitions.md §5); one curve per \
                 loss and detector, from the lowest seed (named in the legend); stored \
                 curves are downsampled."
            }
            PlotKind::Scores => {
                "Detector scores of the held-out test split (docs/definitions.md §3), lowest seed: \
                 clean inputs (grey) against their successful adversarial counterparts \
                 (the loss's colour), as fractions of each group; one panel per loss."
            }
            PlotKind::Features => {
                "The sampled test features of the lowest seed, coloured by true class: \
                 the two feature dimensions when D = 2, else their projection on the \
                 two leading principal components (axes give the variance explained)."
            }
            PlotKind::Examples => {
                "Per loss (lowest seed): clean images with their true class, adversarial \
                 images with the prediction on them (red: the attack succeeded), and the \
                 perturbation rescaled around mid-grey."
            }
        }
    }

    /// Whether the section is left out of a report without plots of its
    /// kind (rather than saying there are none): the abnormal inputs, which
    /// most suites do not have.
    pub fn optional(self) -> bool {
        self == PlotKind::OodRoc
    }

    /// The text shown when a run has no plot of this kind.
    pub fn missing(self) -> &'static str {
        match self {
            PlotKind::Training => "No training log recorded.",
            PlotKind::RobustAccuracy => "No attack with an ε recorded.",
            PlotKind::Roc => "No ROC curves of adversarial examples recorded.",
            PlotKind::OodRoc => "No abnormal inputs in this run.",
            PlotKind::Scores => "No detector scores of adversarial examples recorded (the scores of abnormal inputs are in the scores table, split `ood`).",
            PlotKind::Features => "No features recorded.",
            PlotKind::Examples => "No adversarial examples recorded.",
        }
    }
}

/// One rendered plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    pub kind: PlotKind,
    /// The title drawn in the plot, also its alt text.
    pub title: String,
    /// `<kind>_<what>.svg` (sanitised), unique within the report.
    pub file_name: String,
    /// The SVG document.
    pub svg: String,
}

/// Renders every plot the tables allow, in section order.
///
/// # Errors
///
/// [`Error::Io`] when plotters fails to draw; [`Error::Results`] when an
/// example image's pixels are malformed.
pub fn plots(t: &RunTables) -> Result<Vec<Plot>> {
    let ctx = Ctx::new(t);
    let mut out = Plots::default();
    train::plots(&ctx, t, &mut out)?;
    eps::plots(&ctx, t, &mut out)?;
    roc::plots(&ctx, t, &mut out)?;
    roc::ood_plots(&ctx, t, &mut out)?;
    scores::plots(&ctx, t, &mut out)?;
    features::plots(&ctx, t, &mut out)?;
    super::images::plots(&ctx, t, &mut out)?;
    Ok(out.0)
}

/// The plots rendered so far; gives each a unique file name.
#[derive(Default)]
pub(crate) struct Plots(Vec<Plot>);

impl Plots {
    /// Adds a plot drawn by `draw`, saved as `<stem>.svg` (or `<stem>_2.svg`,
    /// … when taken).
    pub(crate) fn push(
        &mut self,
        kind: PlotKind,
        title: String,
        stem: &str,
        draw: impl FnOnce() -> std::result::Result<String, String>,
    ) -> Result<()> {
        let mut file_name = format!("{stem}.svg");
        let mut k = 2;
        while self.0.iter().any(|p| p.file_name == file_name) {
            file_name = format!("{stem}_{k}.svg");
            k += 1;
        }
        let svg = draw().map_err(|e| {
            Error::fs(
                IoOp::Render,
                &file_name,
                std::io::Error::other(format!("{title}: {e}")),
            )
        })?;
        self.0.push(Plot {
            kind,
            title,
            file_name,
            svg,
        });
        Ok(())
    }
}

/// A plotters error as text; plots report it through [`Plots::push`].
pub(crate) fn err<E: Display>(e: E) -> String {
    e.to_string()
}

/// A (dataset, model) pair.
pub(crate) type Scope<'a> = (&'a str, &'a str);

/// The job whose rows a lowest-seed plot draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FirstJob<'a> {
    pub scope: Scope<'a>,
    pub loss: &'a str,
    pub seed: u64,
    pub job_id: &'a str,
}

/// What every plot needs: the display order and each job's scope.
pub(crate) struct Ctx<'a> {
    pub order: Order,
    jobs: HashMap<&'a str, &'a JobRow>,
    many_scopes: bool,
}

impl<'a> Ctx<'a> {
    fn new(t: &'a RunTables) -> Ctx<'a> {
        let jobs: HashMap<&str, &JobRow> = t.jobs.iter().map(|j| (j.job_id.as_str(), j)).collect();
        let first = t
            .jobs
            .first()
            .map(|j| (j.dataset.as_str(), j.model.as_str()));
        let many_scopes = t
            .jobs
            .iter()
            .any(|j| Some((j.dataset.as_str(), j.model.as_str())) != first);
        Ctx {
            order: Order::new(t),
            jobs,
            many_scopes,
        }
    }

    /// The job's (dataset, model); `("?", "?")` for a job not in `jobs`.
    pub(crate) fn scope(&self, job_id: &str) -> Scope<'a> {
        self.jobs
            .get(job_id)
            .map_or(("?", "?"), |j| (j.dataset.as_str(), j.model.as_str()))
    }

    /// `base`, followed by `, dataset / model` when the run has several.
    pub(crate) fn title(&self, base: &str, scope: Scope<'_>) -> String {
        if self.many_scopes {
            format!("{base}, {} / {}", scope.0, scope.1)
        } else {
            base.to_owned()
        }
    }

    /// A file stem: `prefix`, the scope when the run has several, `parts`.
    pub(crate) fn stem(&self, prefix: &str, scope: Scope<'_>, parts: &[&str]) -> String {
        let mut stem = prefix.to_owned();
        if self.many_scopes {
            stem.push('_');
            stem.push_str(&sanitise(&format!("{}_{}", scope.0, scope.1)));
        }
        for p in parts {
            stem.push('_');
            stem.push_str(&sanitise(p));
        }
        stem
    }

    /// Sort key of a scope.
    pub(crate) fn scope_key(&self, scope: Scope<'_>) -> [usize; 5] {
        self.order.key(scope.0, scope.1, "", "", "")
    }

    /// For every (scope, loss) among `items` (job id, loss, seed), the job
    /// with the lowest seed, in report order.
    pub(crate) fn lowest_seed(
        &self,
        items: impl Iterator<Item = (&'a str, &'a str, u64)>,
    ) -> Vec<FirstJob<'a>> {
        let mut out: Vec<FirstJob<'a>> = Vec::new();
        for (job_id, loss, seed) in items {
            let scope = self.scope(job_id);
            match out.iter_mut().find(|f| f.scope == scope && f.loss == loss) {
                Some(f) if seed < f.seed => {
                    f.seed = seed;
                    f.job_id = job_id;
                }
                Some(_) => {}
                None => out.push(FirstJob {
                    scope,
                    loss,
                    seed,
                    job_id,
                }),
            }
        }
        out.sort_by_key(|f| self.order.key(f.scope.0, f.scope.1, f.loss, "", ""));
        out
    }
}

/// Pads `(lo, hi)` by `frac` of its span on both sides; a point range gets
/// a span of 1 around it; non-finite bounds become `(0, 1)`.
pub(crate) fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        return (lo - 0.5, hi + 0.5);
    }
    (lo - frac * span, hi + frac * span)
}

/// Smallest and largest finite value, if any.
pub(crate) fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}
