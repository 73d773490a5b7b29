//! `kd` (Feinman et al. 2017, docs/definitions.md §3): a Gaussian kernel density of the
//! features under the training features of the predicted class.

use tch::{Kind, Tensor};

use super::{Detector, FitData};
use crate::train::Net;
use crate::Result;

/// Query rows × reference rows per distance block (2²² f64 = 32 MiB).
const BLOCK: i64 = 1 << 22;

/// The negative log kernel density of every row of `f` under `refs`,
/// computed as a logsumexp over blocks of query rows:
///
/// ```text
/// s(f) = −log( (1/M) Σ_{j=1..M} exp(−‖f − x_j‖² / σ²) )
///      = log M − logsumexp_j(−‖f − x_j‖² / σ²)
/// ‖f − x‖² = ‖f‖² + ‖x‖² − 2 f·x   (f64, clamped at 0)
/// ```
///
/// `+inf` for every row when `refs` is empty (zero density).
///
/// # Shapes
/// `f: [N, D]`, `refs: [M, D]` -> `[N]`, f64.
pub fn neg_log_kernel_density(f: &Tensor, refs: &Tensor, sigma: f64) -> Tensor {
    let f = f.to_kind(Kind::Double);
    let n = f.size()[0];
    let m = refs.size()[0];
    if m == 0 {
        return Tensor::full([n], f64::INFINITY, (Kind::Double, f.device()));
    }
    let refs = refs.to_kind(Kind::Double);
    let ref_sq = refs.square().sum_dim_intlist(1, false, Kind::Double); // [M]
    let rows = (BLOCK / m).max(1);
    let parts: Vec<Tensor> = (0..n)
        .step_by(rows as usize)
        .map(|s| {
            let q = f.narrow(0, s, rows.min(n - s));
            let q_sq = q.square().sum_dim_intlist(1, true, Kind::Double); // [n', 1]
            let d2 = (q_sq + ref_sq.unsqueeze(0) - q.matmul(&refs.tr()) * 2.0).clamp_min(0.0);
            (m as f64).ln() - (d2 / (-sigma * sigma)).logsumexp([1], false)
        })
        .collect();
    if parts.is_empty() {
        return Tensor::zeros([0], (Kind::Double, f.device()));
    }
    Tensor::cat(&parts, 0)
}

/// `kd`: Feinman et al. 2017, kernel density at the penultimate layer (docs/definitions.md §3).
///
/// ```text
/// ŷ    = argmax_k z_k(x)   (inference logits)
/// s(x) = −log( mean_{x' ∈ X_ŷ} exp(−‖f(x) − f(x')‖² / σ²) )
/// ```
///
/// `X_ŷ` are the clean training features whose label is ŷ. The kernel is
/// the definition's `exp(−d²/σ²)` (Feinman et al.'s scikit-learn `KernelDensity` uses
/// `exp(−d²/(2h²))`: `σ = √2·h`), and the kernel's normalising constant is
/// left out (it is the same for every input). A predicted class with no
/// training feature scores `+inf`.
///
/// # Shapes
/// Fit on `features: [N, D]`, `y: [N]`; scores `[N]` f64 for `f: [N, D]`.
#[derive(Debug)]
pub struct Kd {
    sigma: f64,
    /// Training features of each class, `[N_k, D]` f64, after [`Detector::fit`].
    per_class: Vec<Tensor>,
}

impl Kd {
    pub fn new(sigma: f64) -> Kd {
        Kd {
            sigma,
            per_class: Vec::new(),
        }
    }

    /// Scores for features `f: [N, D]` given the inference logits' argmax.
    pub(crate) fn score_features(&self, net: &Net, f: &Tensor) -> Result<Tensor> {
        if self.per_class.is_empty() {
            return Err(super::error("kd", "scored before fit"));
        }
        Ok(tch::no_grad(|| {
            let pred = net.head.logits(f).argmax(1, false);
            let mut out = Tensor::zeros([f.size()[0]], (Kind::Double, f.device()));
            for (k, refs) in self.per_class.iter().enumerate() {
                let idx = pred.eq(k as i64).nonzero().squeeze_dim(1);
                if idx.size()[0] == 0 {
                    continue;
                }
                let s = neg_log_kernel_density(&f.index_select(0, &idx), refs, self.sigma);
                let _ = out.index_copy_(0, &idx, &s);
            }
            out
        }))
    }
}

impl Detector for Kd {
    fn name(&self) -> &'static str {
        "kd"
    }

    fn fit(&mut self, net: &Net, train: &FitData) -> Result<()> {
        if train.features.size()[0] == 0 {
            return Err(super::error(self.name(), "no training features to fit on"));
        }
        self.per_class = tch::no_grad(|| {
            let f = train.features.to_kind(Kind::Double);
            (0..net.classes)
                .map(|k| f.index_select(0, &train.y.eq(k).nonzero().squeeze_dim(1)))
                .collect()
        });
        Ok(())
    }

    fn score(&self, net: &Net, _x: &Tensor, f: &Tensor) -> Result<Tensor> {
        self.score_features(net, f)
    }
}
