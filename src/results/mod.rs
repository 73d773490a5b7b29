//! Result tables: the schema of every table, their conversion to polars
//! DataFrames, atomic parquet + CSV writing, reading back, and the manifest.
//!
//! Layout of a run directory `results/<suite>/<run-id>/`:
//! `manifest.json`, and for each table (jobs, metrics, roc, train_log, features, scores, examples) `<table>.parquet` and `<table>.csv`.
//! Tables are rewritten atomically (temp file + rename) after every job, so an
//! interrupted run keeps every finished job. This room knows nothing of tch.

pub mod manifest;
pub mod schema;
pub mod store;

pub use manifest::Manifest;
pub use schema::{ExampleRow, FeatureRow, JobRow, MetricRow, RocRow, ScoreRow, TrainLogRow};
pub use store::{RunStore, RunTables};
