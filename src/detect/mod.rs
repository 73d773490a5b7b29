//! Detectors (docs/definitions.md §3): a score per input, higher = more likely adversarial.
//!
//! Every detector may fit on clean training data ([`Detector::fit`]); the
//! supervised ones (`kd-bu`, `lid`) also fit on the fit split of (clean,
//! adversarial) pairs ([`Detector::fit_pairs`]). All are then scored on the
//! same held-out pairs by the runner. A detector that does not apply to a
//! model (`lgm-likelihood` without an L-GM head, `kd-bu` without dropout) is
//! not built: [`build`] says why, and the runner records the skip.
//!
//! This room sees models only through [`Net`] (features, MC-dropout features,
//! per-layer activations, logits); it knows nothing of attacks, splits or
//! metrics.

pub mod kd;
pub mod kd_bu;
pub mod lid;
pub mod logistic;
pub mod mahalanobis;

pub use kd::Kd;
pub use kd_bu::KdBu;
pub use lid::Lid;
pub use mahalanobis::Mahalanobis;

use tch::{Device, Kind, Tensor};

use crate::error::DetectorFailure;
use crate::suite::DetectorSpec;
use crate::train::Net;
use crate::{Error, Result};

/// An error raised inside a detector, naming it: [`Error::Detector`]
/// without an attack. The runner adds the attack whose pairs it was on
/// (see `runner::evaluate`).
pub(crate) fn error(detector: &str, why: impl Into<DetectorFailure>) -> Error {
    Error::Detector {
        detector: detector.to_owned(),
        attack: None,
        source: why.into(),
    }
}

/// A tensor's values as f64, row-major, on the CPU.
pub(crate) fn to_vec_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(
        &t.to_kind(Kind::Double)
            .to_device(Device::Cpu)
            .flatten(0, -1),
    )?)
}

/// Clean training data a detector may fit on.
#[derive(Debug, Clone, Copy)]
pub struct FitData<'a> {
    /// Images `[N, C, H, W]` in [0, 1].
    pub x: &'a Tensor,
    /// Labels `[N]` (i64).
    pub y: &'a Tensor,
    /// `net.features(x, false)`, `[N, D]`, computed once for all detectors.
    pub features: &'a Tensor,
}

/// An adversarial-example detector.
pub trait Detector {
    fn name(&self) -> &'static str;

    /// Fits on clean training data. The default does nothing.
    fn fit(&mut self, _net: &Net, _train: &FitData) -> Result<()> {
        Ok(())
    }

    /// Whether [`Detector::fit_pairs`] must run before [`Detector::score`].
    fn supervised(&self) -> bool {
        false
    }

    /// Fits on (clean, adversarial) image pairs `[M, C, H, W]` of the fit
    /// split. Called once per attack, before scoring that attack's pairs.
    fn fit_pairs(&mut self, _net: &Net, _clean: &Tensor, _adv: &Tensor) -> Result<()> {
        Ok(())
    }

    /// Scores `[N]` (f64) for images `x: [N, C, H, W]` whose eval-mode
    /// features `[N, D]` are `features`.
    fn score(&self, net: &Net, x: &Tensor, features: &Tensor) -> Result<Tensor>;
}

/// `max-softmax` (Hendrycks & Gimpel 2017).
///
/// ```text
/// s(x) = − max_k softmax(z(x))_k
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MaxSoftmax;

impl Detector for MaxSoftmax {
    fn name(&self) -> &'static str {
        "max-softmax"
    }
    fn score(&self, net: &Net, _x: &Tensor, f: &Tensor) -> Result<Tensor> {
        let z = net.head.logits(f).to_kind(Kind::Double);
        Ok(-z.softmax(1, Kind::Double).amax([1], false))
    }
}

/// `lgm-likelihood` (Wan et al. 2018): the negative log-likelihood of the
/// feature under the Gaussian of the predicted class.
///
/// ```text
/// s(x) = − log N(f; μ_ŷ, Λ_ŷ),   ŷ = argmax_k z_k
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LgmLikelihood;

impl Detector for LgmLikelihood {
    fn name(&self) -> &'static str {
        "lgm-likelihood"
    }
    fn score(&self, net: &Net, _x: &Tensor, f: &Tensor) -> Result<Tensor> {
        let ll = net
            .head
            .log_likelihood(f)
            .expect("build() checked that the head models a density")
            .to_kind(Kind::Double);
        let pred = net.head.logits(f).argmax(1, true);
        Ok(-ll.gather(1, &pred, false).squeeze_dim(1))
    }
}

/// Builds the detector, or says why it does not apply to `net`.
pub fn build(spec: &DetectorSpec, net: &Net) -> std::result::Result<Box<dyn Detector>, String> {
    match spec {
        DetectorSpec::MaxSoftmax => Ok(Box::new(MaxSoftmax)),
        DetectorSpec::LgmLikelihood if net.head.has_density() => Ok(Box::new(LgmLikelihood)),
        DetectorSpec::LgmLikelihood => {
            Err("needs an lgm head (this model has no class-conditional density)".into())
        }
        DetectorSpec::Mahalanobis => Ok(Box::new(Mahalanobis::new())),
        DetectorSpec::Kd(p) => Ok(Box::new(Kd::new(p.sigma))),
        DetectorSpec::KdBu(p) if net.dropout() > 0.0 => Ok(Box::new(KdBu::new(p))),
        DetectorSpec::KdBu(_) => Err(
            "needs a backbone with dropout (model.dropout is 0, so MC-dropout predictions never vary)"
                .into(),
        ),
        DetectorSpec::Lid(p) => Ok(Box::new(Lid::new(p))),
    }
}
