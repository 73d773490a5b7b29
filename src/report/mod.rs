//! Reports: `report.md`, a self-contained `index.html` and one SVG per plot,
//! rendered from a run directory's result files alone.
//!
//! This room reads `manifest.json` and the result tables, aggregates over
//! seeds with [`crate::metrics::mean_std`] (`tables`), draws the plots with
//! plotters (`plot`, `images`, `pca`) and writes them out as Markdown
//! ([`markdown()`]) and HTML ([`html()`]). It never recomputes a metric and
//! never imports tch, so `lossbench report <run-dir>` re-renders any earlier
//! run. [`crate::compare`], a baseline run against a candidate, is a module
//! of its own beside this one (see `docs/design.md`, "Modules of `src/`"); it
//! borrows the display order (`Order`) and the Markdown escaping
//! (`md_text`) from here, so that a comparison lists rows in the order of
//! the report and escapes Markdown alike.

mod html;
mod images;
mod markdown;
mod pca;
mod plot;
mod summary;
mod tables;
mod template;

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use crate::error::IoOp;
use crate::results::{Manifest, RunTables};
use crate::{Error, Result};

pub use html::html;
pub use markdown::markdown;
pub use plot::{plots, Plot, PlotKind};
pub use summary::summary;

use images::xml_escape;
pub(crate) use tables::md_text;

/// Renders the run in `run_dir` into `out_dir` (created if needed): one SVG
/// per plot, `report.md`, which links them by relative path, and
/// `index.html`, which inlines them and needs no other file.
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
    std::fs::create_dir_all(out_dir).map_err(|e| Error::fs(IoOp::CreateDir, out_dir, e))?;

    let plots = plots(&tables)?;
    for p in &plots {
        write(&out_dir.join(&p.file_name), &p.svg)?;
    }
    write(
        &out_dir.join("index.html"),
        &html(&manifest, &tables, &plots),
    )?;
    let path = out_dir.join("report.md");
    write(&path, &markdown(&manifest, &tables, &plots))?;
    Ok(path)
}

/// Each report file is replaced whole (temp file and rename), so two runs
/// rendering one report at once leave one of the two, never a mix.
fn write(path: &Path, text: &str) -> Result<()> {
    crate::results::store::write_atomic(path, text.as_bytes())
}

/// Creates `dir` if needed and checks that a file can be written in it, so
/// a run finds a report directory it cannot write before it trains.
///
/// # Errors
///
/// [`Error::Io`] naming the directory.
pub fn check_writable(dir: &Path) -> Result<()> {
    let err = |e| Error::fs(IoOp::ReportDir, dir, e);
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = crate::results::store::tmp_path(&dir.join(".write-check"));
    std::fs::File::create(&probe).map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)
}

/// Where `lossbench report` writes without `--out`:
/// `<reports>/<suite>/<run-id>`, from the run's manifest. Both names come
/// from a file, so each must be a plain name (see
/// [`crate::results::is_plain_name`]): a manifest cannot send the report
/// outside `reports`.
///
/// # Errors
///
/// [`Error::Results`] naming the manifest and the field.
pub fn default_dir(reports: &Path, run_dir: &Path, m: &Manifest) -> Result<PathBuf> {
    for (field, value) in [("suite_name", &m.suite_name), ("run_id", &m.run_id)] {
        if !crate::results::is_plain_name(value) {
            return Err(Error::Results {
                file: Manifest::path(run_dir),
                msg: format!(
                    "{field} {value:?} cannot name a report directory (1 to {} lowercase \
                     letters, digits, `_` and `-`); give the report's place with --out",
                    crate::results::MAX_NAME_LEN
                ),
            });
        }
    }
    Ok(reports.join(&m.suite_name).join(&m.run_id))
}

/// Losses with a fixed place (and colour), in this order; others follow in
/// order of first appearance.
const KNOWN_LOSSES: [&str; 4] = ["softmax", "center", "lsoftmax", "lgm"];

/// Colours by loss rank (matplotlib's tab10): softmax, center, lsoftmax, lgm,
/// then the others. Every plot and table takes a loss's colour from here.
const LOSS_PALETTE: [RGBColor; 10] = [
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
    /// (loss, covariance) of every `lgm` loss of the jobs, from each job's
    /// resolved configuration.
    covariance: Vec<(String, String)>,
}

fn push_new(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

fn rank(list: &[String], value: &str) -> usize {
    list.iter().position(|v| v == value).unwrap_or(usize::MAX)
}

/// The label of an adaptive attack without its `,against=...` and
/// `,kappa=...` parameters: its non-adaptive twin. `None` for a label
/// without `,against=`.
pub(crate) fn non_adaptive_twin(label: &str) -> Option<String> {
    let at = label.find(",against=")?;
    let rest = &label[at + 1..];
    let end = rest
        .find(",kappa=")
        .and_then(|k| rest[k + 1..].find([',', ')']).map(|e| k + 1 + e))
        .unwrap_or(rest.len() - 1);
    Some(format!("{}{}", &label[..at], &rest[end..]))
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
            if let Some(cov) = lgm_covariance(&j.config) {
                if !o.covariance.iter().any(|(loss, _)| *loss == j.loss) {
                    o.covariance.push((j.loss.clone(), cov));
                }
            }
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
        for r in &t.scores {
            push_new(&mut o.losses, &r.loss);
            push_new(&mut o.attacks, &r.attack);
            push_new(&mut o.detectors, &r.detector);
        }
        for r in &t.examples {
            push_new(&mut o.losses, &r.loss);
            push_new(&mut o.attacks, &r.attack);
        }
        for r in &t.features {
            push_new(&mut o.losses, &r.loss);
        }
        // An adaptive attack right after its non-adaptive twin.
        for adaptive in o.attacks.clone() {
            let Some(twin) = non_adaptive_twin(&adaptive) else {
                continue;
            };
            if o.attacks.contains(&twin) {
                o.attacks.retain(|a| *a != adaptive);
                let at = rank(&o.attacks, &twin) + 1;
                o.attacks.insert(at, adaptive);
            }
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

    /// The loss as the report's tables name it: an `lgm` loss with the
    /// covariance its jobs used, `lgm (covariance: diagonal)`; any other as
    /// it is.
    pub(crate) fn loss_label(&self, loss: &str) -> String {
        match self.covariance.iter().find(|(l, _)| l == loss) {
            Some((_, cov)) => format!("{loss} (covariance: {cov})"),
            None => loss.to_owned(),
        }
    }

    /// The loss's colour, the same in every plot and table of a report;
    /// `loss` may be its name or its [`Order::loss_label`].
    pub(crate) fn loss_colour(&self, loss: &str) -> RGBColor {
        let name = self
            .covariance
            .iter()
            .map(|(l, _)| l.as_str())
            .find(|l| self.loss_label(l) == loss)
            .unwrap_or(loss);
        LOSS_PALETTE[self.loss_rank(name) % LOSS_PALETTE.len()]
    }
}

/// The `covariance` of an `lgm` loss in a job's resolved configuration (the
/// `config` column of `jobs`); `None` for another loss or a configuration
/// that does not say.
fn lgm_covariance(config: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(config).ok()?;
    // A labelled loss is `{label, spec}`, an unlabelled one the bare spec.
    let loss = &value["loss"];
    let spec = if loss["spec"].is_object() {
        &loss["spec"]
    } else {
        loss
    };
    spec["lgm"]["covariance"].as_str().map(str::to_owned)
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

#[cfg(test)]
mod twin_tests {
    use super::non_adaptive_twin;

    #[test]
    fn an_adaptive_label_without_its_detector_is_its_twin() {
        assert_eq!(
            non_adaptive_twin("pgd(eps=0.1,norm=linf,a=0.025,T=10,R=1,start=random,against=lgm-likelihood,kappa=1)")
                .as_deref(),
            Some("pgd(eps=0.1,norm=linf,a=0.025,T=10,R=1,start=random)")
        );
        assert_eq!(
            non_adaptive_twin("x-pgd(eps=0.1,against=kd,kappa=0.5)").as_deref(),
            Some("x-pgd(eps=0.1)")
        );
        assert_eq!(
            non_adaptive_twin("bim(eps=0.1,a=0.025,T=10,stop=last)"),
            None
        );
    }
}
