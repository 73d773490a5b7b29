//! `kd-bu` (Feinman et al. 2017, docs/definitions.md §3): a logistic regression on two
//! features, the kernel density score of [`Kd`] and the Bayesian uncertainty
//! (BU) of MC-dropout predictions.

use tch::{Kind, Tensor};

use super::kd::Kd;
use super::logistic::StandardizedLogistic;
use super::{Detector, FitData, Pairs};
use crate::suite::spec::KdBuParams;
use crate::suite::AutoOr;
use crate::train::{self, Net};
use crate::Result;

/// Images per forward pass.
const BATCH: i64 = 500;

/// Bayesian uncertainty of `T` stochastic softmax outputs, as Feinman et al.'s
/// code computes it (`preds_mc.var(axis=0).mean(axis=1)`): the population
/// variance over the passes, averaged over the classes.
///
/// ```text
/// p̄_k   = (1/T) Σ_t p_tk
/// BU    = (1/K) Σ_k (1/T) Σ_t (p_tk − p̄_k)²
///       = (1/K) [ (1/T) Σ_t ‖p_t‖² − ‖p̄‖² ]
/// ```
///
/// (The paper writes the bracket without `1/K`; the constant factor does not
/// matter after standardisation.)
///
/// # Shapes
/// `probs: [T, N, K]` -> `[N]`, f64.
pub fn bayesian_uncertainty(probs: &Tensor) -> Tensor {
    probs
        .to_kind(Kind::Double)
        .var_correction(Some(&[0i64][..]), 0, false)
        .mean_dim(Some(&[1i64][..]), false, Kind::Double)
}

/// BU of `x` over `samples` MC-dropout passes ([`Mode::McDropout`](crate::models::Mode::McDropout): dropout
/// on, batch norm in eval mode) of the inference softmax
/// ([`Net::mc_dropout_logits`]: the trunk runs once). Draws from libtorch's
/// global generator.
///
/// # Shapes
/// `x: [N, C, H, W]` -> `[N]`, f64.
pub fn mc_dropout_uncertainty(net: &Net, x: &Tensor, samples: usize) -> Tensor {
    train::map_batches(x, BATCH, |b| {
        let probs: Vec<Tensor> = net
            .mc_dropout_logits(b, samples)
            .iter()
            .map(|z| z.softmax(1, Kind::Double))
            .collect();
        bayesian_uncertainty(&Tensor::stack(&probs, 0))
    })
}

/// `kd-bu`: Feinman et al. 2017 (docs/definitions.md §3).
///
/// ```text
/// KD(x)  = kd score (see Kd): −log mean_{x' ∈ X_ŷ} exp(−‖f(x) − f(x')‖²/σ²)
/// BU(x)  = bayesian_uncertainty of T MC-dropout softmax outputs
/// s(x)   = w·z(KD, BU) + b,   z = z-score on the fit pairs
/// ```
///
/// `w, b` fit a [`StandardizedLogistic`] (`C` fixed or cross-validated,
/// [`super::fit_regression`]) with the adversarial images of the fit split as
/// positives and their clean counterparts (and, with `noisy-negatives`,
/// their noisy copies) as negatives; the score is its decision function
/// (higher = adversarial). `sigma: auto` is chosen as for [`Kd`].
/// Applies only to a backbone with dropout ([`super::build`] says so).
///
/// # Shapes
/// Scores `[N]` f64 for images `x: [N, C, H, W]` with features `f: [N, D]`.
#[derive(Debug)]
pub struct KdBu {
    kd: Kd,
    samples: usize,
    noisy_negatives: bool,
    c: AutoOr,
    /// The regression and the `C` it used, after [`Detector::fit_pairs`].
    model: Option<(StandardizedLogistic, f64)>,
}

impl KdBu {
    pub fn new(p: &KdBuParams) -> KdBu {
        KdBu {
            kd: Kd::new(p.sigma),
            samples: p.samples,
            noisy_negatives: p.noisy_negatives,
            c: p.c,
            model: None,
        }
    }

    /// `(KD, BU)` per image, row-major `[N, 2]`.
    fn features(&self, net: &Net, x: &Tensor, f: &Tensor) -> Result<Vec<f64>> {
        let kd = self.kd.score_features(net, x, f)?;
        let bu = tch::no_grad(|| mc_dropout_uncertainty(net, x, self.samples));
        super::to_vec_f64(&Tensor::stack(&[kd, bu], 1))
    }
}

impl Detector for KdBu {
    fn name(&self) -> &'static str {
        "kd-bu"
    }

    fn fit(&mut self, net: &Net, train: &FitData) -> Result<()> {
        self.kd.fit(net, train)
    }

    fn supervised(&self) -> bool {
        true
    }

    fn fit_pairs(&mut self, net: &Net, pairs: &Pairs) -> Result<()> {
        let eval = |x: &Tensor| train::map_batches(x, BATCH, |b| net.features(b, false));
        let mut negatives = vec![pairs.clean];
        if self.noisy_negatives {
            negatives.push(pairs.noisy);
        }
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for (images, positive) in negatives
            .iter()
            .map(|n| (*n, false))
            .chain([(pairs.adv, true)])
        {
            x.extend(self.features(net, images, &eval(images))?);
            y.extend(std::iter::repeat_n(positive, images.size()[0] as usize));
        }
        self.model = Some(super::fit_regression(self.name(), &x, 2, &y, self.c)?);
        Ok(())
    }

    fn fitted_on_clean(&self) -> Vec<(&'static str, f64)> {
        self.kd.fitted_on_clean()
    }

    fn fitted_on_pairs(&self) -> Vec<(&'static str, f64)> {
        self.model.iter().map(|(_, c)| ("lr_c", *c)).collect()
    }

    fn score(&self, net: &Net, x: &Tensor, f: &Tensor) -> Result<Tensor> {
        let (model, _) = self
            .model
            .as_ref()
            .ok_or_else(|| super::error(self.name(), "scored before fit_pairs"))?;
        let s = model.decision_function(&self.features(net, x, f)?);
        Ok(Tensor::from_slice(&s))
    }
}
