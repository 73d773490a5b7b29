//! The data of a comparison: join keys, seed statistics, per-key verdicts,
//! the two sides' descriptions and the counts. Plain values: [`super::compare`]
//! fills them, the renderers read them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::direction::Direction;
use super::rule::Gate;
use crate::metrics::mean_std;
use crate::results::MetricRow;

/// How to compare.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// `--tolerance metric=value`: wins over both suites' tolerances.
    pub tolerances: BTreeMap<String, f64>,
    /// `--default-tolerance`: for directional, non-timing metrics without a
    /// tolerance. Default: none (such metrics are reported only).
    pub default_tolerance: Option<f64>,
    /// `--allow-missing`: baseline rows absent from the candidate are listed
    /// but do not fail the comparison. Default: false (they fail it).
    pub allow_missing: bool,
}

/// Where a tolerance came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToleranceSource {
    /// `--tolerance`.
    Cli,
    /// The candidate manifest's `suite.regression.tolerances`.
    CandidateSuite,
    /// The baseline manifest's `suite.regression.tolerances`, for a metric
    /// the candidate's manifest (or a bare candidate metrics file) has none for.
    BaselineSuite,
    /// `--default-tolerance`.
    Default,
}

impl ToleranceSource {
    pub fn label(self) -> &'static str {
        match self {
            ToleranceSource::Cli => "--tolerance",
            ToleranceSource::CandidateSuite => "candidate suite",
            ToleranceSource::BaselineSuite => "baseline suite",
            ToleranceSource::Default => "--default-tolerance",
        }
    }
}

/// The join key of a metric row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Key {
    pub dataset: String,
    pub model: String,
    pub loss: String,
    pub attack: String,
    pub detector: String,
    pub subset: String,
    pub metric: String,
}

impl Key {
    pub(super) fn of(r: &MetricRow) -> Key {
        Key {
            dataset: r.dataset.clone(),
            model: r.model.clone(),
            loss: r.loss.clone(),
            attack: r.attack.clone(),
            detector: r.detector.clone(),
            subset: r.subset.clone(),
            metric: r.metric.clone(),
        }
    }

    /// `dataset/model/loss attack detector subset metric`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{}/{}/{} attack={} detector={} subset={} metric={}",
            self.dataset,
            self.model,
            self.loss,
            self.attack,
            self.detector,
            self.subset,
            self.metric
        )
    }
}

/// One side's values of one key, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub mean: f64,
    /// Sample standard deviation (0 with one seed).
    pub std: f64,
    pub n: usize,
    pub seeds: Vec<u64>,
    pub values: Vec<f64>,
}

impl Stats {
    /// `values` in seed order.
    pub(super) fn new(mut by_seed: Vec<(u64, f64)>) -> Stats {
        by_seed.sort_by_key(|&(s, _)| s);
        let values: Vec<f64> = by_seed.iter().map(|&(_, v)| v).collect();
        let (mean, std, n) = mean_std(&values);
        Stats {
            mean,
            std,
            n,
            seeds: by_seed.iter().map(|&(s, _)| s).collect(),
            values,
        }
    }

    /// Every value finite (so are mean and std).
    pub fn finite(&self) -> bool {
        self.values.iter().all(|v| v.is_finite())
    }
}

/// The verdict on one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Gated and worse by more than the threshold.
    Regression,
    /// Gated and better by more than the threshold.
    Improved,
    /// Gated and within the threshold.
    Ok,
    /// Compared and shown, not gated (see `Row::note`).
    Reported,
    /// In the baseline only.
    Missing,
    /// In the candidate only.
    Extra,
}

/// One compared key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub key: Key,
    pub direction: Direction,
    pub baseline: Option<Stats>,
    pub candidate: Option<Stats>,
    /// The rule's numbers, for gated rows.
    pub gate: Option<Gate>,
    /// `candidate mean − baseline mean`, when both sides exist.
    pub delta: Option<f64>,
    pub status: Status,
    /// Why a row is only reported, or why a missing row does not fail.
    pub note: Option<String>,
}

impl Row {
    /// Whether this row fails the comparison.
    pub fn fails(&self, allow_missing: bool) -> bool {
        match self.status {
            Status::Regression => true,
            Status::Missing => !allow_missing,
            _ => false,
        }
    }
}

/// What is known about one side: the path given and its manifest, if any.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SideInfo {
    /// The path as given on the command line.
    pub label: String,
    /// The metrics file read.
    pub metrics_file: String,
    /// The `manifest.json` read beside it, if there was one.
    pub manifest: Option<String>,
    pub suite: Option<String>,
    pub run_id: Option<String>,
    pub git_commit: Option<String>,
    pub device: Option<String>,
    pub lossbench_version: Option<String>,
    /// The run's status from its manifest (`done`, `failed`, `running`,
    /// `interrupted`); `None` without a manifest.
    pub status: Option<String>,
    /// Every seed in the metrics rows.
    pub seeds: Vec<u64>,
}

/// A resolved tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    pub value: f64,
    pub source: ToleranceSource,
}

/// The outcome of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub baseline: SideInfo,
    pub candidate: SideInfo,
    /// Explicit tolerances by metric (CLI over the candidate suite over the
    /// baseline suite); the default is separate.
    pub tolerances: BTreeMap<String, Tolerance>,
    pub default_tolerance: Option<f64>,
    pub allow_missing: bool,
    /// Every key of either side, in report order.
    pub rows: Vec<Row>,
    /// Things a reader should know (ignored tolerances, differing devices,
    /// suites or suite tolerances, a missing manifest).
    pub notes: Vec<String>,
    /// Things that make the verdict weaker than it looks: at present, that no
    /// metric was gated, so the comparison could not fail on a regression.
    pub warnings: Vec<String>,
}

/// Counts of rows by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub regression: usize,
    pub improved: usize,
    pub ok: usize,
    pub reported: usize,
    pub missing: usize,
    pub extra: usize,
}

impl Counts {
    /// Rows that went through the rule.
    pub fn gated(&self) -> usize {
        self.regression + self.improved + self.ok
    }
}

impl Comparison {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.rows {
            *match r.status {
                Status::Regression => &mut c.regression,
                Status::Improved => &mut c.improved,
                Status::Ok => &mut c.ok,
                Status::Reported => &mut c.reported,
                Status::Missing => &mut c.missing,
                Status::Extra => &mut c.extra,
            } += 1;
        }
        c
    }

    /// Whether any row fails: a regression, or a missing row unless allowed.
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|r| r.fails(self.allow_missing))
    }

    /// The process exit code: 1 when [`Comparison::failed`], else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.failed())
    }
}
