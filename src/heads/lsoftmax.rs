//! `lsoftmax`: the large-margin softmax of Liu et al. 2016 (docs/definitions.md §1).
//!
//! ```text
//! z_k      = W_k · f = ‖W_k‖ ‖f‖ cos θ_k            inference logits (no bias)
//! ψ(θ)     = (−1)^k cos(mθ) − 2k,  θ ∈ [kπ/m, (k+1)π/m],  k ∈ {0, …, m−1}
//! z'_y     = ‖W_y‖ ‖f‖ (β cos θ_y + ψ(θ_y)) / (1 + β)   training logit of the true class
//! z'_k     = z_k  for k ≠ y
//! β        = max(β_min, β_base · (1 + γ · step)^(−power))
//! L        = CE(z', y)
//! ```
//! With `margin-at` = r, γ is derived from the run's length S (optimiser
//! steps) so that the unfloored β reaches 1 at step r·S:
//! `γ = (β_base^(1/power) − 1) / (r·S)` (docs/definitions.md §1.3).
//! `cos(mθ)` is expanded as a polynomial in `cos θ` (Chebyshev), and `k`
//! comes from `acos` without gradient, as in the original implementation:
//! differentiating `acos` directly is infinite at θ = 0.
//!
//! # Shapes
//! `f: [N, D]`, `W: [K, D]`, `z: [N, K]`.

use std::f64::consts::PI;

use tch::{nn, Tensor};

use super::{Head, Progress};

pub use crate::suite::spec::LsoftmaxParams;

#[derive(Debug)]
pub struct LsoftmaxHead {
    weight: Tensor,
    params: LsoftmaxParams,
}

impl LsoftmaxHead {
    pub fn new(p: &nn::Path, dim: i64, classes: i64, params: LsoftmaxParams) -> LsoftmaxHead {
        LsoftmaxHead {
            weight: p.kaiming_uniform("weight", &[classes, dim]),
            params,
        }
    }

    /// β after `step` optimiser steps of a run of `total_steps`.
    pub fn beta(&self, step: u64, total_steps: u64) -> f64 {
        self.params.beta(step, total_steps)
    }

    /// Training logits `z'` for a given β.
    pub fn training_logits(&self, f: &Tensor, y: &Tensor, beta: f64) -> Tensor {
        let z = self.logits(f);
        let w_y = self.weight.index_select(0, y); // [N, D]
        let norm_w = w_y.norm_scalaropt_dim(2, [1], false);
        let norm_f = f.norm_scalaropt_dim(2, [1], false);
        let norms = &norm_w * &norm_f;
        let cos = z.gather(1, &y.unsqueeze(1), false).squeeze_dim(1) / (&norms + 1e-12);
        let cos = cos.clamp(-1.0, 1.0);
        let psi = psi(&cos, self.params.m);
        let target = &norms * (&cos * beta + psi) / (1.0 + beta);
        z.scatter(1, &y.unsqueeze(1), &target.unsqueeze(1))
    }
}

impl LsoftmaxParams {
    /// The annealing rate in force in a run of `total_steps` optimiser
    /// steps: `gamma`, or with `margin-at` = r the rate at which the
    /// unfloored β reaches 1 at step `r · total_steps` (a `total_steps` of
    /// 0 counts as 1). With `beta-base` ≤ 1 (β is never above 1) or
    /// `power` = 0 (β never moves) that rate is 0.
    pub fn gamma_for(&self, total_steps: u64) -> f64 {
        match self.margin_at {
            None => self.gamma,
            Some(_) if self.power <= 0.0 || self.beta_base <= 1.0 => 0.0,
            Some(r) => {
                let at = r * total_steps.max(1) as f64;
                (self.beta_base.powf(1.0 / self.power) - 1.0) / at
            }
        }
    }

    /// β after `step` optimiser steps of a run of `total_steps`:
    /// `max(β_min, β_base · (1 + γ · step)^(−power))`, γ from [`Self::gamma_for`].
    pub fn beta(&self, step: u64, total_steps: u64) -> f64 {
        let gamma = self.gamma_for(total_steps);
        (self.beta_base * (1.0 + gamma * step as f64).powf(-self.power)).max(self.beta_min)
    }

    /// The first step (counted from 0) at which β is below 1, the point from
    /// which the margin term outweighs the plain logit in `z'_y`, in a run
    /// of `total_steps`; `None` when β never falls below 1 (β_min ≥ 1, or β
    /// stuck above 1). The run uses the margin only when this is below
    /// `total_steps`.
    pub fn margin_step(&self, total_steps: u64) -> Option<u64> {
        if self.beta(0, total_steps) < 1.0 {
            return Some(0);
        }
        let gamma = self.gamma_for(total_steps);
        if self.beta_min >= 1.0 || gamma <= 0.0 || self.power <= 0.0 {
            return None;
        }
        // β(s) < 1  ⇔  s > (β_base^(1/power) − 1) / γ; then settle the
        // rounding of that bound against β itself.
        let bound = (self.beta_base.powf(1.0 / self.power) - 1.0) / gamma;
        if !bound.is_finite() || bound >= u64::MAX as f64 / 2.0 {
            return None;
        }
        let mut s = bound.floor() as u64 + 1;
        while s > 1 && self.beta(s - 1, total_steps) < 1.0 {
            s -= 1;
        }
        while self.beta(s, total_steps) >= 1.0 {
            s += 1;
        }
        Some(s)
    }
}

/// `ψ(θ)` as a function of `cos θ` (elementwise).
pub fn psi(cos: &Tensor, m: u32) -> Tensor {
    let cos_m = cos_multiple(cos, m);
    let k = tch::no_grad(|| {
        (cos.acos() * (m as f64) / PI)
            .floor()
            .clamp(0.0, (m - 1) as f64)
    });
    let sign = 1.0 - (k.fmod(2.0) * 2.0); // (−1)^k
    sign * cos_m - k * 2.0
}

/// `cos(mθ) = Σ_n (−1)^n C(m, 2n) cos^{m−2n}θ (1 − cos²θ)^n`.
fn cos_multiple(cos: &Tensor, m: u32) -> Tensor {
    let sin2: Tensor = 1.0 - cos.square();
    let mut out = cos.zeros_like();
    for n in 0..=(m / 2) {
        let c = binomial(m, 2 * n) as f64 * if n % 2 == 0 { 1.0 } else { -1.0 };
        out += cos.pow_tensor_scalar((m - 2 * n) as f64) * sin2.pow_tensor_scalar(n as f64) * c;
    }
    out
}

fn binomial(n: u32, k: u32) -> u64 {
    (0..k).fold(1u64, |acc, i| acc * (n - i) as u64 / (i + 1) as u64)
}

impl Head for LsoftmaxHead {
    fn logits(&self, f: &Tensor) -> Tensor {
        f.matmul(&self.weight.tr())
    }

    fn loss(&self, f: &Tensor, y: &Tensor, at: Progress) -> Tensor {
        let beta = self.beta(at.step, at.total_steps);
        super::cross_entropy(&self.training_logits(f, y, beta), y)
    }
}
