//! `lid` (Ma et al. 2018, docs/definitions.md §3): a logistic regression on the local
//! intrinsic dimensionality of the activations at every tapped layer, each
//! estimated within a minibatch of clean training references.

use rand::{seq::index, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::logistic::{StandardizedLogistic, DEFAULT_C};
use super::{Detector, FitData};
use crate::suite::spec::LidParams;
use crate::train::Net;
use crate::Result;

/// Seed of the reference minibatches. Every call of [`Lid::lid_features`]
/// restarts it, so the i-th chunk of clean images and the i-th chunk of their
/// adversarial counterparts meet the same references.
const REFERENCE_SEED: u64 = 0x11d;
/// Largest LID estimate: the MLE is infinite when all `k` neighbours are
/// equidistant (always for `k = 1`); the cap keeps the regression finite.
pub const LID_CAP: f64 = 1e12;

/// Maximum-likelihood LID estimate of every row of `x` from its `k` nearest
/// neighbours (Euclidean, f64) among `refs`:
///
/// ```text
/// LID(x) = −( (1/k) Σ_{i=1..k} log(r_i(x) / r_k(x)) )⁻¹
/// r_1 ≤ … ≤ r_k: distances to the k nearest rows of refs
/// ```
///
/// With `exclude_self`, `x` is `refs` itself (`N = M`) and row i's zero
/// distance to itself is not a neighbour. `k` is clamped to the number of
/// candidate neighbours. Distances are clamped at `f64::MIN_POSITIVE` (a
/// duplicate neighbour drives the estimate towards 0, its limit), and the
/// estimate is capped at [`LID_CAP`].
///
/// # Shapes
/// `x: [N, D]`, `refs: [M, D]` -> `[N]`, f64.
pub fn lid_mle(x: &Tensor, refs: &Tensor, k: i64, exclude_self: bool) -> Tensor {
    let x = x.to_kind(Kind::Double);
    let refs = refs.to_kind(Kind::Double);
    let m = refs.size()[0];
    // compute_mode 2: exact differences, not the ‖a‖² + ‖b‖² − 2ab expansion.
    let mut d = Tensor::cdist(&x, &refs, 2.0, 2);
    if exclude_self {
        assert_eq!(x.size()[0], m, "exclude_self needs x = refs");
        d = d.fill_diagonal_(f64::INFINITY, false);
    }
    let k = k.min(m - exclude_self as i64);
    assert!(k >= 1, "LID needs at least one neighbour ({m} references)");
    let (r, _) = d.topk(k, 1, false, true);
    let r = r.clamp_min(f64::MIN_POSITIVE);
    let r_k = r.narrow(1, k - 1, 1);
    let mean_log = (r / r_k)
        .log()
        .mean_dim(Some(&[1i64][..]), false, Kind::Double);
    // −mean_log ≥ 0; flooring it at 1/cap caps the estimate (and maps the
    // all-equidistant 0, of either sign, to the cap rather than ±inf).
    (-mean_log).clamp_min(1.0 / LID_CAP).reciprocal()
}

/// `lid`: Ma et al. 2018 (docs/definitions.md §3).
///
/// ```text
/// a_l(x)   = activation of layer l (Net::activations: tapped backbone layers,
///            features, logits), flattened
/// LID_l(x) = lid_mle(a_l(x), a_l(B), k),  B = `batch` clean training images
/// s(x)     = w·z(LID_1(x), …, LID_L(x)) + b,  z = z-score on the fit pairs
/// ```
///
/// Inputs are scored in chunks of `batch` images; each chunk draws its own
/// reference minibatch `B` (without replacement, seeded with a fixed seed
/// restarted on every call, so a clean image and its adversarial counterpart
/// at the same position meet the same `B`). Scored images are test images,
/// never in `B`, so no point is its own neighbour. `w, b` fit a
/// [`StandardizedLogistic`] (`C = 1`), adversarial = positive, on the fit
/// split; the score is its decision function.
///
/// # Shapes
/// Scores `[N]` f64 for images `x: [N, C, H, W]`.
#[derive(Debug)]
pub struct Lid {
    k: i64,
    batch: i64,
    /// Clean training images `[N, C, H, W]`, after [`Detector::fit`].
    references: Option<Tensor>,
    model: Option<StandardizedLogistic>,
}

impl Lid {
    pub fn new(p: &LidParams) -> Lid {
        Lid {
            k: p.k as i64,
            batch: p.batch as i64,
            references: None,
            model: None,
        }
    }

    /// Per-layer LID estimates `[N, L]` (f64) of images `x: [N, C, H, W]`.
    pub fn lid_features(&self, net: &Net, x: &Tensor) -> Result<Tensor> {
        let refs = self
            .references
            .as_ref()
            .ok_or_else(|| super::error("lid", "scored before fit"))?;
        let n_refs = refs.size()[0] as usize;
        let n = x.size()[0];
        let mut rng = ChaCha8Rng::seed_from_u64(REFERENCE_SEED);
        let mut parts = Vec::new();
        tch::no_grad(|| {
            for s in (0..n).step_by(self.batch as usize) {
                let q = x.narrow(0, s, self.batch.min(n - s));
                let pick: Vec<i64> =
                    index::sample(&mut rng, n_refs, n_refs.min(self.batch as usize))
                        .into_iter()
                        .map(|i| i as i64)
                        .collect();
                let pick = Tensor::from_slice(&pick).to_device(refs.device());
                let ref_acts = net.activations(&refs.index_select(0, &pick));
                let q_acts = net.activations(&q);
                let per_layer: Vec<Tensor> = q_acts
                    .iter()
                    .zip(&ref_acts)
                    .map(|(a, r)| lid_mle(a, r, self.k, false))
                    .collect();
                parts.push(Tensor::stack(&per_layer, 1));
            }
        });
        if parts.is_empty() {
            let layers = tch::no_grad(|| net.activations(&refs.narrow(0, 0, 1)).len() as i64);
            return Ok(Tensor::zeros([0, layers], (Kind::Double, x.device())));
        }
        Ok(Tensor::cat(&parts, 0))
    }
}

impl Detector for Lid {
    fn name(&self) -> &'static str {
        "lid"
    }

    fn fit(&mut self, _net: &Net, train: &FitData) -> Result<()> {
        if train.x.size()[0] == 0 {
            return Err(super::error(
                self.name(),
                "no training images for references",
            ));
        }
        self.references = Some(train.x.shallow_clone());
        Ok(())
    }

    fn supervised(&self) -> bool {
        true
    }

    fn fit_pairs(&mut self, net: &Net, clean: &Tensor, adv: &Tensor) -> Result<()> {
        let feats = Tensor::cat(
            &[self.lid_features(net, clean)?, self.lid_features(net, adv)?],
            0,
        );
        let layers = feats.size()[1] as usize;
        let m = clean.size()[0] as usize;
        let y: Vec<bool> = (0..2 * m).map(|i| i >= m).collect();
        let x = super::to_vec_f64(&feats)?;
        self.model = Some(
            StandardizedLogistic::fit(&x, layers, &y, DEFAULT_C)
                .map_err(|e| super::error(self.name(), e))?,
        );
        Ok(())
    }

    fn score(&self, net: &Net, x: &Tensor, _f: &Tensor) -> Result<Tensor> {
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| super::error(self.name(), "scored before fit_pairs"))?;
        let s = model.decision_function(&super::to_vec_f64(&self.lid_features(net, x)?)?);
        Ok(Tensor::from_slice(&s))
    }
}
