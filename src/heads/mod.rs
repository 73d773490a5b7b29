//! Heads: the loss-specific part of a model (docs/definitions.md §1). A head maps features
//! `f: [N, D]` to **inference logits** (no margin: prediction, attacks and
//! detection) and to a **training loss** (margins and regularisers live only
//! there). It may also give per-class log-likelihoods (L-GM) and make
//! non-gradient updates after an optimiser step (center loss's centres).

mod center;
mod external;
mod lgm;
mod lsoftmax;
mod softmax;

pub use center::CenterHead;
pub use external::ExternalHead;
pub use lgm::{LgmHead, LgmParams};
pub use lsoftmax::{psi as lsoftmax_psi, LsoftmaxHead, LsoftmaxParams};
pub use softmax::SoftmaxHead;

use tch::{nn, Tensor};

use crate::suite::{LossSpec, Suite};

/// Where training stands, for schedules inside a loss (warm-up, annealing).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    /// Optimiser steps taken so far.
    pub step: u64,
    /// Epochs completed so far, fractional (0.5 = half-way through epoch 1).
    pub epoch: f64,
    /// Optimiser steps of the whole run (`epochs × steps per epoch`), for
    /// schedules stated relative to the run's length; 0 when unknown, which
    /// such a schedule takes as a run of one step.
    pub total_steps: u64,
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
    /// The class means `[K, D]` of the mixture the head models, when it
    /// models one (L-GM's learned `μ`).
    fn class_means(&self) -> Option<Tensor> {
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

/// Warnings about schedules that do nothing in a run of `n_train` training
/// samples: for each `lsoftmax` whose β never falls below 1 within the run,
/// so that the margin never comes into force and the job trains what is in
/// effect softmax without bias (docs/definitions.md §1.3). Each names the
/// loss (by its place in `losses`) and the step at which β would fall below 1.
pub fn schedule_warnings(suite: &Suite, n_train: usize) -> Vec<String> {
    let train = &suite.train;
    let total = train.total_steps(n_train);
    let steps_per_epoch = n_train.div_ceil(train.batch_size);
    suite
        .losses
        .iter()
        .enumerate()
        .filter_map(|(i, loss)| {
            let LossSpec::Lsoftmax(p) = &loss.spec else {
                return None;
            };
            let at = p.margin_step(total);
            if at.is_some_and(|s| s < total) {
                return None;
            }
            let when = match at {
                Some(s) => format!("beta first falls below 1 at step {s}"),
                None => format!(
                    "beta never falls below 1 (beta-base {}, gamma {}, power {}, beta-min {})",
                    p.beta_base,
                    p.gamma_for(total),
                    p.power,
                    p.beta_min
                ),
            };
            let fix = if p.margin_at.is_none() {
                "; state the schedule relative to the run with `margin-at` (e.g. 0.5)"
            } else {
                ""
            };
            Some(format!(
                "losses[{i}] ({}): the margin never comes into force: {when}, but the run \
                 has {total} optimiser steps ({} epoch(s) x {steps_per_epoch} steps of {n_train} \
                 training samples at batch {}), so it trains what is in effect softmax without \
                 bias{fix}",
                loss.label(),
                train.epochs,
                train.batch_size
            ))
        })
        .collect()
}

/// Builds the head for `spec` under `p` (sub-path `head`).
pub fn build(p: &nn::Path, spec: &LossSpec, dim: i64, classes: i64) -> Box<dyn Head> {
    let p = &(p / "head");
    match spec {
        LossSpec::Softmax => Box::new(SoftmaxHead::new(p, dim, classes)),
        LossSpec::Center(c) => Box::new(CenterHead::new(p, dim, classes, c.lambda, c.alpha)),
        LossSpec::Lsoftmax(params) => Box::new(LsoftmaxHead::new(p, dim, classes, params.clone())),
        LossSpec::Lgm(params) => Box::new(LgmHead::new(p, dim, classes, params.clone())),
        // Validation pairs `external` with `model: torchscript`, whose net
        // is built by `Net::external`; this one only stands in.
        LossSpec::External => Box::new(ExternalHead::new(false)),
    }
}
