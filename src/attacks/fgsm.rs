//! FGSM (Goodfellow et al. 2015), docs/definitions.md §2.
//!
//! ```text
//! x' = clip₀¹( x + ε · sign(∇ₓ CE(z(x), y)) )
//! ```
//! # Shapes
//! `x, x': [N, C, H, W]`, `y: [N]`.

use tch::{Kind, Tensor};

use super::{input_gradient, Attack, Perturbed};
use crate::suite::Norm;
use crate::train::Net;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fgsm {
    /// L∞ budget in pixel units.
    pub eps: f64,
}

impl Attack for Fgsm {
    fn label(&self) -> String {
        format!("fgsm(eps={})", self.eps)
    }

    fn budget(&self) -> Option<(Norm, f64)> {
        Some((Norm::Linf, self.eps))
    }

    fn perturb(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        let g = input_gradient(net, x, y);
        let x_adv = tch::no_grad(|| (x + g.sign() * self.eps).clamp(0.0, 1.0));
        let iters = Tensor::ones([x.size()[0]], (Kind::Int64, x.device()));
        Perturbed {
            x_adv,
            iters,
            success: None,
        }
    }
}
