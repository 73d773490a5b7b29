//! Heads: the loss-specific part of a model (docs/definitions.md §1). A head maps features
//! `f: [N, D]` to **inference logits** (no margin: prediction, attacks and
//! detection) and to a **training loss** (margins and regularisers live only
//! there). It may also give per-class log-likelihoods (L-GM) and make
//! non-gradient updates after an optimiser step (center loss's centres).

mod center;
mod lgm;
mod lsoftmax;
mod softmax;

pub use center::CenterHead;
pub use lgm::{LgmHead, LgmParams};
pub use lsoftmax::{psi as lsoftmax_psi, LsoftmaxHead, LsoftmaxParams};
pub use softmax::SoftmaxHead;

use tch::{nn, Tensor};

use crate::suite::LossSpec;

/// Where training stands, for schedules inside a loss (warm-up, annealing).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    /// Optimiser steps taken so far.
    pub step: u64,
    /// Epochs completed so far, fractional (0.5 = half-way through epoch 1).
    pub epoch: f64,
}

/// The loss-specific layer on top of a backbone.
pub trait Head: std::fmt::Debug + Send {
    /// Inference logits `[N, K]`.
    fn logits(&self, f: &Tensor) -> Tensor;
    /// Scalar training loss for features `f: [N, D]` and labels `y: [N]` (i64).
    fn loss(&self, f: &Tensor, y: &Tensor, at: Progress) -> Tensor;
    /// `log p(f | k)` for every class, `[N, K]`, when the head models a density.
    fn log_likelihood(&self, _f: &Tensor) -> Option<Tensor> {
        None
    }
    /// Whether [`Head::log_likelihood`] gives values.
    fn has_density(&self) -> bool {
        false
    }
    /// Non-gradient parameter updates after an optimiser step.
    fn after_step(&self, _f: &Tensor, _y: &Tensor) {}
}

/// Mean cross-entropy of logits `z: [N, K]` against labels `y: [N]`, in the
/// logits' own precision (tch's `cross_entropy_for_logits` forces f32).
pub fn cross_entropy(z: &Tensor, y: &Tensor) -> Tensor {
    z.cross_entropy_loss::<Tensor>(y, None, tch::Reduction::Mean, -100, 0.0)
}

/// Builds the head for `spec` under `p` (sub-path `head`).
pub fn build(p: &nn::Path, spec: &LossSpec, dim: i64, classes: i64) -> Box<dyn Head> {
    let p = &(p / "head");
    match spec {
        LossSpec::Softmax => Box::new(SoftmaxHead::new(p, dim, classes)),
        LossSpec::Center(c) => Box::new(CenterHead::new(p, dim, classes, c.lambda, c.alpha)),
        LossSpec::Lsoftmax(params) => Box::new(LsoftmaxHead::new(p, dim, classes, params.clone())),
        LossSpec::Lgm(params) => Box::new(LgmHead::new(p, dim, classes, params.clone())),
    }
}
