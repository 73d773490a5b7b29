//! lossbench: a benchmark and robustness-evaluation harness for loss functions
//! in image classification.
//!
//! The flow runs one way (see `docs/design.md`): a YAML [`suite`] expands into
//! jobs; each job loads [`data`], trains a [`models`] backbone with a [`heads`]
//! loss ([`train`]), attacks it ([`attacks`]), scores the adversarial examples
//! ([`detect`]), computes [`metrics`] and writes [`results`] tables; [`report`]
//! renders them and [`compare`] sets a candidate run's tables against a
//! baseline's, both without ever touching libtorch.

pub mod attacks;
pub mod cli;
pub mod cluster;
pub mod compare;
pub mod data;
#[macro_use]
pub mod decl;
pub mod detect;
pub mod device;
pub mod error;
pub mod heads;
pub mod interrupt;
pub mod metrics;
pub mod models;
pub mod report;
pub mod results;
pub mod runner;
pub mod suite;
pub mod train;

pub use error::{Error, Result};

/// The lossbench version; part of every job id, so a new version never reuses
/// an older version's checkpoints or results.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
