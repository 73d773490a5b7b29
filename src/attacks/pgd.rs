//! PGD, projected gradient descent (Madry et al. 2018), docs/definitions.md §2.
//!
//! ```text
//! L∞:  x₀ = clip₀¹(x + U(−ε, ε))                        (random start; else x₀ = x)
//!      x_{t+1} = clip_{[0,1] ∩ B∞(x, ε)}( x_t + a · sign(g_t) )
//! L2:  x₀ = clip₀¹(x + ε · u · n/‖n‖₂),  n ~ N(0, I), u ~ U(0, 1)
//!      x'  = x_t + a · g_t / (‖g_t‖₂ + 1e-10)
//!      x_{t+1} = clip₀¹( x + (x' − x) · min(1, ε / ‖x' − x‖₂) )
//! g_t = ∇ₓ CE(z(x_t), y),  t < T
//! ```
//! With `restarts` R, the attack runs R times from fresh random starts; a
//! sample counts as fooled if any run fooled it, and keeps the first run
//! that did (else the last). With the random start off, L∞ PGD is BIM-b
//! step for step. The random start draws from libtorch's global generator,
//! which the runner seeds per job. The L2 start follows torchattacks'
//! `PGDL2` (a random direction at a uniform radius), which is not uniform
//! in the ball; docs/definitions.md §2 says so.
//!
//! # Shapes
//! `x, x': [N, C, H, W]`, `y: [N]`.

use tch::{Kind, Tensor};

use super::{input_gradient, per_sample, Attack, Perturbed};
use crate::suite::spec::{Norm, PgdParams};
use crate::train::Net;

/// Added to ‖g‖₂ before dividing, as torchattacks does.
const L2_DIV_EPS: f64 = 1e-10;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pgd {
    pub eps: f64,
    pub norm: Norm,
    /// Step size `a`.
    pub step_size: f64,
    pub steps: usize,
    pub random_start: bool,
    pub restarts: usize,
}

impl Pgd {
    /// The attack at budget `eps` (one value of the declared sweep).
    pub fn new(p: &PgdParams, eps: f64) -> Pgd {
        Pgd {
            eps,
            norm: p.norm,
            step_size: p.step_size.unwrap_or(eps / 4.0),
            steps: p.steps,
            random_start: p.random_start,
            restarts: p.restarts,
        }
    }

    /// Per-sample L2 norm over all but the first dimension, `[N, 1, 1, 1]`.
    fn norms(t: &Tensor) -> Tensor {
        per_sample(&t.flatten(1, -1).norm_scalaropt_dim(2, [1], false), t)
    }

    /// The starting point: `x`, or a random point near it.
    fn start(&self, x: &Tensor) -> Tensor {
        if !self.random_start {
            return x.detach();
        }
        tch::no_grad(|| match self.norm {
            Norm::Linf => (x + (x.rand_like() * 2.0 - 1.0) * self.eps).clamp(0.0, 1.0),
            Norm::L2 => {
                let n = x.randn_like();
                let radius = Self::norms(&n).rand_like() * self.eps;
                (x + &n / Self::norms(&n) * radius).clamp(0.0, 1.0)
            }
        })
    }

    /// One step from `xt` along the gradient `g`, projected onto the ball
    /// around `x` and the unit box.
    pub fn step(&self, x: &Tensor, xt: &Tensor, g: &Tensor) -> Tensor {
        tch::no_grad(|| match self.norm {
            Norm::Linf => {
                let lo = (x - self.eps).clamp_min(0.0);
                let hi = (x + self.eps).clamp_max(1.0);
                (xt + g.sign() * self.step_size).maximum(&lo).minimum(&hi)
            }
            Norm::L2 => {
                let moved = xt + g / (Self::norms(g) + L2_DIV_EPS) * self.step_size;
                let delta = moved - x;
                // ε / 0 is +inf, so a zero step keeps its factor at 1.
                let factor = (Self::norms(&delta).reciprocal() * self.eps).clamp_max(1.0);
                (x + delta * factor).clamp(0.0, 1.0)
            }
        })
    }

    /// The restarts of [`Attack::perturb`] with any gradient `grad(x_t)`:
    /// the adversarial images, the steps taken per sample and whether each
    /// sample is misclassified at the end.
    pub fn perturb_with(
        &self,
        net: &Net,
        grad: &dyn Fn(&Tensor) -> Tensor,
        x: &Tensor,
        y: &Tensor,
    ) -> Perturbed {
        let n = x.size()[0];
        let dev = x.device();
        let mut best: Option<Tensor> = None;
        let mut fooled = Tensor::zeros([n], (Kind::Bool, dev));
        let mut iters = Tensor::zeros([n], (Kind::Int64, dev));
        for _ in 0..self.restarts {
            let mut xt = self.start(x);
            for _ in 0..self.steps {
                let g = grad(&xt);
                xt = self.step(x, &xt, &g);
            }
            let now = tch::no_grad(|| net.logits(&xt).argmax(1, false).ne_tensor(y));
            iters += fooled.logical_not().to_kind(Kind::Int64) * self.steps as i64;
            // Samples fooled by an earlier run keep that run's example.
            best = Some(match best {
                None => xt,
                Some(b) => b.where_self(&per_sample(&fooled, x), &xt),
            });
            fooled = fooled.logical_or(&now);
            if bool::try_from(fooled.all()).unwrap_or(false) {
                break;
            }
        }
        Perturbed {
            x_adv: best.unwrap_or_else(|| x.detach()),
            iters,
            success: Some(fooled),
        }
    }
}

impl Attack for Pgd {
    fn label(&self) -> String {
        let norm = match self.norm {
            Norm::Linf => "linf",
            Norm::L2 => "l2",
        };
        let start = if self.random_start { "random" } else { "x" };
        format!(
            "pgd(eps={},norm={norm},a={},T={},R={},start={start})",
            self.eps, self.step_size, self.steps, self.restarts
        )
    }

    fn budget(&self) -> Option<(Norm, f64)> {
        Some((self.norm, self.eps))
    }

    fn perturb(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        self.perturb_with(net, &|xt| input_gradient(net, xt, y), x, y)
    }
}
