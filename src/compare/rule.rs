//! The regression rule, on one key's seed statistics and nothing else.
//!
//! ```text
//! worsening w = mean_b − mean_c      (higher is better)
//!             = mean_c − mean_b      (lower is better)
//! noise       = 2 · sqrt(s_b²/n_b + s_c²/n_c)   when n_b ≥ 2 and n_c ≥ 2, else 0
//! threshold   = max(tolerance, noise)
//! regression  ⇔  w > threshold + ε        improved  ⇔  −w > threshold + ε
//! ```
//!
//! `s` is the sample standard deviation over seeds and `n` the number of
//! seeds, so `noise` is two standard errors of the difference of the means
//! (Welch): a drop inside the seed-to-seed noise is not called a regression
//! however small the tolerance. With one seed on either side there is no
//! noise estimate and the tolerance alone decides. `ε` ([`EPSILON`]) absorbs
//! floating-point rounding, so a drop of exactly the tolerance passes. A
//! candidate with a non-finite value (NaN, ±inf) where the baseline is finite
//! is a regression.

use serde::Serialize;

use super::{Direction, Stats, Status, Tolerance, ToleranceSource};

/// Slack for floating-point rounding in the comparison with the threshold.
pub const EPSILON: f64 = 1e-12;

/// The rule's numbers for one gated key.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gate {
    pub tolerance: f64,
    pub source: ToleranceSource,
    /// `2 · sqrt(s_b²/n_b + s_c²/n_c)`, or 0 with fewer than 2 seeds a side.
    pub noise: f64,
    /// `max(tolerance, noise)`.
    pub threshold: f64,
    /// How much worse the candidate is, in the metric's units (negative:
    /// better). Non-finite when the candidate is.
    pub worsening: f64,
}

/// The seed-to-seed noise term of the rule (0 unless both sides have at
/// least two seeds).
pub fn noise(b: &Stats, c: &Stats) -> f64 {
    if b.n < 2 || c.n < 2 {
        return 0.0;
    }
    2.0 * (b.std * b.std / b.n as f64 + c.std * c.std / c.n as f64).sqrt()
}

/// Applies the rule to a directional metric. An informational direction
/// never regresses (its worsening is 0).
pub fn verdict(direction: Direction, b: &Stats, c: &Stats, tol: Tolerance) -> (Status, Gate) {
    let worsening = match direction {
        Direction::HigherIsBetter => b.mean - c.mean,
        Direction::LowerIsBetter => c.mean - b.mean,
        Direction::Informational => 0.0,
    };
    let noise = noise(b, c);
    let threshold = tol.value.max(if noise.is_finite() { noise } else { 0.0 });
    let status = if !worsening.is_finite() || worsening > threshold + EPSILON {
        Status::Regression
    } else if -worsening > threshold + EPSILON {
        Status::Improved
    } else {
        Status::Ok
    };
    let gate = Gate {
        tolerance: tol.value,
        source: tol.source,
        noise,
        threshold,
        worsening,
    };
    (status, gate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(values: &[f64]) -> Stats {
        Stats::new(
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as u64, v))
                .collect(),
        )
    }

    fn tol(value: f64) -> Tolerance {
        Tolerance {
            value,
            source: ToleranceSource::Cli,
        }
    }

    const UP: Direction = Direction::HigherIsBetter;
    const DOWN: Direction = Direction::LowerIsBetter;

    #[test]
    fn one_seed_uses_the_tolerance_alone() {
        let (s, g) = verdict(UP, &stats(&[0.90]), &stats(&[0.87]), tol(0.02));
        assert_eq!(s, Status::Regression);
        assert_eq!(g.noise, 0.0);
        assert_eq!(g.threshold, 0.02);
        assert!((g.worsening - 0.03).abs() < 1e-12);
        assert_eq!(
            verdict(UP, &stats(&[0.90]), &stats(&[0.89]), tol(0.02)).0,
            Status::Ok
        );
    }

    #[test]
    fn a_drop_of_exactly_the_tolerance_passes() {
        // 0.9 − 0.88 is 0.020000000000000018 in binary floating point.
        let (s, g) = verdict(UP, &stats(&[0.9]), &stats(&[0.88]), tol(0.02));
        assert!(g.worsening > 0.02);
        assert_eq!(s, Status::Ok);
    }

    #[test]
    fn zero_tolerance_flags_any_drop_and_any_gain_is_an_improvement() {
        assert_eq!(
            verdict(UP, &stats(&[0.5]), &stats(&[0.4999]), tol(0.0)).0,
            Status::Regression
        );
        assert_eq!(
            verdict(UP, &stats(&[0.5]), &stats(&[0.5]), tol(0.0)).0,
            Status::Ok
        );
        assert_eq!(
            verdict(UP, &stats(&[0.5]), &stats(&[0.5001]), tol(0.0)).0,
            Status::Improved
        );
    }

    #[test]
    fn lower_is_better_flags_a_rise() {
        let (s, g) = verdict(DOWN, &stats(&[0.30]), &stats(&[0.40]), tol(0.05));
        assert_eq!(s, Status::Regression);
        assert!((g.worsening - 0.10).abs() < 1e-12);
        assert_eq!(
            verdict(DOWN, &stats(&[0.30]), &stats(&[0.20]), tol(0.05)).0,
            Status::Improved
        );
    }

    #[test]
    fn with_two_seeds_a_side_the_noise_raises_the_threshold() {
        // s_b = s_c = sqrt(0.02) (values ±0.1 around the mean), n = 2:
        // noise = 2·sqrt(0.02/2 + 0.02/2) = 2·sqrt(0.02) ≈ 0.2828.
        let b = stats(&[0.8, 1.0]);
        let c = stats(&[0.6, 0.8]);
        let (s, g) = verdict(UP, &b, &c, tol(0.02));
        assert!((g.noise - 2.0 * 0.02f64.sqrt()).abs() < 1e-12, "{g:?}");
        assert_eq!(g.threshold, g.noise);
        assert!((g.worsening - 0.2).abs() < 1e-12);
        assert_eq!(s, Status::Ok, "a drop of 0.2 is inside the noise");
        // The same drop with tight seeds is a regression.
        let (s, g) = verdict(UP, &stats(&[0.9, 0.9]), &stats(&[0.7, 0.7]), tol(0.02));
        assert_eq!(g.noise, 0.0);
        assert_eq!(s, Status::Regression);
    }

    #[test]
    fn the_tolerance_wins_when_it_exceeds_the_noise() {
        let (s, g) = verdict(UP, &stats(&[0.90, 0.91]), &stats(&[0.86, 0.87]), tol(0.05));
        assert!(g.noise < 0.05);
        assert_eq!(g.threshold, 0.05);
        assert_eq!(s, Status::Ok);
    }

    #[test]
    fn one_seed_on_either_side_ignores_the_other_sides_spread() {
        let (s, g) = verdict(UP, &stats(&[0.5, 1.0]), &stats(&[0.6]), tol(0.02));
        assert_eq!(g.noise, 0.0);
        assert_eq!(s, Status::Regression);
    }

    #[test]
    fn a_non_finite_candidate_is_a_regression() {
        let (s, g) = verdict(UP, &stats(&[0.9]), &stats(&[f64::NAN]), tol(0.5));
        assert_eq!(s, Status::Regression);
        assert!(g.worsening.is_nan());
        let (s, _) = verdict(
            DOWN,
            &stats(&[1.0, 2.0]),
            &stats(&[1.0, f64::INFINITY]),
            tol(0.5),
        );
        assert_eq!(s, Status::Regression);
    }

    #[test]
    fn informational_never_regresses() {
        let (s, _) = verdict(
            Direction::Informational,
            &stats(&[1.0]),
            &stats(&[100.0]),
            tol(0.0),
        );
        assert_eq!(s, Status::Ok);
    }
}
