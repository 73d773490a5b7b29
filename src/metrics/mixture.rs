//! How well a learned Gaussian mixture fits the features it was trained on
//! (docs/definitions.md §1.4, "Fitted mixture"): the distance between each
//! learned class mean and the empirical mean of that class's training
//! features, and the same on the scale of the distances between classes.

/// The fit of learned class means to the empirical class means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureFit {
    /// `mean_k ‖μ_k − m̂_k‖` over the classes with a training sample.
    pub mean_dist: f64,
    /// `max_k ‖μ_k − m̂_k‖`.
    pub max_dist: f64,
    /// `mean_{j<k} ‖m̂_j − m̂_k‖`: the typical distance between two
    /// classes' empirical means; `None` with fewer than two classes present.
    pub class_sep: Option<f64>,
    /// `mean_dist / class_sep`; `None` without a positive `class_sep`.
    pub relative: Option<f64>,
}

/// The [`MixtureFit`] of `means` (`[K, D]`, row-major) to `features`
/// (`[N, D]`, row-major) with labels `labels` (`[N]`, each in `0..K`);
/// `None` when no class has a sample. Sums run in f64 in sample order.
///
/// ```text
/// m̂_k = (1/N_k) Σ_{i: y_i = k} f_i                 classes with N_k > 0
/// d_k = ‖μ_k − m̂_k‖₂
/// ```
///
/// # Panics
///
/// When the lengths do not agree with `dim` or a label is out of range:
/// the caller builds all three from one model.
pub fn mixture_fit(
    features: &[f64],
    labels: &[i64],
    means: &[f64],
    dim: usize,
) -> Option<MixtureFit> {
    assert!(dim > 0 && features.len() == labels.len() * dim && means.len().is_multiple_of(dim));
    let classes = means.len() / dim;
    let mut sum = vec![0f64; classes * dim];
    let mut count = vec![0usize; classes];
    for (f, &y) in features.chunks_exact(dim).zip(labels) {
        let k = usize::try_from(y).expect("labels are class indices");
        count[k] += 1;
        for (s, v) in sum[k * dim..(k + 1) * dim].iter_mut().zip(f) {
            *s += v;
        }
    }
    let present: Vec<usize> = (0..classes).filter(|&k| count[k] > 0).collect();
    if present.is_empty() {
        return None;
    }
    let empirical = |k: usize| -> Vec<f64> {
        sum[k * dim..(k + 1) * dim]
            .iter()
            .map(|s| s / count[k] as f64)
            .collect()
    };
    let dist = |a: &[f64], b: &[f64]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    };
    let centres: Vec<Vec<f64>> = present.iter().map(|&k| empirical(k)).collect();
    let d: Vec<f64> = present
        .iter()
        .zip(&centres)
        .map(|(&k, c)| dist(&means[k * dim..(k + 1) * dim], c))
        .collect();
    let mean_dist = d.iter().sum::<f64>() / d.len() as f64;
    let max_dist = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut pairs = Vec::new();
    for (a, ca) in centres.iter().enumerate() {
        for cb in &centres[a + 1..] {
            pairs.push(dist(ca, cb));
        }
    }
    let class_sep = (!pairs.is_empty()).then(|| pairs.iter().sum::<f64>() / pairs.len() as f64);
    let relative = class_sep.filter(|&s| s > 0.0).map(|s| mean_dist / s);
    Some(MixtureFit {
        mean_dist,
        max_dist,
        class_sep,
        relative,
    })
}
