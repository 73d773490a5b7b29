//! BIM, the basic iterative method (Kurakin et al. 2017), docs/definitions.md §2.
//!
//! ```text
//! x₀ = x
//! x_{t+1} = clip_{[0,1] ∩ B∞(x, ε)}( x_t + a · sign(∇ CE(z(x_t), y)) ),  t < T
//! ```
//! Projection and clipping every step, no random start. `stop: last` (BIM-b)
//! runs all T steps; `stop: first` (BIM-a) freezes a sample at the first step
//! where it is misclassified. `iters` counts the steps applied to each sample.
//!
//! `stop: first` forwards only the samples still classified correctly: each
//! step's forward pass both checks the current iterate and gives the gradient
//! for the next step, and a frozen sample costs nothing afterwards. Success
//! flags come from those passes, plus one pass over the samples that were
//! never frozen.
//!
//! # Shapes
//! `x, x': [N, C, H, W]`, `y: [N]`.

use tch::{Kind, Reduction, Tensor};

use super::{input_gradient, Attack, Perturbed};
use crate::suite::spec::BimParams;
use crate::suite::{BimStop, Norm};
use crate::train::Net;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bim {
    pub eps: f64,
    /// Step size `a`.
    pub step_size: f64,
    pub steps: usize,
    pub stop: BimStop,
}

impl Bim {
    /// The attack at budget `eps` (one value of the declared sweep).
    pub fn new(p: &BimParams, eps: f64) -> Bim {
        Bim {
            eps,
            step_size: p.step_size.unwrap_or(eps / 4.0),
            steps: p.steps,
            stop: p.stop,
        }
    }
}

impl Attack for Bim {
    fn label(&self) -> String {
        let stop = match self.stop {
            BimStop::First => "first",
            BimStop::Last => "last",
        };
        format!(
            "bim(eps={},a={},T={},stop={stop})",
            self.eps, self.step_size, self.steps
        )
    }

    fn budget(&self) -> Option<(Norm, f64)> {
        Some((Norm::Linf, self.eps))
    }

    fn perturb(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        match self.stop {
            BimStop::Last => self.every_step(net, x, y),
            BimStop::First => self.until_fooled(net, x, y),
        }
    }
}

impl Bim {
    /// One projected signed-gradient step from `xt`, inside the box `[lo, hi]`.
    fn step(&self, xt: &Tensor, g: &Tensor, lo: &Tensor, hi: &Tensor) -> Tensor {
        tch::no_grad(|| (xt + g.sign() * self.step_size).maximum(lo).minimum(hi))
    }

    /// `[max(x − ε, 0), min(x + ε, 1)]`: the ε-ball intersected with [0, 1].
    fn bounds(&self, x: &Tensor) -> (Tensor, Tensor) {
        tch::no_grad(|| ((x - self.eps).clamp_min(0.0), (x + self.eps).clamp_max(1.0)))
    }

    /// BIM-b: all T steps on every sample.
    fn every_step(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        let (lo, hi) = self.bounds(x);
        let mut xt = x.detach();
        for _ in 0..self.steps {
            let g = input_gradient(net, &xt, y);
            xt = self.step(&xt, &g, &lo, &hi);
        }
        let iters = Tensor::full([x.size()[0]], self.steps as i64, (Kind::Int64, x.device()));
        Perturbed {
            x_adv: xt,
            iters,
            success: None,
        }
    }

    /// BIM-a: a sample leaves the batch at its first misclassified iterate.
    fn until_fooled(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        let n = x.size()[0];
        let dev = x.device();
        let (lo, hi) = self.bounds(x);
        let mut xt = x.detach();
        let mut iters = Tensor::zeros([n], (Kind::Int64, dev));
        // Indices of the samples not yet misclassified at their iterate.
        let mut idx = Tensor::arange(n, (Kind::Int64, dev));
        for _ in 0..self.steps {
            if idx.size()[0] == 0 {
                break;
            }
            let xa = xt.index_select(0, &idx).set_requires_grad(true);
            let ya = y.index_select(0, &idx);
            let logits = net.logits(&xa);
            let keep = tch::no_grad(|| logits.argmax(1, false).eq_tensor(&ya));
            let kept = keep.nonzero().squeeze_dim(1);
            if kept.size()[0] == 0 {
                idx = kept;
                break;
            }
            let loss = logits.cross_entropy_loss::<Tensor>(&ya, None, Reduction::Sum, -100, 0.0);
            let g = Tensor::run_backward(&[loss], &[&xa], false, false)
                .pop()
                .expect("one input, one gradient");
            idx = idx.index_select(0, &kept);
            let stepped = self.step(
                &xa.detach().index_select(0, &kept),
                &g.index_select(0, &kept),
                &lo.index_select(0, &idx),
                &hi.index_select(0, &idx),
            );
            xt = xt.index_copy(0, &idx, &stepped);
            iters = iters.index_add(0, &idx, &Tensor::ones_like(&idx));
        }
        // Frozen samples were misclassified when frozen; the rest are checked
        // on their last iterate.
        let mut success = Tensor::ones([n], (Kind::Bool, dev));
        if idx.size()[0] > 0 {
            let fooled = tch::no_grad(|| {
                net.logits(&xt.index_select(0, &idx))
                    .argmax(1, false)
                    .ne_tensor(&y.index_select(0, &idx))
            });
            let _ = success.index_copy_(0, &idx, &fooled);
        }
        Perturbed {
            x_adv: xt,
            iters,
            success: Some(success),
        }
    }
}
