//! Adaptive (detector-aware) attacks (Carlini & Wagner 2017, "Adversarial
//! examples are not easily detected"), docs/definitions.md §2.7: PGD or C&W
//! whose objective also pushes a detector's score `s` (higher = more
//! adversarial) down, so that the example is misclassified *and* looks clean.
//!
//! ```text
//! m_i   = 1[argmax z(x_i) ≠ y_i]        (at the current iterate, no gradient)
//! PGD:  g_t = ∇ₓ Σ_i [ CE(z(x_i), y_i) − κ · m_i · s(x_i) ]          (ascent, as PGD)
//! C&W:  L_i = ‖x'_i − x̃_i‖₂² + c_i · margin_i + κ · m_i · s(x'_i)    (descent, as C&W)
//! ```
//! `s` is the fitted detector's score as a differentiable function of the
//! image ([`crate::detect::Detector::differentiable_score`]). The detector
//! term acts on a sample once its iterate is misclassified: the scores of
//! the class-conditional detectors are those of the predicted class, so
//! before that, lowering `s` would pull the features towards the true
//! class's mean and undo the attack (measured: with the term always on,
//! PGD fooled none of 82 samples it fools without it). After it, `s` is
//! the score under the class the attack moved to, which is Carlini &
//! Wagner's target-class density term.

use tch::{Kind, Reduction, Tensor};

use super::{Attack, CwL2, Perturbed, Pgd};
use crate::suite::spec::AdaptiveTarget;
use crate::suite::Norm;
use crate::train::Net;

/// The attack an adaptive attack extends.
#[derive(Debug, Clone, Copy)]
pub enum Base {
    Pgd(Pgd),
    Cw(CwL2),
}

/// An attack on the classifier and on one detector at once.
pub struct Adaptive<'a> {
    pub base: Base,
    pub target: AdaptiveTarget,
    pub kappa: f64,
    /// The detector's differentiable score `[N]` of images `[N, C, H, W]`.
    pub score: &'a dyn Fn(&Tensor) -> Tensor,
}

impl Adaptive<'_> {
    /// `m_i · s(x_i)` `[N]` (f64) for logits `z` of images `x`.
    fn gated_score(&self, z: &Tensor, x: &Tensor, y: &Tensor) -> Tensor {
        let fooled = tch::no_grad(|| z.argmax(1, false).ne_tensor(y).to_kind(Kind::Double));
        (self.score)(x).to_kind(Kind::Double) * fooled
    }

    /// `∇ₓ Σ_i [CE(z(x_i), y_i) − κ s(x_i)]` (eval mode), in f64 before the
    /// backward pass.
    pub fn gradient(&self, net: &Net, x: &Tensor, y: &Tensor) -> Tensor {
        let x = x.detach().set_requires_grad(true);
        let z = net.logits(&x);
        let ce = z.cross_entropy_loss::<Tensor>(y, None, Reduction::Sum, -100, 0.0);
        let s = self.gated_score(&z, &x, y).sum(Kind::Double);
        let objective = ce.to_kind(Kind::Double) - s * self.kappa;
        Tensor::run_backward(&[objective], &[&x], false, false)
            .pop()
            .expect("one input, one gradient")
    }
}

impl Attack for Adaptive<'_> {
    fn label(&self) -> String {
        let base = match &self.base {
            Base::Pgd(p) => p.label(),
            Base::Cw(c) => c.label(),
        };
        let inner = base.strip_suffix(')').unwrap_or(&base);
        format!(
            "{inner},against={},kappa={})",
            self.target.name(),
            self.kappa
        )
    }

    fn budget(&self) -> Option<(Norm, f64)> {
        match &self.base {
            Base::Pgd(p) => p.budget(),
            Base::Cw(c) => c.budget(),
        }
    }

    fn perturb(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        match &self.base {
            Base::Pgd(p) => p.perturb_with(net, &|xt| self.gradient(net, xt, y), x, y),
            Base::Cw(c) => {
                let extra = |xp: &Tensor| {
                    let z = tch::no_grad(|| net.logits(xp));
                    (self.gated_score(&z, xp, y) * self.kappa).to_kind(xp.kind())
                };
                c.perturb_with(&|xp| net.logits(xp), &extra, x, y)
            }
        }
    }
}
