//! C&W L2 (Carlini & Wagner 2017), docs/definitions.md §2, batched.
//!
//! ```text
//! w₀ = artanh(0.999999 · (2x − 1)),   x̃ = (tanh w₀ + 1)/2      (x in tanh space)
//! x'(δ) = (tanh(w₀ + δ) + 1)/2
//! L_i(δ) = ‖x'_i − x̃_i‖₂² + c_i · max(z_y(x'_i) − max_{k≠y} z_k(x'_i) + κ, 0)
//! δ ← Adam(∇_δ Σ_i L_i), lr = step-size, β = (0.9, 0.999), ε = 1e-8; T steps
//! ```
//! per binary-search step over the constants `c_i` (start `c₀`; ×10 until a
//! sample is fooled, then bisected between the largest failing and the
//! smallest succeeding `c`; with 10 or more search steps the last one uses
//! the smallest succeeding `c`, as foolbox does). Every iterate that is
//! misclassified (its true logit raised by κ) and closer to `x` than the best
//! so far becomes the sample's example; a sample never fooled keeps `x`.
//! `δ` restarts at 0 for each search step. With `abort-early`, every tenth of
//! the steps a sample whose loss has not fallen below 0.9999 times its value
//! at the last check stops for that search step (foolbox checks the batch's
//! summed loss; per sample, a result does not depend on its batch).
//!
//! # Shapes
//! `x, x': [N, C, H, W]`, `y: [N]`.

use tch::{Kind, Tensor};

use super::{per_sample, Attack, Perturbed};
use crate::suite::spec::CwL2Params;
use crate::train::Net;

/// Keeps `artanh` finite at pixels 0 and 1, as foolbox does.
const TANH_SHRINK: f64 = 0.999_999;
const ADAM_BETA1: f64 = 0.9;
const ADAM_BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;
/// With this many search steps or more, the last one uses the smallest
/// constant that succeeded.
const LAST_STEP_UPPER: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CwL2 {
    pub steps: usize,
    pub search_steps: usize,
    pub initial_const: f64,
    pub confidence: f64,
    pub step_size: f64,
    pub abort_early: bool,
}

impl CwL2 {
    pub fn new(p: &CwL2Params) -> CwL2 {
        CwL2 {
            steps: p.steps,
            search_steps: p.search_steps,
            initial_const: p.initial_const,
            confidence: p.confidence,
            step_size: p.step_size,
            abort_early: p.abort_early,
        }
    }

    /// The attack on any differentiable classifier `logits` whose samples do
    /// not interact, with `extra(x')`, a per-sample `[N]` term added to the
    /// loss (an adaptive attack's detector term; zeros for plain C&W).
    pub fn perturb_with(
        &self,
        logits: &dyn Fn(&Tensor) -> Tensor,
        extra: &dyn Fn(&Tensor) -> Tensor,
        x: &Tensor,
        y: &Tensor,
    ) -> Perturbed {
        let n = x.size()[0];
        let (kind, dev) = (x.kind(), x.device());
        let nd = |t: &Tensor| per_sample(t, x);
        let w0 = tch::no_grad(|| ((x * 2.0 - 1.0) * TANH_SHRINK).arctanh());
        let to_image = |w: &Tensor| (w.tanh() + 1.0) * 0.5;
        let x_tilde = tch::no_grad(|| to_image(&w0));
        let y1 = y.unsqueeze(1);

        let mut consts = vec![self.initial_const; n as usize];
        let mut lower = vec![0.0f64; n as usize];
        let mut upper = vec![f64::INFINITY; n as usize];
        let mut best = x.detach().copy();
        let mut best_norm = Tensor::full([n], f64::INFINITY, (Kind::Double, dev));
        let mut iters = Tensor::zeros([n], (Kind::Int64, dev));
        let check_every = self.steps.div_ceil(10).max(1);

        for search in 0..self.search_steps {
            if search + 1 == self.search_steps && self.search_steps >= LAST_STEP_UPPER {
                consts = upper.iter().map(|u| u.min(1e10)).collect();
            }
            let c = Tensor::from_slice(&consts).to_kind(kind).to_device(dev);
            let mut delta = w0.zeros_like();
            let (mut m, mut v) = (w0.zeros_like(), w0.zeros_like());
            let mut found = Tensor::zeros([n], (Kind::Bool, dev));
            let mut active = Tensor::ones([n], (Kind::Bool, dev));
            let mut last_check = Tensor::full([n], f64::INFINITY, (kind, dev));
            for step in 0..self.steps {
                let d = delta.detach().set_requires_grad(true);
                let xp = to_image(&(&w0 + &d));
                let z = logits(&xp);
                let true_z = z.gather(1, &y1, false).squeeze_dim(1);
                let others = z.scatter_value(1, &y1, f64::NEG_INFINITY);
                let margin = (&true_z - others.amax([1], false) + self.confidence).clamp_min(0.0);
                let dist = (&xp - &x_tilde).square().flatten(1, -1).sum_dim_intlist(
                    Some(&[1i64][..]),
                    false,
                    kind,
                );
                let per_sample = &dist + &c * margin + extra(&xp);
                let g = Tensor::run_backward(&[per_sample.sum(kind)], &[&d], false, false)
                    .pop()
                    .expect("one input, one gradient");
                let per_sample = per_sample.detach();
                if self.abort_early && step % check_every == 0 {
                    let progress = per_sample.le_tensor(&(&last_check * 0.9999));
                    active = active.logical_and(&progress);
                    last_check = per_sample.where_self(&active, &last_check);
                    if !bool::try_from(active.any()).unwrap_or(false) {
                        break;
                    }
                }
                tch::no_grad(|| {
                    let t = (step + 1) as i32;
                    m = &m * ADAM_BETA1 + &g * (1.0 - ADAM_BETA1);
                    v = &v * ADAM_BETA2 + g.square() * (1.0 - ADAM_BETA2);
                    let m_hat = &m / (1.0 - ADAM_BETA1.powi(t));
                    let v_hat = &v / (1.0 - ADAM_BETA2.powi(t));
                    let update = m_hat / (v_hat.sqrt() + ADAM_EPS) * (-self.step_size);
                    delta = &delta + update * nd(&active.to_kind(kind));
                    // The iterate whose loss was just computed: is it an
                    // example, and the closest so far?
                    let z_k = z.detach().scatter_add(
                        1,
                        &y1,
                        &Tensor::full([n, 1], self.confidence, (z.kind(), dev)),
                    );
                    let fooled = z_k.argmax(1, false).ne_tensor(y).logical_and(&active);
                    found = found.logical_or(&fooled);
                    let norms = (xp.detach() - x)
                        .to_kind(Kind::Double)
                        .flatten(1, -1)
                        .norm_scalaropt_dim(2, [1], false);
                    let closer = fooled.logical_and(&norms.lt_tensor(&best_norm));
                    best = xp.detach().where_self(&nd(&closer), &best);
                    best_norm = norms.where_self(&closer, &best_norm);
                    iters += active.to_kind(Kind::Int64);
                });
            }
            let found: Vec<bool> = Vec::<bool>::try_from(&found).unwrap_or_default();
            for (i, &f) in found.iter().enumerate() {
                if f {
                    upper[i] = consts[i];
                } else {
                    lower[i] = consts[i];
                }
                consts[i] = match upper[i].is_finite() {
                    true => (lower[i] + upper[i]) / 2.0,
                    false => consts[i] * 10.0,
                };
            }
        }
        Perturbed {
            success: Some(best_norm.isfinite()),
            x_adv: best,
            iters,
        }
    }
}

impl Attack for CwL2 {
    fn label(&self) -> String {
        format!(
            "cw-l2(c0={},conf={},lr={},T={},search={})",
            self.initial_const, self.confidence, self.step_size, self.steps, self.search_steps
        )
    }

    fn perturb(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        let zeros = |xp: &Tensor| Tensor::zeros([xp.size()[0]], (xp.kind(), xp.device()));
        self.perturb_with(&|xp| net.logits(xp), &zeros, x, y)
    }
}
