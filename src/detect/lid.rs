//! `lid` (Ma et al. 2018, docs/definitions.md §3): a logistic regression on the local
//! intrinsic dimensionality of the activations at the input and every tapped
//! layer, each estimated among the clean samples of the same evaluation
//! minibatch.

use tch::{Kind, Tensor};

use super::logistic::StandardizedLogistic;
use super::{Detector, Pairs};
use crate::suite::spec::LidParams;
use crate::suite::AutoOr;
use crate::train::Net;
use crate::Result;

/// Largest LID estimate: the MLE is infinite when all `k` neighbours are
/// equidistant (always for `k = 1`); the cap keeps the regression finite.
pub const LID_CAP: f64 = 1e12;

/// Ma et al.'s `mle_batch`: the maximum-likelihood LID estimate of every row
/// of `queries` from its neighbours among the rows of `data` (Euclidean,
/// f64), the first (nearest) neighbour dropped:
///
/// ```text
/// k'      = min(k, M − 1)
/// r_0 ≤ r_1 ≤ … ≤ r_k' : distances to the k' + 1 nearest rows of data
/// LID(q)  = −( (1/k') Σ_{i=1..k'} log(r_i / r_k') )⁻¹          (r_0 dropped)
/// ```
///
/// When a query is a row of `data`, `r_0 = 0` is the query itself; the
/// authors drop the first neighbour of every query (clean, noisy or
/// adversarial) alike, and so does this. Distances are clamped at
/// `f64::MIN_POSITIVE` (a duplicate neighbour drives the estimate towards 0,
/// its limit), and the estimate is capped at [`LID_CAP`].
///
/// # Shapes
/// `data: [M, D]` (`M ≥ 2`), `queries: [N, D]` -> `[N]`, f64.
pub fn mle_batch(data: &Tensor, queries: &Tensor, k: i64) -> Tensor {
    let m = data.size()[0];
    assert!(
        m >= 2,
        "LID needs a minibatch of at least 2 samples, got {m}"
    );
    let data = data.to_kind(Kind::Double);
    let queries = queries.to_kind(Kind::Double);
    let k = k.clamp(1, m - 1);
    // compute_mode 2: exact differences, not the ‖a‖² + ‖b‖² − 2ab expansion.
    let d = Tensor::cdist(&queries, &data, 2.0, 2);
    let (r, _) = d.topk(k + 1, 1, false, true);
    let r = r.narrow(1, 1, k).clamp_min(f64::MIN_POSITIVE);
    let r_k = r.narrow(1, k - 1, 1);
    let mean_log = (r / r_k)
        .log()
        .mean_dim(Some(&[1i64][..]), false, Kind::Double);
    // −mean_log ≥ 0; flooring it at 1/cap caps the estimate (and maps the
    // all-equidistant 0, of either sign, to the cap rather than ±inf).
    (-mean_log).clamp_min(1.0 / LID_CAP).reciprocal()
}

/// The evaluation minibatches of `n` samples, as `(start, len)`: consecutive
/// runs of `batch`, in order, as Ma et al. cut them; a last run of a single
/// sample (which has no neighbour) joins the run before it.
pub fn minibatches(n: i64, batch: i64) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = (0..n)
        .step_by(batch.max(1) as usize)
        .map(|s| (s, batch.min(n - s)))
        .collect();
    if let [.., (_, prev), (_, 1)] = out.as_mut_slice() {
        *prev += 1;
        out.pop();
    }
    out
}

/// Per-layer LID features of clean samples and of samples aligned with them
/// (row i of each of `others`, e.g. the adversarial or noisy copy of clean
/// row i), Ma et al.'s `get_lids_random_batch`: for every minibatch
/// ([`minibatches`]) and every layer `l` of `layers`,
///
/// ```text
/// B           = clean rows of the minibatch
/// LID_l(x)    = mle_batch(a_l(B), a_l(x), k)     for x in B and for the aligned rows of each other set
/// ```
///
/// `layers` maps images `[n, …]` to activations, each `[n, D_l]`.
/// Returns `(clean [N, L], one [N, L] per other set)`, f64; an error when
/// there are fewer than 2 clean samples (no neighbour to estimate from).
pub fn minibatch_lid(
    clean: &Tensor,
    others: &[&Tensor],
    k: i64,
    batch: i64,
    layers: impl Fn(&Tensor) -> Vec<Tensor>,
) -> std::result::Result<(Tensor, Vec<Tensor>), String> {
    let n = clean.size()[0];
    if n < 2 {
        return Err(format!(
            "LID needs at least 2 clean samples to form a minibatch, got {n}"
        ));
    }
    let mut clean_parts = Vec::new();
    let mut other_parts: Vec<Vec<Tensor>> = others.iter().map(|_| Vec::new()).collect();
    tch::no_grad(|| {
        for (s, len) in minibatches(n, batch) {
            let refs = layers(&clean.narrow(0, s, len));
            let lids = |acts: &[Tensor]| {
                let per_layer: Vec<Tensor> = refs
                    .iter()
                    .zip(acts)
                    .map(|(r, a)| mle_batch(r, a, k))
                    .collect();
                Tensor::stack(&per_layer, 1)
            };
            clean_parts.push(lids(&refs));
            for (parts, other) in other_parts.iter_mut().zip(others) {
                parts.push(lids(&layers(&other.narrow(0, s, len))));
            }
        }
    });
    Ok((
        Tensor::cat(&clean_parts, 0),
        other_parts.iter().map(|p| Tensor::cat(p, 0)).collect(),
    ))
}

/// The activations LID is estimated on: the input image flattened, then
/// [`Net::activations`] (tapped backbone layers, features, logits).
///
/// # Shapes
/// `x: [N, C, H, W]` -> `L` tensors `[N, D_l]`.
pub fn lid_layers(net: &Net, x: &Tensor) -> Vec<Tensor> {
    let mut out = vec![x.flatten(1, -1)];
    out.extend(net.activations(x));
    out
}

/// `lid`: Ma et al. 2018 (docs/definitions.md §3).
///
/// ```text
/// a_l(x)   = input image (l = 0), then Net::activations, flattened
/// LID_l(x) = mle_batch(a_l(B), a_l(x), k),  B = the clean samples of x's evaluation minibatch
/// s(x)     = w·z(LID_1(x), …, LID_L(x)) + b,  z = z-score on the fit pairs
/// ```
///
/// Pairs are cut into minibatches of `batch` in order ([`minibatch_lid`]);
/// a clean image, its adversarial and its noisy copy all meet the clean
/// images of their minibatch. `w, b` fit a [`StandardizedLogistic`] (`C`
/// fixed or cross-validated), adversarial = positive, clean (and, with
/// `noisy-negatives`, noisy) = negative, on the fit split; the score is its
/// decision function. [`Detector::score`] alone scores its images as clean
/// ones (each among the others of its minibatch); the runner scores pairs.
///
/// # Shapes
/// Scores `[N]` f64 for images `x: [N, C, H, W]`.
#[derive(Debug)]
pub struct Lid {
    k: i64,
    batch: i64,
    noisy_negatives: bool,
    c: AutoOr,
    /// The regression and the `C` it used, after [`Detector::fit_pairs`].
    model: Option<(StandardizedLogistic, f64)>,
}

impl Lid {
    pub fn new(p: &LidParams) -> Lid {
        Lid {
            k: p.k as i64,
            batch: p.batch as i64,
            noisy_negatives: p.noisy_negatives,
            c: p.c,
            model: None,
        }
    }

    /// Per-layer LID features ([`minibatch_lid`] on [`lid_layers`]).
    pub fn lid_features(
        &self,
        net: &Net,
        clean: &Tensor,
        others: &[&Tensor],
    ) -> Result<(Tensor, Vec<Tensor>)> {
        minibatch_lid(clean, others, self.k, self.batch, |x| lid_layers(net, x))
            .map_err(|why| super::error("lid", why))
    }

    fn decision(&self, lids: &Tensor) -> Result<Tensor> {
        let (model, _) = self
            .model
            .as_ref()
            .ok_or_else(|| super::error(self.name(), "scored before fit_pairs"))?;
        let s = model.decision_function(&super::to_vec_f64(lids)?);
        Ok(Tensor::from_slice(&s))
    }
}

impl Detector for Lid {
    fn name(&self) -> &'static str {
        "lid"
    }

    fn supervised(&self) -> bool {
        true
    }

    fn fit_pairs(&mut self, net: &Net, pairs: &Pairs) -> Result<()> {
        let mut others = vec![pairs.adv];
        if self.noisy_negatives {
            others.push(pairs.noisy);
        }
        let (clean, others) = self.lid_features(net, pairs.clean, &others)?;
        let m = clean.size()[0] as usize;
        // Negatives (clean, then noisy), then positives (adversarial).
        let mut feats = vec![clean];
        feats.extend(others[1..].iter().map(Tensor::shallow_clone));
        feats.push(others[0].shallow_clone());
        let feats = Tensor::cat(&feats, 0);
        let layers = feats.size()[1] as usize;
        let rows = feats.size()[0] as usize;
        let y: Vec<bool> = (0..rows).map(|i| i >= rows - m).collect();
        let x = super::to_vec_f64(&feats)?;
        self.model = Some(super::fit_regression(self.name(), &x, layers, &y, self.c)?);
        Ok(())
    }

    fn fitted_on_pairs(&self) -> Vec<(&'static str, f64)> {
        self.model.iter().map(|(_, c)| ("lr_c", *c)).collect()
    }

    fn score(&self, net: &Net, x: &Tensor, _f: &Tensor) -> Result<Tensor> {
        let (lids, _) = self.lid_features(net, x, &[])?;
        self.decision(&lids)
    }

    fn score_pairs(
        &self,
        net: &Net,
        clean: &Tensor,
        adv: &Tensor,
        _f_clean: &Tensor,
        _f_adv: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (c, a) = self.lid_features(net, clean, &[adv])?;
        Ok((self.decision(&c)?, self.decision(&a[0])?))
    }
}
