//! The machine-readable renderings of a [`Comparison`]: JSON (everything),
//! JUnit XML (one test case per key, for CI test views) and
//! github-action-benchmark's `customBiggerIsBetter` file; and writing the
//! requested files. Text only: nothing here decides a verdict.

use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use super::markdown::{allowed, markdown, num, stats_cell, RULE};
use super::{Comparison, Direction, Status};
use crate::error::IoOp;
use crate::{Error, Result};

/// The whole comparison as pretty JSON: `verdict` (`pass` or `fail`),
/// `exit_code`, `counts`, `rule`, both sides, the tolerances and every row
/// with its seed values and the rule's numbers. Non-finite numbers are `null`.
pub fn json(c: &Comparison) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        verdict: &'static str,
        exit_code: u8,
        counts: super::Counts,
        rule: &'static str,
        #[serde(flatten)]
        comparison: &'a Comparison,
    }
    let out = Out {
        verdict: if c.failed() { "fail" } else { "pass" },
        exit_code: c.exit_code(),
        counts: c.counts(),
        rule: RULE,
        comparison: c,
    };
    let mut s = serde_json::to_string_pretty(&out).expect("a comparison always serialises");
    s.push('\n');
    s
}

/// JUnit XML: one `<testcase>` per row (classname `dataset.model.loss`, name
/// `metric [attack / detector / subset]`). Regressions and failing missing
/// rows are `<failure>`s; reported-only, extra and allowed missing rows are
/// `<skipped>`; within-threshold and improved rows pass. The two sides' files
/// and any warnings are `<property>`s of the one `<testsuite>`.
///
/// The document is built and written by `quick-junit` (the nextest authors'
/// serializer), so the escaping, the counts on `<testsuites>` and
/// `<testsuite>` and the element order follow a format CI test views are
/// tested against, not a hand-written one.
pub fn junit(c: &Comparison) -> String {
    let mut suite = TestSuite::new(format!(
        "lossbench compare: {} vs {}",
        c.candidate.label, c.baseline.label
    ));
    let sides = [
        ("baseline", &c.baseline.metrics_file),
        ("candidate", &c.candidate.metrics_file),
    ];
    let warnings = c.warnings.iter().map(|w| ("warning", w));
    suite.add_properties(
        sides
            .into_iter()
            .chain(warnings)
            .map(|(name, value)| Property::new(name, value)),
    );
    for r in &c.rows {
        let k = &r.key;
        let sides = format!(
            "baseline: {}\ncandidate: {}",
            stats_cell(r.baseline.as_ref()),
            stats_cell(r.candidate.as_ref())
        );
        let status = match r.status {
            Status::Regression => {
                let g = r.gate.as_ref().expect("a regression has a gate");
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type("regression")
                    .set_message(format!(
                        "{} worsened by {} (allowed {})",
                        k.metric,
                        num(g.worsening),
                        allowed(r)
                    ))
                    .set_description(sides);
                s
            }
            Status::Missing if !c.allow_missing => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type("missing")
                    .set_message("in the baseline, not in the candidate")
                    .set_description(sides);
                s
            }
            Status::Missing | Status::Extra | Status::Reported => {
                let note = r.note.as_deref().unwrap_or("");
                let why = match r.status {
                    Status::Reported => format!("reported only: {note}"),
                    _ => note.to_owned(),
                };
                let mut s = TestCaseStatus::skipped();
                s.set_message(why);
                s
            }
            Status::Ok | Status::Improved => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(
            format!(
                "{} [{} / {} / {}]",
                k.metric, k.attack, k.detector, k.subset
            ),
            status,
        );
        case.set_classname(format!("{}.{}.{}", k.dataset, k.model, k.loss));
        suite.add_test_case(case);
    }
    let mut report = Report::new("lossbench compare");
    report.add_test_suite(suite);
    report
        .to_string()
        .expect("a JUnit report in memory always serialises")
}

/// One entry of github-action-benchmark's `customBiggerIsBetter` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchEntry {
    pub name: String,
    pub unit: String,
    pub value: f64,
    /// `± std` over seeds, with two or more seeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    pub extra: String,
}

/// The candidate's metrics as `customBiggerIsBetter` entries (mean over
/// seeds), named `dataset/model/loss/attack/detector/subset: metric`.
/// Higher-is-better metrics as they are; lower-is-better fractions (`asr`,
/// `fpr_at_95tpr`) as `1 - metric` = 1 − value; `seconds` left out
/// (`images_per_s` is its bigger-is-better twin); informational metrics and
/// non-finite means left out.
pub fn benchmark_entries(c: &Comparison) -> Vec<BenchEntry> {
    let mut out = Vec::new();
    for r in &c.rows {
        let Some(s) = &r.candidate else { continue };
        if !s.mean.is_finite() {
            continue;
        }
        let Some(info) = super::metric_info(&r.key.metric) else {
            continue;
        };
        let (metric, value) = match (info.direction, info.unit) {
            (Direction::HigherIsBetter, _) => (info.name.to_owned(), s.mean),
            (Direction::LowerIsBetter, "fraction") => (format!("1 - {}", info.name), 1.0 - s.mean),
            _ => continue,
        };
        let k = &r.key;
        out.push(BenchEntry {
            name: format!(
                "{}/{}/{}/{}/{}/{}: {metric}",
                k.dataset, k.model, k.loss, k.attack, k.detector, k.subset
            ),
            unit: info.unit.to_owned(),
            value,
            range: (s.n >= 2).then(|| format!("± {}", num(s.std))),
            extra: format!(
                "mean over {} seed(s): {}",
                s.n,
                s.seeds
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    out
}

/// [`benchmark_entries`] as pretty JSON.
pub fn benchmark_json(c: &Comparison) -> String {
    let mut s = serde_json::to_string_pretty(&benchmark_entries(c))
        .expect("benchmark entries always serialise");
    s.push('\n');
    s
}

/// Output files of `lossbench compare`; `None` = not written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    pub markdown: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub benchmark_json: Option<PathBuf>,
}

/// Refuses outputs that would replace what the comparison reads: a file
/// either side was read from, or any file inside either side's run
/// directory; and two outputs given one path. Called before anything is
/// written.
///
/// # Errors
///
/// [`Error::Usage`] naming the option and the path.
pub fn check_outputs(outputs: &Outputs, inputs: &[(&str, &super::Input)]) -> Result<()> {
    let named = [
        ("--markdown", &outputs.markdown),
        ("--json", &outputs.json),
        ("--junit", &outputs.junit),
        ("--benchmark-json", &outputs.benchmark_json),
    ];
    let mut taken: Vec<(&str, PathBuf)> = Vec::new();
    for (option, path) in named {
        let Some(path) = path else { continue };
        let real = real_path(path);
        for (side, input) in inputs {
            if input.read_from.iter().any(|f| real_path(f) == real) {
                return Err(Error::Usage(format!(
                    "{option} {}: that is a file the comparison reads (the {side}'s); \
                     write the output elsewhere",
                    path.display()
                )));
            }
            if let Some(dir) = &input.run_dir {
                if real.starts_with(real_path(dir)) {
                    return Err(Error::Usage(format!(
                        "{option} {}: that is inside the {side}'s run directory {}, which \
                         lossbench owns; write the output elsewhere",
                        path.display(),
                        dir.display()
                    )));
                }
            }
        }
        if let Some((other, _)) = taken.iter().find(|(_, p)| *p == real) {
            return Err(Error::Usage(format!(
                "{option} {}: {other} writes there too; give each output its own file",
                path.display()
            )));
        }
        taken.push((option, real));
    }
    Ok(())
}

/// `path` with symbolic links and `..` resolved as far as it exists (an
/// output file usually does not exist yet: its directory is resolved and
/// its name appended).
fn real_path(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            real_path(dir).join(name)
        }
        _ => path.to_path_buf(),
    }
}

/// Writes every requested rendering of `c` (parent directories created).
///
/// # Errors
///
/// [`Error::Io`] naming the file that cannot be written.
pub fn write_outputs(c: &Comparison, outputs: &Outputs) -> Result<()> {
    type Render = fn(&Comparison) -> String;
    let renderings: [(&Option<PathBuf>, Render); 4] = [
        (&outputs.markdown, markdown),
        (&outputs.json, json),
        (&outputs.junit, junit),
        (&outputs.benchmark_json, benchmark_json),
    ];
    for (path, render) in renderings {
        let Some(path) = path else { continue };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::fs(IoOp::CreateDir, dir, e))?;
        }
        std::fs::write(path, render(c)).map_err(|e| Error::fs(IoOp::Write, path, e))?;
    }
    Ok(())
}
