//! Detectors (docs/definitions.md §3): a score per input, higher = more likely adversarial.
//!
//! Every detector may fit on clean training data ([`Detector::fit`]); the
//! supervised ones (`kd-bu`, `lid`) also fit on the fit split of (clean,
//! adversarial) pairs and the noisy copies of their clean images
//! ([`Detector::fit_pairs`], [`noisy_copies`]). All are then scored on the
//! same pairs by the runner ([`Detector::score_pairs`]: `lid` scores a
//! sample within its minibatch of clean samples). A detector that does not apply to a
//! model (`lgm-likelihood` without an L-GM head, `kd-bu` without dropout or
//! on an external model, a detector of features on an external model that
//! returns logits only) is not built: [`build`] says why, and the runner records the skip.
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

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use crate::error::DetectorFailure;
use crate::suite::{AutoOr, DetectorSpec};
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

/// The fit split's pairs a supervised detector fits on, `[M, C, H, W]` each.
#[derive(Debug, Clone, Copy)]
pub struct Pairs<'a> {
    /// Clean images (negatives).
    pub clean: &'a Tensor,
    /// Their adversarial counterparts (positives).
    pub adv: &'a Tensor,
    /// A noisy copy of each clean image ([`noisy_copies`]): more negatives
    /// for the detectors whose `noisy-negatives` is on.
    pub noisy: &'a Tensor,
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

    /// Fits on the pairs of the fit split. Called once per attack, before
    /// scoring that attack's pairs.
    fn fit_pairs(&mut self, _net: &Net, _pairs: &Pairs) -> Result<()> {
        Ok(())
    }

    /// Settings chosen by [`Detector::fit`] (e.g. `kd_sigma`), as
    /// `(metric, value)` for the results.
    fn fitted_on_clean(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Settings chosen by the last [`Detector::fit_pairs`] (e.g. `lr_c`).
    fn fitted_on_pairs(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// Scores `[N]` (f64) for images `x: [N, C, H, W]` whose eval-mode
    /// features `[N, D]` are `features`.
    fn score(&self, net: &Net, x: &Tensor, features: &Tensor) -> Result<Tensor>;

    /// The score of images `x: [N, C, H, W]` as a differentiable function
    /// of `x` (`[N]`, its graph kept), for the attacks that target this
    /// detector (adaptive attacks, docs/definitions.md §2.7); `None` for a
    /// detector without one.
    fn differentiable_score(&self, _net: &Net, _x: &Tensor) -> Option<Result<Tensor>> {
        None
    }

    /// Scores of clean images and of their adversarial counterparts (row i
    /// of `adv` attacks row i of `clean`), `([N], [N])` f64. The default
    /// scores each image on its own; `lid` scores each within its
    /// minibatch of clean images.
    fn score_pairs(
        &self,
        net: &Net,
        clean: &Tensor,
        adv: &Tensor,
        f_clean: &Tensor,
        f_adv: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        Ok((
            self.score(net, clean, f_clean)?,
            self.score(net, adv, f_adv)?,
        ))
    }
}

/// A noisy copy of each clean image, the noisy negatives of Feinman et al.
/// and Ma et al. (docs/definitions.md §3.1): Gaussian noise scaled so that
/// its L2 norm equals the pair's adversarial perturbation's, then clipped
/// to the pixel range.
///
/// ```text
/// g ~ N(0, I) (seeded),   x_noisy = clip(x + ‖x' − x‖₂ · g / ‖g‖₂, 0, 1)
/// ```
///
/// The noise is drawn in f64 from a ChaCha8 stream seeded with `seed`, image
/// after image, pixel after pixel in `[C, H, W]` order, by Box–Muller
/// ([`standard_normals`]).
///
/// # Shapes
/// `clean`, `adv`: `[M, C, H, W]` -> `[M, C, H, W]`, the kind of `clean`.
pub fn noisy_copies(clean: &Tensor, adv: &Tensor, seed: u64) -> Tensor {
    let m = clean.size()[0];
    let per = if m == 0 {
        0
    } else {
        clean.numel() / m as usize
    };
    let g = standard_normals(&mut ChaCha8Rng::seed_from_u64(seed), m as usize * per);
    let g = Tensor::from_slice(&g)
        .view(clean.size().as_slice())
        .to_device(clean.device());
    let norm = |t: &Tensor| {
        t.flatten(1, -1)
            .norm_scalaropt_dim(2.0, [1], false)
            .view([m, 1, 1, 1])
    };
    let clean64 = clean.to_kind(Kind::Double);
    let target = norm(&(adv.to_kind(Kind::Double) - &clean64));
    let noise = &g * target / norm(&g).clamp_min(f64::MIN_POSITIVE);
    (clean64 + noise).clamp(0.0, 1.0).to_kind(clean.kind())
}

/// `n` standard normal draws by the Box–Muller transform: each two uniforms
/// `u₁ ∈ (0, 1]`, `u₂ ∈ [0, 1)` give `√(−2 log u₁)·(cos 2πu₂, sin 2πu₂)`.
pub fn standard_normals(rng: &mut impl Rng, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        out.extend([r * t.cos(), r * t.sin()]);
    }
    out.truncate(n);
    out
}

/// The logistic regression of a supervised detector named `detector`:
/// `C` fixed, or (`auto`) chosen by [`logistic::LogisticRegression::fit_cv`]
/// over scikit-learn's default grid and folds. Returns it and the `C` used.
pub(crate) fn fit_regression(
    detector: &str,
    x: &[f64],
    d: usize,
    y: &[bool],
    c: AutoOr,
) -> Result<(logistic::StandardizedLogistic, f64)> {
    use logistic::{cv_grid, StandardizedLogistic, CV_CS, CV_FOLDS};
    let fitted = match c {
        AutoOr::Fixed(c) => StandardizedLogistic::fit(x, d, y, c).map(|m| (m, c)),
        AutoOr::Auto => StandardizedLogistic::fit_cv(x, d, y, &cv_grid(CV_CS), CV_FOLDS)
            .map(|(m, choice)| (m, choice.c)),
    };
    fitted.map_err(|e| error(detector, e))
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
    fn score(&self, net: &Net, x: &Tensor, f: &Tensor) -> Result<Tensor> {
        let z = net.logits_of(x, f).to_kind(Kind::Double);
        Ok(-z.softmax(1, Kind::Double).amax([1], false))
    }
    fn differentiable_score(&self, net: &Net, x: &Tensor) -> Option<Result<Tensor>> {
        Some(self.score(net, x, &net.features(x, false)))
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
    fn differentiable_score(&self, net: &Net, x: &Tensor) -> Option<Result<Tensor>> {
        Some(self.score(net, x, &net.features(x, false)))
    }
}

/// Builds the detector, or says why it does not apply to `net`.
pub fn build(spec: &DetectorSpec, net: &Net) -> std::result::Result<Box<dyn Detector>, String> {
    let features = matches!(
        spec,
        DetectorSpec::Mahalanobis
            | DetectorSpec::Kd(_)
            | DetectorSpec::KdBu(_)
            | DetectorSpec::Lid(_)
    );
    if features && !net.has_features() {
        return Err(
            "needs features: the external model returns logits only (return \
                    (logits, features) from its forward to give them)"
                .into(),
        );
    }
    match spec {
        DetectorSpec::MaxSoftmax => Ok(Box::new(MaxSoftmax)),
        DetectorSpec::LgmLikelihood if net.head.has_density() => Ok(Box::new(LgmLikelihood)),
        DetectorSpec::LgmLikelihood => {
            Err("needs an lgm head (this model has no class-conditional density)".into())
        }
        DetectorSpec::Mahalanobis => Ok(Box::new(Mahalanobis::new())),
        DetectorSpec::Kd(p) => Ok(Box::new(Kd::new(p.sigma))),
        DetectorSpec::KdBu(_) if net.is_external() => Err(
            "needs MC-dropout passes, which lossbench makes only on the models it builds (an \
             external model's dropout cannot be switched on alone)"
                .into(),
        ),
        DetectorSpec::KdBu(p) if net.dropout() > 0.0 => Ok(Box::new(KdBu::new(p))),
        DetectorSpec::KdBu(_) => Err(
            "needs a backbone with dropout (model.dropout is 0, so MC-dropout predictions never vary)"
                .into(),
        ),
        DetectorSpec::Lid(p) => Ok(Box::new(Lid::new(p))),
    }
}
