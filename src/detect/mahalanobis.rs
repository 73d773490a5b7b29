//! `mahalanobis` (Lee et al. 2018, docs/definitions.md §3): the distance of a feature to the
//! closest class-conditional Gaussian with a tied covariance, fitted on clean
//! training features. Only the penultimate layer (the features the head
//! sees) and no input preprocessing, as docs/definitions.md §3 fixes.

use tch::{Kind, Tensor};

use super::{Detector, FitData};
use crate::train::Net;
use crate::Result;

/// Class means `[K', D]` of the classes present in `y` and their labels
/// `[K']`, and the tied covariance `[D, D]` with the `1/N` normalisation
/// (maximum likelihood, as scikit-learn's `EmpiricalCovariance` and Lee et
/// al.'s code):
///
/// ```text
/// μ̂_k = (1/N_k) Σ_{i: y_i = k} f_i
/// Σ̂   = (1/N) Σ_i (f_i − μ̂_{y_i})(f_i − μ̂_{y_i})ᵀ
/// ```
///
/// # Shapes
/// `f: [N, D]` (any float kind, computed in f64), `y: [N]` i64 in `0..classes`
/// -> `(means [K', D], labels [K'], cov [D, D])`, f64.
pub fn fit_tied_gaussian(f: &Tensor, y: &Tensor, classes: i64) -> (Tensor, Tensor, Tensor) {
    let f = f.to_kind(Kind::Double);
    let n = f.size()[0];
    let onehot = y.one_hot(classes).to_kind(Kind::Double); // [N, K]
    let counts = onehot.sum_dim_intlist(0, false, Kind::Double); // [K]
    let present = counts.gt(0.0).nonzero().squeeze_dim(1); // [K']
    let sums = onehot.tr().matmul(&f); // [K, D]
    let means = (sums / counts.unsqueeze(1)).index_select(0, &present);
    // Row i of the centred matrix subtracts the mean of its own class.
    let own = y.unsqueeze(1).eq_tensor(&present.unsqueeze(0)); // [N, K']
    let centred = &f - own.to_kind(Kind::Double).matmul(&means);
    let cov = centred.tr().matmul(&centred) / n as f64;
    (means, present, cov)
}

/// The smallest squared Mahalanobis distance to the class means:
///
/// ```text
/// s(f) = min_k (f − μ̂_k)ᵀ P (f − μ̂_k),   P = Σ̂⁺ (symmetrised pseudo-inverse)
/// ```
///
/// # Shapes
/// `f: [N, D]`, `means: [K', D]`, `precision: [D, D]` -> `[N]`, f64.
pub fn min_mahalanobis(f: &Tensor, means: &Tensor, precision: &Tensor) -> Tensor {
    let f = f.to_kind(Kind::Double);
    let k = means.size()[0];
    let per_class: Vec<Tensor> = (0..k)
        .map(|c| {
            let d = &f - means.get(c).unsqueeze(0); // [N, D]
            (d.matmul(precision) * &d).sum_dim_intlist(1, false, Kind::Double)
        })
        .collect();
    Tensor::stack(&per_class, 1).amin([1], false)
}

/// `mahalanobis`: Lee et al. 2018 at the penultimate layer (docs/definitions.md §3).
///
/// ```text
/// fit:    μ̂_k, Σ̂ by fit_tied_gaussian (1/N) on clean training features
/// s(x) = min_k (f(x) − μ̂_k)ᵀ Σ̂⁺ (f(x) − μ̂_k)
/// ```
///
/// Σ̂⁺ is the pseudo-inverse (`torch.linalg.pinv`, Hermitian, default
/// tolerance `eps·D·σ_max`), so collapsed feature directions (rank-deficient
/// Σ̂) are ignored instead of blowing up. Classes without a training sample
/// are left out of the minimum.
///
/// # Shapes
/// Fit on `features: [N, D]`, `y: [N]`; scores `[N]` f64 for `f: [N, D]`.
#[derive(Debug, Default)]
pub struct Mahalanobis {
    /// `(means [K', D], precision [D, D])`, f64, after [`Detector::fit`].
    fitted: Option<(Tensor, Tensor)>,
}

impl Mahalanobis {
    pub fn new() -> Mahalanobis {
        Mahalanobis::default()
    }
}

impl Detector for Mahalanobis {
    fn name(&self) -> &'static str {
        "mahalanobis"
    }

    fn fit(&mut self, net: &Net, train: &FitData) -> Result<()> {
        if train.features.size()[0] == 0 {
            return Err(super::error(self.name(), "no training features to fit on"));
        }
        let (means, precision) = tch::no_grad(|| {
            let (means, _, cov) = fit_tied_gaussian(train.features, train.y, net.classes);
            let p = cov.linalg_pinv_atol_rtol_float(None, None, true);
            (means, (&p + p.tr()) * 0.5)
        });
        self.fitted = Some((means, precision));
        Ok(())
    }

    fn score(&self, _net: &Net, _x: &Tensor, f: &Tensor) -> Result<Tensor> {
        let (means, precision) = self
            .fitted
            .as_ref()
            .ok_or_else(|| super::error(self.name(), "scored before fit"))?;
        Ok(min_mahalanobis(f, means, precision))
    }

    fn differentiable_score(&self, net: &Net, x: &Tensor) -> Option<Result<Tensor>> {
        Some(self.score(net, x, &net.features(x, false)))
    }
}
