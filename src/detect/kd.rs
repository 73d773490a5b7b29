//! `kd` (Feinman et al. 2017, docs/definitions.md §3): a Gaussian kernel density of the
//! features under the training features of the predicted class.

use rand::{seq::SliceRandom, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::{Detector, FitData};
use crate::suite::AutoOr;
use crate::train::Net;
use crate::Result;

/// Query rows × reference rows per distance block (2²² f64 = 32 MiB).
const BLOCK: i64 = 1 << 22;
/// Fraction of the clean training features held out to choose `sigma: auto`.
pub const HELD_OUT_FRACTION: f64 = 0.2;
/// Seed of the held-out split of `sigma: auto`.
const HELD_OUT_SEED: u64 = 0xba4d_5eed;
/// The `sigma: auto` grid: `s · 10^(e)` for `e` from −2 to 2 in steps of
/// ¼ (17 values), `s` the features' within-class spread ([`feature_scale`]).
pub const GRID_DECADES: (i32, i32) = (-2, 2);
pub const GRID_PER_DECADE: i32 = 4;

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

/// Calls `each` with the squared distances `[n', M]` (f64, by the
/// expansion, clamped at 0) of each block of rows of `f` to the rows of `refs`.
fn for_each_block(f: &Tensor, refs: &Tensor, mut each: impl FnMut(Tensor)) {
    let f = f.to_kind(Kind::Double);
    let refs = refs.to_kind(Kind::Double);
    let (n, m) = (f.size()[0], refs.size()[0]);
    let ref_sq = refs.square().sum_dim_intlist(1, false, Kind::Double);
    let rows = (BLOCK / m.max(1)).max(1);
    for s in (0..n).step_by(rows as usize) {
        let q = f.narrow(0, s, rows.min(n - s));
        let q_sq = q.square().sum_dim_intlist(1, true, Kind::Double);
        each((q_sq + ref_sq.unsqueeze(0) - q.matmul(&refs.tr()) * 2.0).clamp_min(0.0));
    }
}

/// The log-density of every row of `f` under the Gaussian kernel density
/// estimate on `refs` with the kd kernel `exp(−d²/σ²)`, normalised:
///
/// ```text
/// log p(f) = logsumexp_j(−‖f − x_j‖² / σ²) − log M − (D/2) log(π σ²)
/// ```
///
/// This is scikit-learn's `KernelDensity(kernel="gaussian",
/// bandwidth=h).score_samples` with `σ² = 2h²`. The normalising term is what
/// makes likelihoods of different bandwidths comparable.
///
/// # Shapes
/// `f: [N, D]`, `refs: [M, D]` (`M ≥ 1`) -> `[N]`, f64.
pub fn kde_log_density(f: &Tensor, refs: &Tensor, sigma: f64) -> Tensor {
    let d = f.size()[1] as f64;
    -neg_log_kernel_density(f, refs, sigma) - 0.5 * d * (std::f64::consts::PI * sigma * sigma).ln()
}

/// The within-class spread of training features, the unit of the
/// `sigma: auto` grid:
///
/// ```text
/// s = sqrt( (1/N) Σ_i ‖f_i − μ_{y_i}‖² ),   μ_k = mean of class k's features
/// ```
///
/// # Shapes
/// `f: [N, D]`, `y: [N]` i64 in `0..classes` -> a scalar.
pub fn feature_scale(f: &Tensor, y: &Tensor, classes: i64) -> f64 {
    let (means, present, _) = super::mahalanobis::fit_tied_gaussian(f, y, classes);
    let own = y
        .unsqueeze(1)
        .eq_tensor(&present.unsqueeze(0))
        .to_kind(Kind::Double);
    let centred = f.to_kind(Kind::Double) - own.matmul(&means);
    (centred.square().sum(Kind::Double).double_value(&[]) / f.size()[0] as f64).sqrt()
}

/// The `sigma: auto` grid for features of within-class spread `scale`:
/// `scale · 10^(e)`, `e = −2, −1.75, …, 2`.
pub fn bandwidth_grid(scale: f64) -> Vec<f64> {
    let (lo, hi) = GRID_DECADES;
    (lo * GRID_PER_DECADE..=hi * GRID_PER_DECADE)
        .map(|i| scale * 10f64.powf(i as f64 / GRID_PER_DECADE as f64))
        .collect()
}

/// The held-out log-likelihood of every candidate bandwidth: each held-out
/// feature under the kernel density ([`kde_log_density`]) of the fit
/// features of its own class, summed over the held-out features whose class
/// has fit features.
///
/// ```text
/// LL(σ) = Σ_{held-out i}  log p_{y_i}(f_i; σ),   p_k on the fit features of class k
/// ```
///
/// # Shapes
/// `fit_f: [M, D]`, `fit_y: [M]`, `held_f: [H, D]`, `held_y: [H]` -> one
/// value per `sigmas`.
pub fn held_out_log_likelihood(
    fit_f: &Tensor,
    fit_y: &Tensor,
    held_f: &Tensor,
    held_y: &Tensor,
    classes: i64,
    sigmas: &[f64],
) -> Vec<f64> {
    let d = fit_f.size()[1] as f64;
    let mut ll = vec![0.0; sigmas.len()];
    for k in 0..classes {
        let refs = fit_f.index_select(0, &fit_y.eq(k).nonzero().squeeze_dim(1));
        let held = held_f.index_select(0, &held_y.eq(k).nonzero().squeeze_dim(1));
        let (m, h) = (refs.size()[0], held.size()[0]);
        if m == 0 || h == 0 {
            continue;
        }
        for_each_block(&held, &refs, |d2| {
            for (total, &sigma) in ll.iter_mut().zip(sigmas) {
                let lse = (&d2 / (-sigma * sigma)).logsumexp([1], false);
                let rows = d2.size()[0] as f64;
                *total += lse.sum(Kind::Double).double_value(&[])
                    - rows
                        * ((m as f64).ln() + 0.5 * d * (std::f64::consts::PI * sigma * sigma).ln());
            }
        });
    }
    ll
}

/// What `sigma: auto` chose, and from what.
#[derive(Debug, Clone, PartialEq)]
pub struct BandwidthChoice {
    pub sigma: f64,
    pub grid: Vec<f64>,
    /// [`held_out_log_likelihood`] of each grid value.
    pub log_likelihood: Vec<f64>,
}

/// Chooses σ from [`bandwidth_grid`] of the fit features' [`feature_scale`]
/// by the largest [`held_out_log_likelihood`] (the first, i.e. smallest σ,
/// among equals).
pub fn select_bandwidth(
    fit_f: &Tensor,
    fit_y: &Tensor,
    held_f: &Tensor,
    held_y: &Tensor,
    classes: i64,
) -> std::result::Result<BandwidthChoice, String> {
    let scale = feature_scale(fit_f, fit_y, classes);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!(
            "sigma: auto needs training features that vary within a class (their spread is {scale}); \
             set sigma to a number"
        ));
    }
    let grid = bandwidth_grid(scale);
    let ll = held_out_log_likelihood(fit_f, fit_y, held_f, held_y, classes, &grid);
    let mut best = 0;
    for (i, v) in ll.iter().enumerate() {
        if *v > ll[best] {
            best = i;
        }
    }
    if !ll[best].is_finite() {
        return Err(
            "sigma: auto found no held-out feature of a class with fit features; \
                    set sigma to a number"
                .into(),
        );
    }
    Ok(BandwidthChoice {
        sigma: grid[best],
        grid,
        log_likelihood: ll,
    })
}

/// `sigma: auto` on clean training features: a seeded split holds out
/// [`HELD_OUT_FRACTION`] of them (rounded, at least one), the rest fit, and
/// [`select_bandwidth`] chooses. The chosen σ is then used with all the
/// training features.
pub fn auto_bandwidth(
    f: &Tensor,
    y: &Tensor,
    classes: i64,
) -> std::result::Result<BandwidthChoice, String> {
    let n = f.size()[0] as usize;
    if n < 2 {
        return Err(format!(
            "sigma: auto needs at least 2 training features, got {n}"
        ));
    }
    let mut order: Vec<i64> = (0..n as i64).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(HELD_OUT_SEED));
    let held = ((n as f64 * HELD_OUT_FRACTION).round() as usize).clamp(1, n - 1);
    let pick = |ix: &[i64]| Tensor::from_slice(ix).to_device(f.device());
    let (h, t) = (pick(&order[..held]), pick(&order[held..]));
    select_bandwidth(
        &f.index_select(0, &t),
        &y.index_select(0, &t),
        &f.index_select(0, &h),
        &y.index_select(0, &h),
        classes,
    )
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
/// left out of the score (it is the same for every input). A predicted class
/// with no training feature scores `+inf`. `sigma: auto` chooses σ when
/// fitted ([`auto_bandwidth`]).
///
/// # Shapes
/// Fit on `features: [N, D]`, `y: [N]`; scores `[N]` f64 for `f: [N, D]`.
#[derive(Debug)]
pub struct Kd {
    setting: AutoOr,
    /// The σ in use: the fixed one, or the one chosen by [`Detector::fit`].
    sigma: Option<f64>,
    /// Training features of each class, `[N_k, D]` f64, after [`Detector::fit`].
    per_class: Vec<Tensor>,
}

impl Kd {
    pub fn new(sigma: AutoOr) -> Kd {
        Kd {
            setting: sigma,
            sigma: match sigma {
                AutoOr::Fixed(s) => Some(s),
                AutoOr::Auto => None,
            },
            per_class: Vec::new(),
        }
    }

    /// The σ in use: fixed, or chosen by the fit; `None` before an
    /// `auto` fit.
    pub fn sigma(&self) -> Option<f64> {
        self.sigma
    }

    /// Scores for images `x` with features `f: [N, D]` given the inference
    /// logits' argmax.
    pub(crate) fn score_features(&self, net: &Net, x: &Tensor, f: &Tensor) -> Result<Tensor> {
        let (Some(sigma), false) = (self.sigma, self.per_class.is_empty()) else {
            return Err(super::error("kd", "scored before fit"));
        };
        Ok(tch::no_grad(|| {
            let pred = net.logits_of(x, f).argmax(1, false);
            let mut out = Tensor::zeros([f.size()[0]], (Kind::Double, f.device()));
            for (k, refs) in self.per_class.iter().enumerate() {
                let idx = pred.eq(k as i64).nonzero().squeeze_dim(1);
                if idx.size()[0] == 0 {
                    continue;
                }
                let s = neg_log_kernel_density(&f.index_select(0, &idx), refs, sigma);
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
        if self.setting == AutoOr::Auto {
            let choice = tch::no_grad(|| auto_bandwidth(train.features, train.y, net.classes))
                .map_err(|why| super::error(self.name(), why))?;
            self.sigma = Some(choice.sigma);
        }
        self.per_class = tch::no_grad(|| {
            let f = train.features.to_kind(Kind::Double);
            (0..net.classes)
                .map(|k| f.index_select(0, &train.y.eq(k).nonzero().squeeze_dim(1)))
                .collect()
        });
        Ok(())
    }

    fn fitted_on_clean(&self) -> Vec<(&'static str, f64)> {
        self.sigma.map(|s| ("kd_sigma", s)).into_iter().collect()
    }

    fn score(&self, net: &Net, x: &Tensor, f: &Tensor) -> Result<Tensor> {
        self.score_features(net, x, f)
    }

    /// Every class's density for every image, then the predicted class's:
    /// K times the work of [`Kd::score_features`], with a graph.
    fn differentiable_score(&self, net: &Net, x: &Tensor) -> Option<Result<Tensor>> {
        let (Some(sigma), false) = (self.sigma, self.per_class.is_empty()) else {
            return Some(Err(super::error("kd", "scored before fit")));
        };
        let f = net.features(x, false);
        let pred = tch::no_grad(|| net.logits_of(x, &f).argmax(1, true));
        let per_class: Vec<Tensor> = self
            .per_class
            .iter()
            .map(|refs| neg_log_kernel_density(&f, refs, sigma))
            .collect();
        Some(Ok(Tensor::stack(&per_class, 1)
            .gather(1, &pred, false)
            .squeeze_dim(1)))
    }
}
