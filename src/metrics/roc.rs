//! The ROC curve and the ranking metrics derived from it: AUROC, AUPR,
//! FPR at 95 % TPR and detection accuracy (docs/definitions.md §4).
//!
//! All of them come from one pass over the scores sorted in descending order,
//! grouped by distinct value: the cumulative true-positive and false-positive
//! counts at each distinct threshold. Counts stay integers until the final
//! division, so ties and ±inf need no special cases and no float error builds up.

use super::MetricError;

/// Cumulative counts at each distinct score, highest score first.
///
/// `tps[i]` / `fps[i]`: positives / negatives with score `>= thresholds[i]`.
struct Counts {
    thresholds: Vec<f64>,
    tps: Vec<u64>,
    fps: Vec<u64>,
    n_pos: u64,
    n_neg: u64,
}

/// Validates the scores and builds the cumulative counts.
///
/// Sorting makes this O((n + m) log(n + m)).
fn counts(pos: &[f64], neg: &[f64]) -> Result<Counts, MetricError> {
    if let Some(index) = pos.iter().chain(neg).position(|s| s.is_nan()) {
        return Err(MetricError::NaN { index });
    }
    if pos.is_empty() {
        return Err(MetricError::OneClass {
            missing: "positive",
        });
    }
    if neg.is_empty() {
        return Err(MetricError::OneClass {
            missing: "negative",
        });
    }
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    // No NaN is left, so `partial_cmp` is total; unlike `total_cmp` it keeps
    // -0.0 == 0.0, which is what "ordered as numbers" means.
    all.sort_unstable_by(|a, b| b.0.partial_cmp(&a.0).expect("NaN was rejected above"));

    let mut c = Counts {
        thresholds: Vec::new(),
        tps: Vec::new(),
        fps: Vec::new(),
        n_pos: pos.len() as u64,
        n_neg: neg.len() as u64,
    };
    let (mut tp, mut fp) = (0u64, 0u64);
    for (i, &(score, is_pos)) in all.iter().enumerate() {
        if is_pos {
            tp += 1;
        } else {
            fp += 1;
        }
        // Close the group at the last sample of each distinct score.
        if all.get(i + 1).is_none_or(|next| next.0 != score) {
            c.thresholds.push(score);
            c.tps.push(tp);
            c.fps.push(fp);
        }
    }
    Ok(c)
}

/// Area under the ROC curve, in the Mann-Whitney form.
///
/// ```text
/// auroc = P(s_pos > s_neg) + ½·P(s_pos = s_neg)
///       = ( R_pos − n(n+1)/2 ) / (n·m)
/// ```
/// where `R_pos` is the rank sum of the positives among all `n + m` scores
/// (ascending, ties sharing their average rank). This equals the trapezoidal
/// area under [`roc_curve`] over all distinct thresholds, and scikit-learn's
/// `roc_auc_score`.
///
/// # Inputs
///
/// `pos`: scores of the `n` positives (adversarial), `neg`: scores of the `m`
/// negatives (clean); higher = more likely adversarial (docs/definitions.md §3, §4). ±inf are
/// ordered as numbers. Constant scores give 0.5, perfect separation 1.0, and
/// `auroc(−pos, −neg) = 1 − auroc(pos, neg)`.
///
/// # Errors
///
/// [`MetricError::NaN`] for a NaN score, [`MetricError::OneClass`] when `pos`
/// or `neg` is empty.
pub fn auroc(pos: &[f64], neg: &[f64]) -> Result<f64, MetricError> {
    Ok(auroc_of(&counts(pos, neg)?))
}

fn auroc_of(c: &Counts) -> f64 {
    // Walking the groups from the top: a group with p positives and q
    // negatives beats the (n_neg − fps) negatives below it and ties its own q.
    // Twice the Mann-Whitney U is an exact integer.
    let mut u2: u128 = 0;
    let (mut prev_tp, mut prev_fp) = (0u64, 0u64);
    for (&tp, &fp) in c.tps.iter().zip(&c.fps) {
        let p = (tp - prev_tp) as u128;
        let q = (fp - prev_fp) as u128;
        u2 += 2 * p * (c.n_neg - fp) as u128 + p * q;
        (prev_tp, prev_fp) = (tp, fp);
    }
    u2 as f64 / (2 * c.n_pos as u128 * c.n_neg as u128) as f64
}

/// Average precision with adversarial as the positive class.
///
/// ```text
/// aupr = Σ_k (R_k − R_{k−1}) · P_k
/// P_k  = TP_k / (TP_k + FP_k),   R_k = TP_k / n
/// ```
/// over the distinct thresholds in descending order (`R_0 = 0`): scikit-learn's
/// `average_precision_score`, a step sum with no interpolation.
///
/// # Inputs
///
/// As [`auroc`] (docs/definitions.md §4 `aupr`). A random detector scores about `n / (n + m)`.
///
/// # Errors
///
/// As [`auroc`].
pub fn aupr(pos: &[f64], neg: &[f64]) -> Result<f64, MetricError> {
    Ok(aupr_of(&counts(pos, neg)?))
}

/// Average precision with the **negatives** as the positive class and the
/// scores negated: the `AUPR-In` of out-of-distribution detection
/// (docs/definitions.md §5), where the negatives are the in-distribution
/// inputs and a low score means "normal".
///
/// ```text
/// aupr_in(pos, neg) = aupr(−neg, −pos)
/// ```
/// scikit-learn's `average_precision_score(y_in, −score)`. [`aupr`] itself is
/// `AUPR-Out` there. A random detector scores about `m / (n + m)`.
///
/// # Errors
///
/// As [`auroc`], with the indices of `pos` then `neg` as given.
pub fn aupr_in(pos: &[f64], neg: &[f64]) -> Result<f64, MetricError> {
    counts(pos, neg)?;
    let negated = |v: &[f64]| v.iter().map(|s| -s).collect::<Vec<f64>>();
    aupr(&negated(neg), &negated(pos))
}

fn aupr_of(c: &Counts) -> f64 {
    let mut ap = 0.0;
    let mut prev_tp = 0u64;
    for (&tp, &fp) in c.tps.iter().zip(&c.fps) {
        if tp > prev_tp {
            let recall_step = (tp - prev_tp) as f64 / c.n_pos as f64;
            ap += recall_step * (tp as f64 / (tp + fp) as f64);
        }
        prev_tp = tp;
    }
    ap
}

/// False positive rate at the highest threshold whose TPR reaches 95 %.
///
/// ```text
/// t*           = max { t : TPR(t) ≥ 0.95 }     (first-≥ convention)
/// fpr_at_95tpr = FPR(t*)
/// ```
/// `TPR(t) ≥ 0.95` is tested on integer counts (`20·TP ≥ 19·n`), so a TPR of
/// exactly 0.95 counts.
///
/// # Inputs
///
/// As [`auroc`] (docs/definitions.md §4 `fpr_at_95tpr`). Lower is better; perfect separation
/// gives 0.
///
/// # Errors
///
/// As [`auroc`].
pub fn fpr_at_95tpr(pos: &[f64], neg: &[f64]) -> Result<f64, MetricError> {
    Ok(fpr_at_95tpr_of(&counts(pos, neg)?))
}

fn fpr_at_95tpr_of(c: &Counts) -> f64 {
    let need = 19 * c.n_pos as u128;
    let i = c
        .tps
        .iter()
        .position(|&tp| 20 * tp as u128 >= need)
        .expect("the lowest threshold has TPR = 1");
    c.fps[i] as f64 / c.n_neg as f64
}

/// Detection accuracy: the best balanced accuracy over all thresholds.
///
/// ```text
/// det_acc = max_t ½·(TPR(t) + TNR(t)),   TNR = 1 − FPR
/// ```
/// over the ROC points including the start `(0, 0)`, so it is at least 0.5.
///
/// # Inputs
///
/// As [`auroc`] (docs/definitions.md §4 `det_acc`).
///
/// # Errors
///
/// As [`auroc`].
pub fn det_acc(pos: &[f64], neg: &[f64]) -> Result<f64, MetricError> {
    Ok(det_acc_of(&counts(pos, neg)?))
}

fn det_acc_of(c: &Counts) -> f64 {
    // ½(tp/n + (m − fp)/m) = (tp·m + (m − fp)·n) / (2·n·m), compared as integers.
    let (n, m) = (c.n_pos as u128, c.n_neg as u128);
    let best = c
        .tps
        .iter()
        .zip(&c.fps)
        .map(|(&tp, &fp)| tp as u128 * m + (m - fp as u128) * n)
        .fold(n * m, u128::max); // the (0, 0) point: TPR 0, TNR 1
    best as f64 / (2 * n * m) as f64
}

/// A ROC curve: one point per distinct score, thresholds descending.
///
/// Point `i` classifies `score >= thresholds[i]` as positive. The first point
/// is `(0, 0)` with threshold `+inf`; the last is `(1, 1)` at the lowest score.
#[derive(Debug, Clone, PartialEq)]
pub struct Roc {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// The full ROC curve, as scikit-learn's `roc_curve(y, s, drop_intermediate=False)`.
///
/// ```text
/// thresholds = [+inf, s_(1), s_(2), …]         distinct scores, descending
/// tpr_i = #{pos ≥ t_i} / n,   fpr_i = #{neg ≥ t_i} / m
/// ```
///
/// # Inputs
///
/// As [`auroc`] (docs/definitions.md §4). The metrics use every point; store a
/// [`Roc::downsample`]d copy.
///
/// # Errors
///
/// As [`auroc`].
pub fn roc_curve(pos: &[f64], neg: &[f64]) -> Result<Roc, MetricError> {
    Ok(roc_of(&counts(pos, neg)?))
}

fn roc_of(c: &Counts) -> Roc {
    let len = c.thresholds.len() + 1;
    let mut roc = Roc {
        fpr: Vec::with_capacity(len),
        tpr: Vec::with_capacity(len),
        thresholds: Vec::with_capacity(len),
    };
    roc.fpr.push(0.0);
    roc.tpr.push(0.0);
    roc.thresholds.push(f64::INFINITY);
    for ((&t, &tp), &fp) in c.thresholds.iter().zip(&c.tps).zip(&c.fps) {
        roc.fpr.push(fp as f64 / c.n_neg as f64);
        roc.tpr.push(tp as f64 / c.n_pos as f64);
        roc.thresholds.push(t);
    }
    roc
}

impl Roc {
    /// The number of points.
    pub fn len(&self) -> usize {
        self.fpr.len()
    }

    /// True when the curve has no points (never the case for [`roc_curve`]'s output).
    pub fn is_empty(&self) -> bool {
        self.fpr.is_empty()
    }

    /// At most `max_points` points of the curve (at least 2), for storage and plots.
    ///
    /// Keeps the first and the last point and picks the others evenly spaced
    /// along the curve's length, measured as `Σ |Δfpr| + |Δtpr|`, so long
    /// straight runs cost few points and the corners stay within
    /// `2 / (max_points − 1)` of a kept point. A curve that already fits is
    /// returned unchanged. Never feed the result to a metric.
    pub fn downsample(&self, max_points: usize) -> Roc {
        let n = self.len();
        let max_points = max_points.max(2);
        if n <= max_points {
            return self.clone();
        }
        let mut cum = Vec::with_capacity(n);
        cum.push(0.0);
        for i in 1..n {
            let step =
                (self.fpr[i] - self.fpr[i - 1]).abs() + (self.tpr[i] - self.tpr[i - 1]).abs();
            cum.push(cum[i - 1] + step);
        }
        let total = cum[n - 1];
        let mut keep = Vec::with_capacity(max_points);
        keep.push(0);
        let mut j = 1;
        for k in 1..max_points - 1 {
            let target = total * k as f64 / (max_points - 1) as f64;
            while j < n - 1 && cum[j] < target {
                j += 1;
            }
            if j < n - 1 && keep.last() != Some(&j) {
                keep.push(j);
            }
        }
        keep.push(n - 1);
        Roc {
            fpr: keep.iter().map(|&i| self.fpr[i]).collect(),
            tpr: keep.iter().map(|&i| self.tpr[i]).collect(),
            thresholds: keep.iter().map(|&i| self.thresholds[i]).collect(),
        }
    }
}

/// Every detection metric of docs/definitions.md §4 from one sort of the scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub auroc: f64,
    pub aupr: f64,
    pub fpr_at_95tpr: f64,
    pub det_acc: f64,
    /// The full curve; downsample it before storing.
    pub roc: Roc,
}

impl Detection {
    /// Computes [`auroc`], [`aupr`], [`fpr_at_95tpr`], [`det_acc`] and
    /// [`roc_curve`] at once (same inputs and errors as [`auroc`]).
    pub fn compute(pos: &[f64], neg: &[f64]) -> Result<Detection, MetricError> {
        let c = counts(pos, neg)?;
        Ok(Detection {
            auroc: auroc_of(&c),
            aupr: aupr_of(&c),
            fpr_at_95tpr: fpr_at_95tpr_of(&c),
            det_acc: det_acc_of(&c),
            roc: roc_of(&c),
        })
    }
}
