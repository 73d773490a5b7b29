//! Suite files: valid ones resolve to the expected `Suite` with defaults
//! filled; every class of mistake fails with its message, field path, line
//! and column; jobs expand in order with stable ids.
//!
//! A module of the one test binary (`cargo test --test all suite::`), one
//! submodule per theme; the helpers and the `BASE` suite the error tests
//! edit live here.

mod catalog;
mod cross;
mod decl;
mod entries;
mod errors;
mod limits;
mod ood;
mod plan;
mod reader;
mod schema;
mod valid;
mod values;

use lossbench::suite::spec::AdamParams;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lossbench::data::{DataSpec, DatasetName, SyntheticSpec};
use lossbench::suite::plan::{hash_id, job_id};
use lossbench::suite::{
    AttackSpec, Covariance, DetectorSpec, JobConfig, LossSpec, ModelKind, ModelSpec, OptimizerSpec,
    RegressionSpec, ScheduleSpec, Suite, TrainSpec,
};
use lossbench::Error;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suites")
        .join(name)
}

fn parse(text: &str) -> Suite {
    Suite::parse(text, Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

/// The error `text` fails with, as (field, line, column, message).
fn fail(text: &str) -> (String, usize, usize, String) {
    match Suite::parse(text, Path::new("t.yaml")) {
        Err(Error::Suite {
            file,
            line,
            column,
            field,
            msg,
        }) => {
            assert_eq!(file, Path::new("t.yaml"));
            (field, line, column, msg)
        }
        Err(other) => panic!("not a suite error: {other}"),
        Ok(suite) => panic!("parsed, but should have failed:\n{text}\n{suite:#?}"),
    }
}

/// Asserts the field, position and exact message of `text`'s error.
#[track_caller]
fn assert_fails(text: &str, field: &str, line: usize, column: usize, msg: &str) {
    assert_eq!(
        fail(text),
        (field.to_owned(), line, column, msg.to_owned()),
        "--- suite:\n{text}"
    );
}

/// A valid suite that the error tests edit; line numbers below refer to it.
const BASE: &str = "\
name: t
data:
  dataset: synthetic
model: mlp
train:
  epochs: 4
  lr: 0.01
losses:
  - softmax
  - center
  - lgm: {alpha: 0.1, lambda: 0.1}
seeds: [0, 1, 2]
attacks:
  - fgsm: {eps: [0.0, 0.1, 0.3]}
detectors: [max-softmax, lgm-likelihood]
";

/// `BASE` with `from` replaced by `to`; `from` must occur in it.
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "`{from}` is not in BASE");
    BASE.replacen(from, to, 1)
}

fn default_train() -> TrainSpec {
    TrainSpec {
        epochs: 5,
        batch_size: 128,
        optimizer: OptimizerSpec::Adam(AdamParams {
            beta1: 0.9,
            beta2: 0.999,
            ..Default::default()
        }),
        lr: 1e-3,
        schedule: ScheduleSpec::Constant,
        weight_decay: 0.0,
        augment: false,
    }
}
