//! Attacks (docs/definitions.md §2): untargeted, against the true label, on inference logits,
//! model in eval mode, pixels clipped to [0, 1], run only on the clean-correct
//! test samples. Every attack is batched and runs on the model's device.

mod adaptive;
mod bim;
mod cw;
mod deepfool;
mod fgsm;
mod pgd;

pub use adaptive::{Adaptive, Base};
pub use bim::Bim;
pub use cw::CwL2;
pub use deepfool::DeepFool;
pub use fgsm::Fgsm;
pub use pgd::Pgd;

use tch::{Kind, Reduction, Tensor};

use crate::suite::spec::AdaptiveTarget;
use crate::suite::{AttackSpec, Labeled, Norm};
use crate::train::Net;

/// The outcome of an attack on a batch.
#[derive(Debug)]
pub struct AdvBatch {
    /// Adversarial images `[N, C, H, W]` in [0, 1].
    pub x_adv: Tensor,
    /// `[N]` bool: the prediction on `x_adv` differs from the true label.
    pub success: Tensor,
    /// `[N]` f64: ‖x_adv − x‖₂ and ‖x_adv − x‖∞ per sample.
    pub l2: Tensor,
    pub linf: Tensor,
    /// `[N]` i64: iterations used (1 for single-step attacks).
    pub iters: Tensor,
}

/// The adversarial images alone, before the outcome is measured.
#[derive(Debug)]
pub struct Perturbed {
    /// Adversarial images `[N, C, H, W]` in [0, 1].
    pub x_adv: Tensor,
    /// `[N]` i64: iterations used.
    pub iters: Tensor,
    /// `[N]` bool success flags when the attack already knows them from its
    /// own forward passes (DeepFool, BIM stopping early); `None` when finding
    /// them takes one more forward pass on `x_adv`.
    pub success: Option<Tensor>,
}

/// An adversarial attack with fixed parameters.
pub trait Attack {
    /// Label with parameters, e.g. `fgsm(eps=0.1)`; used in result tables.
    fn label(&self) -> String;
    /// The norm ball the attack stays in, for the worst case over the
    /// attacks of one budget; `None` for attacks without one (DeepFool, C&W).
    fn budget(&self) -> Option<(Norm, f64)> {
        None
    }
    /// The adversarial images for `x: [N, C, H, W]` with true labels `y: [N]`:
    /// the attack's own work, as the PyTorch attack libraries return it.
    fn perturb(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed;
    /// [`Attack::perturb`] and its outcome: success flags (one forward pass
    /// on `x_adv` unless the attack knows them), L2 and L∞ norms.
    fn run(&self, net: &Net, x: &Tensor, y: &Tensor) -> AdvBatch {
        let p = self.perturb(net, x, y);
        match p.success {
            Some(success) => summarize(x, p.x_adv, success, p.iters),
            None => finish(net, x, p.x_adv, y, p.iters),
        }
    }
}

/// The detector an entry attacks as well (an adaptive attack), and κ.
pub fn adaptive_target(spec: &AttackSpec) -> Option<(AdaptiveTarget, f64)> {
    match spec {
        AttackSpec::Pgd(p) => p.against.map(|t| (t, p.kappa)),
        AttackSpec::CwL2(p) => p.against.map(|t| (t, p.kappa)),
        _ => None,
    }
}

/// One attack per `eps` value of `entry`; a labelled entry's attacks put
/// its label in place of the attack's name (`bim-a(eps=0.1,...)`). An
/// adaptive entry ([`adaptive_target`]) needs its detector's differentiable
/// `score`; without one it builds the plain attack.
pub fn build<'a>(
    entry: &Labeled<AttackSpec>,
    score: Option<&'a dyn Fn(&Tensor) -> Tensor>,
) -> Vec<Box<dyn Attack + 'a>> {
    let attacks = build_spec(entry, score);
    match &entry.label {
        None => attacks,
        Some(label) => attacks
            .into_iter()
            .map(|inner| {
                let label = label.clone();
                Box::new(Relabeled { label, inner }) as Box<dyn Attack + 'a>
            })
            .collect(),
    }
}

/// An attack whose results go under another name.
struct Relabeled<'a> {
    label: String,
    inner: Box<dyn Attack + 'a>,
}

impl Attack for Relabeled<'_> {
    fn label(&self) -> String {
        let own = self.inner.label();
        let params = own.find('(').map_or("", |i| &own[i..]);
        format!("{}{params}", self.label)
    }
    fn budget(&self) -> Option<(Norm, f64)> {
        self.inner.budget()
    }
    fn perturb(&self, net: &Net, x: &Tensor, y: &Tensor) -> Perturbed {
        self.inner.perturb(net, x, y)
    }
    fn run(&self, net: &Net, x: &Tensor, y: &Tensor) -> AdvBatch {
        self.inner.run(net, x, y)
    }
}

fn build_spec<'a>(
    spec: &AttackSpec,
    score: Option<&'a dyn Fn(&Tensor) -> Tensor>,
) -> Vec<Box<dyn Attack + 'a>> {
    let adaptive = |base: Base| -> Box<dyn Attack + 'a> {
        match (adaptive_target(spec), score) {
            (Some((target, kappa)), Some(score)) => Box::new(Adaptive {
                base,
                target,
                kappa,
                score,
            }),
            _ => match base {
                Base::Pgd(p) => Box::new(p),
                Base::Cw(c) => Box::new(c),
            },
        }
    };
    match spec {
        AttackSpec::Fgsm(p) => p
            .eps
            .iter()
            .map(|&eps| Box::new(Fgsm { eps }) as Box<dyn Attack>)
            .collect(),
        AttackSpec::Bim(p) => p
            .eps
            .iter()
            .map(|&eps| Box::new(Bim::new(p, eps)) as Box<dyn Attack>)
            .collect(),
        AttackSpec::Pgd(p) => p
            .eps
            .iter()
            .map(|&eps| adaptive(Base::Pgd(Pgd::new(p, eps))))
            .collect(),
        AttackSpec::CwL2(p) => vec![adaptive(Base::Cw(CwL2::new(p)))],
        AttackSpec::Deepfool(p) => vec![Box::new(DeepFool::new(p))],
    }
}

/// `v: [N]` reshaped to `[N, 1, ..., 1]` with as many dimensions as
/// `like`, to broadcast one value per sample over its image.
pub(crate) fn per_sample(v: &Tensor, like: &Tensor) -> Tensor {
    let mut shape = vec![v.size()[0]];
    shape.extend(std::iter::repeat_n(1, like.dim() - 1));
    v.reshape(shape)
}

/// `∇ₓ Σ_i CE(z(x_i), y_i)` on inference logits (eval mode). Summing rather
/// than averaging keeps per-sample gradients independent of the batch size.
pub fn input_gradient(net: &Net, x: &Tensor, y: &Tensor) -> Tensor {
    let x = x.detach().set_requires_grad(true);
    let loss = net
        .logits(&x)
        .cross_entropy_loss::<Tensor>(y, None, Reduction::Sum, -100, 0.0);
    Tensor::run_backward(&[loss], &[&x], false, false)
        .pop()
        .expect("one input, one gradient")
}

/// Fills an [`AdvBatch`] from the clean and adversarial images, with one
/// forward pass on `x_adv` for the success flags.
pub fn finish(net: &Net, x: &Tensor, x_adv: Tensor, y: &Tensor, iters: Tensor) -> AdvBatch {
    let success = tch::no_grad(|| net.logits(&x_adv).argmax(1, false).ne_tensor(y));
    summarize(x, x_adv, success, iters)
}

/// Fills an [`AdvBatch`] when the attack already knows which samples it fooled.
pub fn summarize(x: &Tensor, x_adv: Tensor, success: Tensor, iters: Tensor) -> AdvBatch {
    tch::no_grad(|| {
        let delta = (&x_adv - x).flatten(1, -1).to_kind(Kind::Double);
        let l2 = delta.norm_scalaropt_dim(2, [1], false);
        let linf = delta.abs().amax([1], false);
        AdvBatch {
            x_adv,
            success,
            l2,
            linf,
            iters,
        }
    })
}
