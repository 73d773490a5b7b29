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

    /// β after `step` optimiser steps.
    pub fn beta(&self, step: u64) -> f64 {
        let p = &self.params;
        (p.beta_base * (1.0 + p.gamma * step as f64).powf(-p.power)).max(p.beta_min)
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
        super::cross_entropy(&self.training_logits(f, y, self.beta(at.step)), y)
    }
}
