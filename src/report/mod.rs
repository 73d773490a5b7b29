//! Reports: a markdown summary and ROC plots rendered from a run directory's
//! result files alone.
//!
//! This room reads `manifest.json` and the result tables, aggregates over
//! seeds with [`crate::metrics::mean_std`], and writes `report.md` beside one
//! `roc_<attack>.svg` per attack. It never recomputes a metric and never
//! imports tch, so `lossbench report <run-dir>` re-renders any earlier run.

mod markdown;
mod plot;

use std::path::{Path, PathBuf};

use crate::results::{Manifest, RunTables};
use crate::{Error, Result};

pub use markdown::markdown;
pub use plot::{roc_plots, RocPlot};

/// Renders the run in `run_dir` into `out_dir` (created if needed): one SVG
/// per attack and `report.md`, which links them by relative path.
///
/// Returns the path of `report.md`.
///
/// # Errors
///
/// [`Error::Results`] when `run_dir` is not a run directory or a table or
/// the manifest is malformed; [`Error::Io`] when a file cannot be written.
pub fn render(run_dir: &Path, out_dir: &Path) -> Result<PathBuf> {
    let tables = RunTables::read(run_dir)?;
    let manifest = Manifest::read(run_dir)?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| Error::io("cannot create directory", out_dir, e))?;

    let plots = roc_plots(&tables)?;
    for p in &plots {
        let path = out_dir.join(&p.file_name);
        std::fs::write(&path, &p.svg).map_err(|e| Error::io("cannot write", &path, e))?;
    }
    let path = out_dir.join("report.md");
    std::fs::write(&path, markdown(&manifest, &tables, &plots))
        .map_err(|e| Error::io("cannot write", &path, e))?;
    Ok(path)
}

/// Losses with a fixed place (and colour), in this order; others follow in
/// order of first appearance.
const KNOWN_LOSSES: [&str; 4] = ["softmax", "center", "lsoftmax", "lgm"];

/// The display order of every dimension: first appearance in the tables,
/// except losses, which put [`KNOWN_LOSSES`] first so that each keeps its
/// row position and colour from report to report.
#[derive(Debug, Default)]
pub(crate) struct Order {
    datasets: Vec<String>,
    models: Vec<String>,
    losses: Vec<String>,
    attacks: Vec<String>,
    detectors: Vec<String>,
}

fn push_new(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

fn rank(list: &[String], value: &str) -> usize {
    list.iter().position(|v| v == value).unwrap_or(usize::MAX)
}

impl Order {
    pub(crate) fn new(t: &RunTables) -> Order {
        let mut o = Order::default();
        for loss in KNOWN_LOSSES {
            o.losses.push(loss.to_owned());
        }
        for j in &t.jobs {
            push_new(&mut o.datasets, &j.dataset);
            push_new(&mut o.models, &j.model);
            push_new(&mut o.losses, &j.loss);
        }
        for m in &t.metrics {
            push_new(&mut o.datasets, &m.dataset);
            push_new(&mut o.models, &m.model);
            push_new(&mut o.losses, &m.loss);
            push_new(&mut o.attacks, &m.attack);
            push_new(&mut o.detectors, &m.detector);
        }
        for r in &t.roc {
            push_new(&mut o.losses, &r.loss);
            push_new(&mut o.attacks, &r.attack);
            push_new(&mut o.detectors, &r.detector);
        }
        o
    }

    /// Sort key of a (dataset, model, loss, attack, detector) combination.
    pub(crate) fn key(
        &self,
        dataset: &str,
        model: &str,
        loss: &str,
        attack: &str,
        detector: &str,
    ) -> [usize; 5] {
        [
            rank(&self.datasets, dataset),
            rank(&self.models, model),
            rank(&self.losses, loss),
            rank(&self.attacks, attack),
            rank(&self.detectors, detector),
        ]
    }

    /// The loss's place in the fixed palette order.
    pub(crate) fn loss_rank(&self, loss: &str) -> usize {
        rank(&self.losses, loss)
    }
}

/// `value` as a file-name fragment: runs of characters other than ASCII
/// letters, digits, `.` and `-` become one `_`, trimmed at both ends
/// (`fgsm(eps=0.1)` → `fgsm_eps_0.1`).
pub(crate) fn sanitise(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    if trimmed.is_empty() {
        "unnamed".to_owned()
    } else {
        trimmed.to_owned()
    }
}
