//! Aggregation across seeds (docs/definitions.md §4, last line): mean, sample standard
//! deviation and the number of values, so every reported figure carries its `n`.

/// Mean, sample standard deviation and count of `values`.
///
/// ```text
/// mean = (1/n) Σ_i x_i
/// std  = sqrt( Σ_i (x_i − mean)² / (n − 1) )      (0 when n = 1)
/// ```
///
/// # Inputs
///
/// One value per seed (docs/definitions.md §4: "across seeds: mean and sample standard
/// deviation, with `n` recorded"). An empty slice gives `(NaN, NaN, 0)`; a NaN
/// value propagates into the mean and the std.
pub fn mean_std(values: &[f64]) -> (f64, f64, usize) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, 0);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0, 1);
    }
    // Two-pass form: subtracting the mean first keeps the variance accurate
    // when the values are large and close together (e.g. accuracies near 1).
    let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, (ss / (n - 1) as f64).sqrt(), n)
}

#[cfg(test)]
mod tests {
    use super::mean_std;

    #[test]
    fn hand_values() {
        let (m, s, n) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-15);
        // Σ(x−m)² = 5, /3 → sqrt(5/3)
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(n, 4);
    }

    #[test]
    fn single_and_empty() {
        assert_eq!(mean_std(&[0.75]), (0.75, 0.0, 1));
        let (m, s, n) = mean_std(&[]);
        assert!(m.is_nan() && s.is_nan());
        assert_eq!(n, 0);
    }
}
