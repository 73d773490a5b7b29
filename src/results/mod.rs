//! Result tables: the schema of every table, their conversion to polars
//! DataFrames, atomic parquet + CSV writing, reading back, and the manifest.
//!
//! Layout of a run directory `results/<suite>/<run-id>/`:
//! `manifest.json`, and for each table (jobs, metrics, roc, train_log, features, scores, examples) `<table>.parquet` and `<table>.csv`.
//! Columns are documented in [`schema`]. Every table starts with `job_id`,
//! `loss` (the loss *name*: `softmax`, `lgm`, ...) and `seed` (`jobs` and
//! `metrics` with `dataset` and `model` between), so the tables join on
//! `job_id` without clashes and group by loss and seed on their own; a
//! measured loss value is named for what it is (`train_log.train_loss`).
//! Older runs whose `train_log` predates this read through an upgrade
//! (`store/codec.rs`, `upgrade_train_log`).
//! Tables are rewritten atomically (temp file + rename) after every job, so an
//! interrupted run keeps every finished job. This room knows nothing of tch.

pub mod lock;
pub mod manifest;
pub mod schema;
pub mod store;

pub use manifest::{Manifest, RunStatus};
pub use schema::{
    ExampleRow, FeatureRow, JobRow, JobStatus, MetricRow, RocRow, RowCounts, ScoreRow, TrainLogRow,
};
pub use store::{RunStore, RunTables};

/// The longest suite name (it names directories; see [`is_plain_name`]).
pub const MAX_NAME_LEN: usize = 100;

/// The `subset` of the `metrics` rows that record a setting a detector
/// chose when fitted (`kd_sigma`, `lr_c`; docs/definitions.md §3), not a
/// detection metric.
pub const FIT_SUBSET: &str = "fit";
/// The subset of the abnormal-input rows of `metrics` and `roc`, and the
/// split of their `scores` rows (docs/definitions.md §5); their attack is
/// `ood:<source>`.
pub const OOD_SUBSET: &str = "ood";

/// Whether `s` may name a directory under `results/` and `reports/` as it
/// is: 1 to [`MAX_NAME_LEN`] lowercase letters, digits, `_` and `-` (so
/// never `..`, a separator or an absolute path). Suite names and run ids
/// are both; a name read from a file is checked with this before any path
/// is built from it.
pub fn is_plain_name(s: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}
