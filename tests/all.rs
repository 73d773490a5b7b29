//! Every integration test in one test binary, so that tch and polars are
//! linked once (`cargo test --test all`; a module runs alone with
//! `cargo test --test all <module>::`, e.g. `suite::` or `e2e::runs::`).
//! Each module is the file of the same name under `tests/`; shared helpers
//! are in `common`.

// Spec literals name what they set and take the declared defaults for the
// rest (`..Default::default()`), even where they set every field today, so
// that a new parameter touches no test.
#![allow(clippy::needless_update)]

mod common;

#[path = "adaptive.rs"]
mod adaptive;
#[path = "attacks.rs"]
mod attacks;
#[path = "compare.rs"]
mod compare;
#[path = "data_fetch.rs"]
mod data_fetch;
#[path = "data_formats.rs"]
mod data_formats;
#[path = "data_readers.rs"]
mod data_readers;
#[path = "detect.rs"]
mod detect;
#[path = "docs.rs"]
mod docs;
#[path = "e2e/main.rs"]
mod e2e;
#[path = "fuzz.rs"]
mod fuzz;
#[path = "heads.rs"]
mod heads;
#[path = "heads_ref.rs"]
mod heads_ref;
#[path = "metrics.rs"]
mod metrics;
#[path = "models.rs"]
mod models;
#[path = "optim.rs"]
mod optim;
#[path = "report.rs"]
mod report;
#[path = "report_browser.rs"]
mod report_browser;
#[path = "suite/main.rs"]
mod suite;
#[path = "train.rs"]
mod train;
