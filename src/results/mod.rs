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

pub mod manifest;
pub mod schema;
pub mod store;

pub use manifest::Manifest;
pub use schema::{ExampleRow, FeatureRow, JobRow, MetricRow, RocRow, ScoreRow, TrainLogRow};
pub use store::{RunStore, RunTables};
