//! `lossbench compare`: a baseline run's metrics against a candidate's, a
//! verdict per metric and an exit code a CI job can gate on.
//!
//! This room reads `metrics` tables (parquet or CSV, through [`input`]) and,
//! when present, the `manifest.json` beside them; it never recomputes a metric
//! and knows nothing of tch. Rows are joined on (dataset, model, loss, attack,
//! detector, subset, metric) and aggregated over seeds (mean, sample std, n);
//! [`rule`] decides each verdict; [`markdown`](mod@markdown) and [`export`]
//! write Markdown, JSON, JUnit XML and the github-action-benchmark file.
//!
//! # Metric directions
//!
//! The one table of directions ([`METRICS`], in [`direction`](mod@direction);
//! the README repeats it):
//!
//! ```text
//! higher is better   clean_acc robust_acc auroc aupr det_acc auroc_ci_low auroc_ci_high
//!                    images_per_s (timing)
//! lower is better    asr (the defender's view: fewer successful attacks) fpr_at_95tpr
//!                    seconds (timing)
//! informational      n_eval n_pairs iters_mean l2_mean l2_median linf_mean lgm_mean_dist
//!                    lgm_mean_dist_max lgm_class_sep lgm_mean_dist_rel kd_sigma lr_c, and any
//!                    metric not in the table: compared and shown, never a regression
//! ```
//!
//! # Which metrics are gated
//!
//! A metric's tolerance comes from `--tolerance metric=value` (wins), else the
//! candidate's `manifest.json` (`suite.regression.tolerances`, the suite's
//! `regression:` section), else the baseline's `manifest.json`, else
//! `--default-tolerance` (directional, non-timing metrics only); each
//! tolerance records its [`ToleranceSource`] ([`resolve`]). A metric with no
//! tolerance is compared and reported, never gated. Timing metrics (`seconds`, `images_per_s`) vary from run to run even
//! on one machine, so they are gated only when a tolerance names them
//! explicitly (CLI or suite); informational metrics are never gated.
//!
//! When no metric at all is gated the comparison still passes (exit 0: an
//! informational comparison of two ad-hoc runs is a legitimate use, and exit
//! 2 means bad input), but [`Comparison::warnings`] says so, and the Markdown
//! headline and `lossbench compare`'s stderr carry it.
//!
//! A baseline row with no candidate row ("missing") fails the comparison
//! unless `allow_missing`; a candidate row with no baseline row ("extra") is
//! listed only. Both are always listed.

pub mod direction;
pub mod export;
pub mod input;
pub mod markdown;
pub mod outcome;
pub mod resolve;
pub mod rule;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::report::Order;
use crate::results::RunTables;
use crate::{Error, Result};

pub use direction::{
    direction, is_timing, metric_info, parse_tolerance, parse_tolerance_value, Direction,
    MetricInfo, METRICS,
};
pub use export::{
    benchmark_entries, benchmark_json, check_outputs, json, junit, write_outputs, BenchEntry,
    Outputs,
};
pub use input::Input;
pub use markdown::{markdown, RULE};
pub use outcome::{
    Comparison, Counts, Key, Options, Row, SideInfo, Stats, Status, Tolerance, ToleranceSource,
};
pub use resolve::suite_differences;
pub use rule::{noise, verdict, Gate, EPSILON};

use Direction::Informational as Info;

/// Compares the candidate's metrics with the baseline's.
///
/// # Errors
///
/// [`Error::Results`] when a side holds two rows of one key and seed (the
/// rows cannot be told apart, e.g. two `lgm` losses with different
/// parameters); [`Error::Usage`] when `--tolerance` names an informational
/// metric, or a metric that is in neither side nor in [`METRICS`].
pub fn compare(baseline: &Input, candidate: &Input, opts: &Options) -> Result<Comparison> {
    let b = group(baseline)?;
    let c = group(candidate)?;

    let mut notes = Vec::new();
    let present = |m: &str| b.keys().chain(c.keys()).any(|k| k.metric == m);
    for metric in opts.tolerances.keys() {
        if direction(metric) == Info && metric_info(metric).is_some() {
            return Err(Error::Usage(format!(
                "--tolerance {metric}=...: '{metric}' is informational and never gated"
            )));
        }
        if !present(metric) && metric_info(metric).is_none() {
            let known: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
            return Err(Error::Usage(format!(
                "--tolerance {metric}=...: no metric '{metric}' in either input (known metrics: {})",
                known.join(", ")
            )));
        }
    }
    let tolerances = resolve::tolerances(baseline, candidate, opts, &mut notes);
    for (metric, t) in &tolerances {
        if direction(metric) == Info {
            notes.push(format!(
                "tolerance for `{metric}` ({}) ignored: `{metric}` is informational",
                t.source.label()
            ));
        } else if !present(metric) {
            notes.push(format!(
                "tolerance for `{metric}` ({}) unused: no `{metric}` rows on either side",
                t.source.label()
            ));
        }
    }
    if let (Some(db), Some(dc)) = (&baseline.info.device, &candidate.info.device) {
        if db != dc {
            notes.push(format!(
                "the runs used different devices (baseline {db}, candidate {dc}): \
                 expect small numeric differences"
            ));
        }
    }
    notes.extend(resolve::suite_note(baseline, candidate));

    let mut keys: BTreeSet<&Key> = b.keys().collect();
    keys.extend(c.keys());
    let mut rows: Vec<Row> = keys
        .into_iter()
        .map(|k| row(k, b.get(k).cloned(), c.get(k).cloned(), &tolerances, opts))
        .collect();
    sort_rows(&mut rows, baseline, candidate);
    let mut warnings = resolve::warnings(&rows, &tolerances, opts);
    warnings.extend(input_warnings(baseline, "baseline", &rows, |r| &r.baseline));
    warnings.extend(input_warnings(candidate, "candidate", &rows, |r| {
        &r.candidate
    }));

    let side = |input: &Input| {
        let mut info = input.info.clone();
        let seeds: BTreeSet<u64> = input.rows.iter().map(|r| r.seed).collect();
        info.seeds = seeds.into_iter().collect();
        info
    };
    Ok(Comparison {
        baseline: side(baseline),
        candidate: side(candidate),
        tolerances,
        default_tolerance: opts.default_tolerance,
        allow_missing: opts.allow_missing,
        rows,
        notes,
        warnings,
    })
}

/// What a reader of the verdict must know about one side: a run that did
/// not finish cleanly (its manifest's status), and values that are not
/// finite (such rows are not gated, or fail, whatever the tolerance).
fn input_warnings(
    input: &Input,
    side: &str,
    rows: &[Row],
    stats: impl Fn(&Row) -> &Option<Stats>,
) -> Vec<String> {
    let mut out = Vec::new();
    match input.info.status.as_deref() {
        None | Some("done") => {}
        Some(status) => out.push(format!(
            "the {side} run's manifest says `{status}`, not `done`: its metrics are those of \
             the jobs that finished ({})",
            input.info.manifest.as_deref().unwrap_or("manifest.json")
        )),
    }
    let not_finite: Vec<String> = rows
        .iter()
        .filter(|r| stats(r).as_ref().is_some_and(|s| !s.finite()))
        .map(|r| r.key.describe())
        .collect();
    if let Some(first) = not_finite.first() {
        out.push(format!(
            "{} {side} value(s) are not finite (NaN or infinite), e.g. {first}",
            not_finite.len()
        ));
    }
    out
}

/// Groups one side's rows by key; each key's values by seed.
fn group(input: &Input) -> Result<HashMap<Key, Stats>> {
    let mut by_key: HashMap<Key, Vec<(u64, f64)>> = HashMap::new();
    for r in &input.rows {
        let values = by_key.entry(Key::of(r)).or_default();
        if values.iter().any(|&(s, _)| s == r.seed) {
            return Err(Error::Results {
                file: input.metrics_file.clone(),
                msg: format!(
                    "two rows for seed {} of {}; compare joins on (dataset, model, loss, \
                     attack, detector, subset, metric) and cannot tell them apart",
                    r.seed,
                    Key::of(r).describe()
                ),
            });
        }
        values.push((r.seed, r.value));
    }
    Ok(by_key
        .into_iter()
        .map(|(k, v)| (k, Stats::new(v)))
        .collect())
}

/// The verdict on one key.
fn row(
    key: &Key,
    baseline: Option<Stats>,
    candidate: Option<Stats>,
    tolerances: &BTreeMap<String, Tolerance>,
    opts: &Options,
) -> Row {
    let dir = direction(&key.metric);
    let delta = match (&baseline, &candidate) {
        (Some(b), Some(c)) => Some(c.mean - b.mean),
        _ => None,
    };
    let mut out = Row {
        key: key.clone(),
        direction: dir,
        baseline,
        candidate,
        gate: None,
        delta,
        status: Status::Reported,
        note: None,
    };
    let (Some(b), Some(c)) = (&out.baseline, &out.candidate) else {
        (out.status, out.note) = if out.baseline.is_some() {
            let note = if opts.allow_missing {
                "in the baseline only (allowed: --allow-missing)"
            } else {
                "in the baseline only"
            };
            (Status::Missing, Some(note.into()))
        } else {
            (Status::Extra, Some("in the candidate only".into()))
        };
        return out;
    };
    let tolerance = tolerances.get(&key.metric).copied().or_else(|| {
        let default_applies = dir != Info && !is_timing(&key.metric);
        opts.default_tolerance
            .filter(|_| default_applies)
            .map(|value| Tolerance {
                value,
                source: ToleranceSource::Default,
            })
    });
    let reason = match (dir, tolerance) {
        (Info, _) if metric_info(&key.metric).is_none() => Some("not in the direction table"),
        (Info, _) => Some("informational"),
        (_, None) if is_timing(&key.metric) => Some("timing, no tolerance"),
        (_, None) => Some("no tolerance"),
        (_, Some(_)) if !b.finite() => Some("baseline not finite"),
        _ => None,
    };
    if let Some(reason) = reason {
        out.note = Some(reason.into());
        return out;
    }
    let tolerance = tolerance.expect("a gated row has a tolerance");
    let (status, gate) = verdict(dir, b, c, tolerance);
    if !c.finite() {
        out.note = Some("candidate not finite".into());
    }
    out.status = status;
    out.gate = Some(gate);
    out
}

/// Report order: dataset, model, loss (known losses first), attack, detector
/// as [`Order`] has them, then subset and metric by first appearance
/// (baseline rows before candidate rows).
fn sort_rows(rows: &mut [Row], baseline: &Input, candidate: &Input) {
    let tables = RunTables {
        metrics: baseline
            .rows
            .iter()
            .chain(&candidate.rows)
            .cloned()
            .collect(),
        ..RunTables::default()
    };
    let order = Order::new(&tables);
    let mut subsets: HashMap<&str, usize> = HashMap::new();
    let mut metrics: HashMap<&str, usize> = HashMap::new();
    for r in &tables.metrics {
        let n = subsets.len();
        subsets.entry(&r.subset).or_insert(n);
        let n = metrics.len();
        metrics.entry(&r.metric).or_insert(n);
    }
    rows.sort_by_cached_key(|r| {
        let k = &r.key;
        (
            order.key(&k.dataset, &k.model, &k.loss, &k.attack, &k.detector),
            subsets[k.subset.as_str()],
            metrics[k.metric.as_str()],
        )
    });
}
