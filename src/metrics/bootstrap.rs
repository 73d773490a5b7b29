//! Percentile-bootstrap confidence interval of the AUROC (docs/definitions.md §4
//! `auroc_ci_low` / `auroc_ci_high`), seeded so a rerun gives the same bounds.
//!
//! Two resampling schemes: [`auroc_bootstrap_ci_paired`] draws whole
//! (clean, adversarial) pairs, as the adversarial evaluation produces them
//! (the i-th clean and the i-th adversarial score come from the same test
//! image); [`auroc_bootstrap_ci`] draws each side on its own, for scores
//! that come in no pairs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::roc::auroc;
use super::MetricError;

/// Resamples of the interval (docs/definitions.md §4).
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// The 95 % percentile-bootstrap interval `(low, high)` of [`auroc`], each
/// side resampled on its own.
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
/// The scores are sorted once: a resample only changes how often each
/// score is drawn, so each `a_b` is the Mann-Whitney statistic of
/// [`auroc`] computed from per-rank draw counts in one pass, O(n + m)
/// instead of a sort per resample; the value is the same (the statistic
/// is an exact integer either way).
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
    let ranks = Ranks::new(pos, neg);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut p, mut q) = (vec![0u64; ranks.groups], vec![0u64; ranks.groups]);
    let stats: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            p.fill(0);
            q.fill(0);
            // The same draws, in the same order, as drawing the scores.
            for _ in 0..pos.len() {
                p[ranks.pos[rng.random_range(0..pos.len())]] += 1;
            }
            for _ in 0..neg.len() {
                q[ranks.neg[rng.random_range(0..neg.len())]] += 1;
            }
            ranks.auroc(&p, &q)
        })
        .collect();
    Ok(interval(stats))
}

/// The 95 % percentile-bootstrap interval `(low, high)` of [`auroc`] for
/// **paired** scores: `pos[i]` and `neg[i]` belong together (the
/// adversarial and the clean score of test image `i`), and a resample draws
/// whole pairs.
///
/// ```text
/// for b in 1..=B:  i_1..i_n = n draws from {0, …, n−1} with replacement
///                  a_b      = auroc([pos[i_1], …, pos[i_n]], [neg[i_1], …, neg[i_n]])
/// low  = quantile_0.025(a_1..a_B),   high = quantile_0.975(a_1..a_B)
/// ```
/// Each draw is `rng.random_range(0..n)` from a ChaCha8 generator seeded
/// with `seed`, `n` draws per resample, resample after resample. Quantiles
/// as [`auroc_bootstrap_ci`]. Every resample holds `n` positives and `n`
/// negatives, so both classes are always present.
///
/// # Errors
///
/// As [`auroc`], and [`MetricError::Unpaired`] when the two sides differ
/// in length.
pub fn auroc_bootstrap_ci_paired(
    pos: &[f64],
    neg: &[f64],
    resamples: usize,
    seed: u64,
) -> Result<(f64, f64), MetricError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    auroc_bootstrap_ci_paired_with(pos, neg, resamples, |n| rng.random_range(0..n))
}

/// [`auroc_bootstrap_ci_paired`] with the pair indices taken from `draw`:
/// `draw(n)` gives the next index, in `0..n`; resample `b` takes draws
/// `b·n .. (b+1)·n`. For a test, `draw` can enumerate every resample of a
/// small set, which makes the interval that of the exact bootstrap
/// distribution.
///
/// # Errors
///
/// As [`auroc_bootstrap_ci_paired`]. An index out of range panics: that
/// is a bug of `draw`, not of the scores.
pub fn auroc_bootstrap_ci_paired_with(
    pos: &[f64],
    neg: &[f64],
    resamples: usize,
    mut draw: impl FnMut(usize) -> usize,
) -> Result<(f64, f64), MetricError> {
    if pos.len() != neg.len() {
        return Err(MetricError::Unpaired {
            pos: pos.len(),
            neg: neg.len(),
        });
    }
    auroc(pos, neg)?;
    let n = pos.len();
    let ranks = Ranks::new(pos, neg);
    let (mut p, mut q) = (vec![0u64; ranks.groups], vec![0u64; ranks.groups]);
    let stats: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            p.fill(0);
            q.fill(0);
            for _ in 0..n {
                let i = draw(n);
                p[ranks.pos[i]] += 1;
                q[ranks.neg[i]] += 1;
            }
            ranks.auroc(&p, &q)
        })
        .collect();
    Ok(interval(stats))
}

/// The 2.5 % and 97.5 % quantiles of the resampled statistics.
fn interval(mut stats: Vec<f64>) -> (f64, f64) {
    stats.sort_by(f64::total_cmp);
    (quantile(&stats, 0.025), quantile(&stats, 0.975))
}

/// Every score's group of equal scores, numbered from the highest score
/// (0) down; equal as numbers (`-0.0 == 0.0`), as [`auroc`] groups them.
struct Ranks {
    pos: Vec<usize>,
    neg: Vec<usize>,
    groups: usize,
}

impl Ranks {
    fn new(pos: &[f64], neg: &[f64]) -> Ranks {
        let mut order: Vec<(f64, bool, usize)> = pos
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, true, i))
            .chain(neg.iter().enumerate().map(|(i, &s)| (s, false, i)))
            .collect();
        // The scores were validated: no NaN, so the order is total.
        order.sort_unstable_by(|a, b| b.0.partial_cmp(&a.0).expect("no NaN"));
        let mut ranks = Ranks {
            pos: vec![0; pos.len()],
            neg: vec![0; neg.len()],
            groups: 0,
        };
        let mut last = None;
        for (score, is_pos, i) in order {
            if last != Some(score) {
                ranks.groups += 1;
                last = Some(score);
            }
            let group = ranks.groups - 1;
            if is_pos {
                ranks.pos[i] = group;
            } else {
                ranks.neg[i] = group;
            }
        }
        ranks
    }

    /// [`auroc`] of a resample that drew `p[g]` positives and `q[g]`
    /// negatives of group `g`: walking from the top, a group's positives
    /// beat every negative below it and tie its own.
    fn auroc(&self, p: &[u64], q: &[u64]) -> f64 {
        let n_pos: u64 = p.iter().sum();
        let n_neg: u64 = q.iter().sum();
        let (mut u2, mut fp) = (0u128, 0u64);
        for (&pg, &qg) in p.iter().zip(q) {
            fp += qg;
            u2 += 2 * u128::from(pg) * u128::from(n_neg - fp) + u128::from(pg) * u128::from(qg);
        }
        u2 as f64 / (2 * u128::from(n_pos) * u128::from(n_neg)) as f64
    }
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
    use super::{auroc_bootstrap_ci, auroc_bootstrap_ci_paired, quantile, Ranks};
    use crate::metrics::roc::auroc;
    use crate::metrics::MetricError;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The interval as the definition reads: draw the scores, sort, AUROC.
    fn direct(pos: &[f64], neg: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stats: Vec<f64> = (0..resamples)
            .map(|_| {
                let p: Vec<f64> = (0..pos.len())
                    .map(|_| pos[rng.random_range(0..pos.len())])
                    .collect();
                let n: Vec<f64> = (0..neg.len())
                    .map(|_| neg[rng.random_range(0..neg.len())])
                    .collect();
                auroc(&p, &n).unwrap()
            })
            .collect();
        stats.sort_by(f64::total_cmp);
        (quantile(&stats, 0.025), quantile(&stats, 0.975))
    }

    #[test]
    fn ranked_resamples_equal_resampling_the_scores() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for case in 0..40 {
            let (n, m) = (rng.random_range(1..60), rng.random_range(1..60));
            // Few distinct values, ±0 and ±inf: many ties.
            let pick = |rng: &mut ChaCha8Rng| -> f64 {
                [0.0, -0.0, 1.0, 2.5, -3.0, f64::INFINITY, f64::NEG_INFINITY]
                    [rng.random_range(0..7)]
                    + if rng.random_bool(0.3) {
                        rng.random::<f64>()
                    } else {
                        0.0
                    }
            };
            let pos: Vec<f64> = (0..n).map(|_| pick(&mut rng)).collect();
            let neg: Vec<f64> = (0..m).map(|_| pick(&mut rng)).collect();
            let got = auroc_bootstrap_ci(&pos, &neg, 200, case).unwrap();
            assert_eq!(
                got,
                direct(&pos, &neg, 200, case),
                "case {case}: {pos:?} {neg:?}"
            );
            // Every draw once: the statistic itself.
            let ranks = Ranks::new(&pos, &neg);
            let (mut p, mut q) = (vec![0; ranks.groups], vec![0; ranks.groups]);
            ranks.pos.iter().for_each(|&g| p[g] += 1);
            ranks.neg.iter().for_each(|&g| q[g] += 1);
            assert_eq!(ranks.auroc(&p, &q), auroc(&pos, &neg).unwrap());
        }
    }

    /// The paired interval as the definition reads: draw pair indices, take
    /// both scores of each drawn pair, sort, AUROC.
    fn direct_paired(pos: &[f64], neg: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stats: Vec<f64> = (0..resamples)
            .map(|_| {
                let idx: Vec<usize> = (0..pos.len())
                    .map(|_| rng.random_range(0..pos.len()))
                    .collect();
                let p: Vec<f64> = idx.iter().map(|&i| pos[i]).collect();
                let n: Vec<f64> = idx.iter().map(|&i| neg[i]).collect();
                auroc(&p, &n).unwrap()
            })
            .collect();
        stats.sort_by(f64::total_cmp);
        (quantile(&stats, 0.025), quantile(&stats, 0.975))
    }

    #[test]
    fn paired_ranked_resamples_equal_resampling_the_pairs() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for case in 0..40 {
            let n = rng.random_range(1..60);
            let pick = |rng: &mut ChaCha8Rng| -> f64 {
                [0.0, -0.0, 1.0, 2.5, f64::INFINITY, f64::NEG_INFINITY][rng.random_range(0..6)]
                    + if rng.random_bool(0.4) {
                        rng.random::<f64>()
                    } else {
                        0.0
                    }
            };
            let pos: Vec<f64> = (0..n).map(|_| pick(&mut rng)).collect();
            let neg: Vec<f64> = (0..n).map(|_| pick(&mut rng)).collect();
            assert_eq!(
                auroc_bootstrap_ci_paired(&pos, &neg, 200, case).unwrap(),
                direct_paired(&pos, &neg, 200, case),
                "case {case}: {pos:?} {neg:?}"
            );
        }
        assert_eq!(
            auroc_bootstrap_ci_paired(&[1.0, 2.0], &[0.0], 10, 1).unwrap_err(),
            MetricError::Unpaired { pos: 2, neg: 1 }
        );
        assert_eq!(
            auroc_bootstrap_ci_paired(&[1.0], &[f64::NAN], 10, 1).unwrap_err(),
            MetricError::NaN { index: 1 }
        );
    }

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
