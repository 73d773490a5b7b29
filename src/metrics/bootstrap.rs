//! Percentile-bootstrap confidence interval of the AUROC (docs/definitions.md §4
//! `auroc_ci_low` / `auroc_ci_high`), seeded so a rerun gives the same bounds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::roc::auroc;
use super::MetricError;

/// Resamples of the interval (docs/definitions.md §4).
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// The 95 % percentile-bootstrap interval `(low, high)` of [`auroc`].
///
/// ```text
/// for b in 1..=B:  pos_b = n draws from pos with replacement
///                  neg_b = m draws from neg with replacement
///                  a_b   = auroc(pos_b, neg_b)
/// low  = quantile_0.025(a_1..a_B),   high = quantile_0.975(a_1..a_B)
/// ```
/// Positives and negatives are resampled separately (stratified), so every
/// resample has both classes. Quantiles interpolate linearly between order
/// statistics (numpy's default): `q` sits at position `q·(B − 1)`.
///
/// # Inputs
///
/// As [`auroc`] (docs/definitions.md §4): `pos` adversarial scores, `neg` clean scores.
/// `resamples` is `B` (by default [`BOOTSTRAP_RESAMPLES`]; at least 1), `seed`
/// seeds a ChaCha8 generator.
///
/// # Errors
///
/// As [`auroc`].
pub fn auroc_bootstrap_ci(
    pos: &[f64],
    neg: &[f64],
    resamples: usize,
    seed: u64,
) -> Result<(f64, f64), MetricError> {
    // Validates once, with the caller's indices in the error.
    auroc(pos, neg)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos_b = vec![0.0; pos.len()];
    let mut neg_b = vec![0.0; neg.len()];
    let mut stats: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            for x in pos_b.iter_mut() {
                *x = pos[rng.random_range(0..pos.len())];
            }
            for x in neg_b.iter_mut() {
                *x = neg[rng.random_range(0..neg.len())];
            }
            auroc(&pos_b, &neg_b).expect("resamples of valid scores are valid")
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    Ok((quantile(&stats, 0.025), quantile(&stats, 0.975)))
}

/// Linear-interpolation quantile of sorted, non-empty `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    let h = q * (v.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantile_matches_numpy_linear() {
        // numpy.quantile([1, 2, 3, 4], [0.025, 0.5, 0.975]) = [1.075, 2.5, 3.925]
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12);
        assert!((quantile(&v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile(&v, 0.975) - 3.925).abs() < 1e-12);
        assert_eq!(quantile(&[0.7], 0.975), 0.7);
    }
}
