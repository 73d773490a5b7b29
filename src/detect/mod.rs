//! Detectors (SPEC §3): a score per input, higher = more likely adversarial.
//! A detector that does not apply to a model (e.g. `lgm-likelihood` on a
//! softmax head) says why, and the runner records the skip.

use tch::{Kind, Tensor};

use crate::suite::DetectorSpec;
use crate::train::Net;

/// Scores inputs from their features (computed once by the caller).
pub trait Detector {
    fn name(&self) -> &'static str;
    /// Scores `[N]` (f64) for features `f: [N, D]`.
    fn score(&self, net: &Net, f: &Tensor) -> Tensor;
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
    fn score(&self, net: &Net, f: &Tensor) -> Tensor {
        let z = net.head.logits(f).to_kind(Kind::Double);
        -z.softmax(1, Kind::Double).amax([1], false)
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
    fn score(&self, net: &Net, f: &Tensor) -> Tensor {
        let ll = net
            .head
            .log_likelihood(f)
            .expect("checked by build(): the head models a density")
            .to_kind(Kind::Double);
        let pred = net.head.logits(f).argmax(1, true);
        -ll.gather(1, &pred, false).squeeze_dim(1)
    }
}

/// Builds the detector, or says why it does not apply to `net`.
pub fn build(spec: &DetectorSpec, net: &Net) -> Result<Box<dyn Detector>, String> {
    match spec {
        DetectorSpec::MaxSoftmax => Ok(Box::new(MaxSoftmax)),
        DetectorSpec::LgmLikelihood if net.head.has_density() => Ok(Box::new(LgmLikelihood)),
        DetectorSpec::LgmLikelihood => {
            Err("needs an lgm head (this model has no class-conditional density)".into())
        }
    }
}
