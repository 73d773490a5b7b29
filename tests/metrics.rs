//! Metrics against scikit-learn (values from `tests/reference/metrics_ref.py`,
//! stored in `metrics_ref.json`) and the invariants of docs/definitions.md §4.

use lossbench::metrics::{
    aupr, aupr_in, auroc, auroc_bootstrap_ci, auroc_bootstrap_ci_paired,
    auroc_bootstrap_ci_paired_with, det_acc, fpr_at_95tpr, mean_std, mixture_fit, roc_curve,
    Detection, MetricError, Roc, BOOTSTRAP_RESAMPLES,
};
use proptest::prelude::*;
use serde::Deserialize;

/// `|a − b| <= atol + rtol·|b|`, with a message naming what was compared.
fn assert_close(what: &str, actual: f64, expected: f64, rtol: f64, atol: f64) {
    let ok = if expected.is_infinite() {
        actual == expected
    } else {
        (actual - expected).abs() <= atol + rtol * expected.abs()
    };
    assert!(ok, "{what}: got {actual:.17}, expected {expected:.17}");
}

fn assert_all_close(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert_close(&format!("{what}[{i}]"), a, e, 1e-12, 1e-12);
    }
}

#[derive(Deserialize)]
struct Reference {
    sklearn_version: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    pos: Vec<f64>,
    neg: Vec<f64>,
    auroc: f64,
    aupr: f64,
    aupr_in: f64,
    fpr_at_95tpr: f64,
    det_acc: f64,
    roc_fpr: Vec<f64>,
    roc_tpr: Vec<f64>,
    /// `null` stands for +inf (JSON has no infinity).
    roc_thresholds: Vec<Option<f64>>,
}

fn reference() -> Reference {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/metrics_ref.json"
    );
    let text = std::fs::read_to_string(path).expect("run tests/reference/metrics_ref.py");
    serde_json::from_str(&text).expect("metrics_ref.json parses")
}

#[test]
fn matches_scikit_learn() {
    let r = reference();
    assert!(r.cases.len() >= 10, "sklearn {}", r.sklearn_version);
    for c in &r.cases {
        let n = &c.name;
        assert_close(
            &format!("{n} auroc"),
            auroc(&c.pos, &c.neg).unwrap(),
            c.auroc,
            1e-12,
            1e-14,
        );
        assert_close(
            &format!("{n} aupr"),
            aupr(&c.pos, &c.neg).unwrap(),
            c.aupr,
            1e-12,
            1e-14,
        );
        // AUPR-In (docs/definitions.md §5): scikit-learn with the classes
        // swapped and the scores negated.
        assert_close(
            &format!("{n} aupr_in"),
            aupr_in(&c.pos, &c.neg).unwrap(),
            c.aupr_in,
            1e-12,
            1e-14,
        );
        assert_close(
            &format!("{n} fpr_at_95tpr"),
            fpr_at_95tpr(&c.pos, &c.neg).unwrap(),
            c.fpr_at_95tpr,
            1e-12,
            1e-14,
        );
        assert_close(
            &format!("{n} det_acc"),
            det_acc(&c.pos, &c.neg).unwrap(),
            c.det_acc,
            1e-12,
            1e-14,
        );

        let roc = roc_curve(&c.pos, &c.neg).unwrap();
        assert_all_close(&format!("{n} fpr"), &roc.fpr, &c.roc_fpr);
        assert_all_close(&format!("{n} tpr"), &roc.tpr, &c.roc_tpr);
        let thr: Vec<f64> = c
            .roc_thresholds
            .iter()
            .map(|t| t.unwrap_or(f64::INFINITY))
            .collect();
        assert_all_close(&format!("{n} thresholds"), &roc.thresholds, &thr);

        let d = Detection::compute(&c.pos, &c.neg).unwrap();
        assert_eq!(d.roc, roc, "{n}: Detection::compute agrees with roc_curve");
        assert_eq!(d.auroc, auroc(&c.pos, &c.neg).unwrap(), "{n}");
        assert_eq!(d.aupr, aupr(&c.pos, &c.neg).unwrap(), "{n}");
    }
}

/// The trapezoidal area under the full curve equals the Mann-Whitney AUROC.
#[test]
fn auroc_is_trapezoid_area() {
    for c in &reference().cases {
        let roc = roc_curve(&c.pos, &c.neg).unwrap();
        let area: f64 = (1..roc.len())
            .map(|i| (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2.0)
            .sum();
        assert_close(&c.name, area, auroc(&c.pos, &c.neg).unwrap(), 1e-12, 1e-12);
    }
}

#[test]
fn perfect_inverted_and_constant() {
    let pos = [3.0, 4.0, 5.0];
    let neg = [0.0, 1.0, 2.0, 2.5];
    assert_eq!(auroc(&pos, &neg).unwrap(), 1.0);
    assert_eq!(auroc(&neg, &pos).unwrap(), 0.0);
    assert_eq!(aupr(&pos, &neg).unwrap(), 1.0);
    assert_eq!(fpr_at_95tpr(&pos, &neg).unwrap(), 0.0);
    assert_eq!(det_acc(&pos, &neg).unwrap(), 1.0);

    let same = [0.7; 6];
    assert_eq!(auroc(&same[..2], &same[2..]).unwrap(), 0.5);
    assert_eq!(det_acc(&same[..2], &same[2..]).unwrap(), 0.5);
    assert_eq!(fpr_at_95tpr(&same[..2], &same[2..]).unwrap(), 1.0);
    // Constant scores: precision is the positive rate 2/6 at the only threshold.
    assert_close(
        "aupr constant",
        aupr(&same[..2], &same[2..]).unwrap(),
        1.0 / 3.0,
        1e-15,
        0.0,
    );
}

/// Hand-derived: pos = [0.8, 0.4, 0.0], neg = [0.4, -0.0, -1.0, 0.1].
/// Pairs won: 0.8 beats 4; 0.4 beats 3 and ties 1; 0.0 beats 1 (-1.0) and ties
/// 1 (-0.0 == 0.0). U = 4 + 3.5 + 1.5 = 9, over 12 pairs.
#[test]
fn hand_case_with_ties_and_negative_zero() {
    let pos = [0.8, 0.4, 0.0];
    let neg = [0.4, -0.0, -1.0, 0.1];
    assert_eq!(auroc(&pos, &neg).unwrap(), 0.75);
    let roc = roc_curve(&pos, &neg).unwrap();
    assert_eq!(
        roc.thresholds,
        vec![f64::INFINITY, 0.8, 0.4, 0.1, 0.0, -1.0]
    );
    assert_eq!(
        roc.tpr,
        vec![0.0, 1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 1.0, 1.0]
    );
    assert_eq!(roc.fpr, vec![0.0, 0.0, 0.25, 0.5, 0.75, 1.0]);
}

#[test]
fn infinities_are_ordered_as_numbers() {
    let inf = f64::INFINITY;
    assert_eq!(auroc(&[inf], &[f64::MAX]).unwrap(), 1.0);
    assert_eq!(auroc(&[-inf], &[f64::MIN]).unwrap(), 0.0);
    assert_eq!(auroc(&[inf, -inf], &[inf, 0.0]).unwrap(), 0.375); // (0.5 + 1 + 0 + 0) / 4
    assert_eq!(auroc(&[inf, inf], &[inf]).unwrap(), 0.5);
    let roc = roc_curve(&[inf, 1.0], &[-inf]).unwrap();
    assert_eq!(roc.thresholds, vec![inf, inf, 1.0, -inf]);
    assert_eq!(roc.tpr, vec![0.0, 0.5, 1.0, 1.0]);
    assert_eq!(roc.fpr, vec![0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn nan_is_rejected_with_its_index() {
    let e = auroc(&[0.1, f64::NAN], &[0.0]).unwrap_err();
    assert_eq!(e, MetricError::NaN { index: 1 });
    // Negatives are counted after the positives.
    let e = roc_curve(&[0.1, 0.2], &[0.0, 0.3, f64::NAN]).unwrap_err();
    assert_eq!(e, MetricError::NaN { index: 4 });
    assert!(e.to_string().contains("score 4 is NaN"), "{e}");
    for f in [aupr, fpr_at_95tpr, det_acc] {
        assert!(matches!(
            f(&[f64::NAN], &[0.0]),
            Err(MetricError::NaN { index: 0 })
        ));
    }
    assert!(Detection::compute(&[1.0], &[f64::NAN]).is_err());
    // aupr_in swaps the sides inside, but names the score as given.
    assert_eq!(
        aupr_in(&[0.1, 0.2], &[0.0, f64::NAN]),
        Err(MetricError::NaN { index: 3 })
    );
    assert!(matches!(
        aupr_in(&[], &[0.0]),
        Err(MetricError::OneClass {
            missing: "positive"
        })
    ));
}

#[test]
fn one_class_is_rejected() {
    let e = auroc(&[], &[0.0, 1.0]).unwrap_err();
    assert_eq!(
        e,
        MetricError::OneClass {
            missing: "positive"
        }
    );
    assert!(e.to_string().contains("only one class present"), "{e}");
    let e = roc_curve(&[0.5], &[]).unwrap_err();
    assert_eq!(
        e,
        MetricError::OneClass {
            missing: "negative"
        }
    );
    assert!(aupr(&[], &[]).is_err());
}

/// docs/definitions.md §4: a TPR of exactly 0.95 counts (first-≥ convention).
#[test]
fn fpr_at_95tpr_first_reaching_threshold() {
    // 20 positives 1..=20; negatives at 1.5 (below 19 of them) and 0.5.
    let pos: Vec<f64> = (1..=20).map(f64::from).collect();
    let neg = [1.5, 0.5, 30.0, 25.0];
    // At threshold 2, TPR = 19/20 = 0.95 exactly; negatives >= 2: 30, 25.
    assert_eq!(fpr_at_95tpr(&pos, &neg).unwrap(), 0.5);
}

#[test]
fn downsample_keeps_ends_and_shape() {
    let r = reference();
    let c = r
        .cases
        .iter()
        .find(|c| c.name == "gauss_1000_1000")
        .unwrap();
    let full = roc_curve(&c.pos, &c.neg).unwrap();
    assert!(full.len() > 1000);
    let small = full.downsample(101);
    assert!(small.len() <= 101 && small.len() > 50, "{}", small.len());
    assert_eq!(small.fpr[0], 0.0);
    assert_eq!(small.tpr[0], 0.0);
    assert_eq!(small.thresholds[0], f64::INFINITY);
    assert_eq!(small.fpr.last(), Some(&1.0));
    assert_eq!(small.tpr.last(), Some(&1.0));
    // Every kept point is a point of the full curve, in order.
    let mut j = 0;
    for i in 0..small.len() {
        while full.thresholds[j] != small.thresholds[i] {
            j += 1;
        }
        assert_eq!((full.fpr[j], full.tpr[j]), (small.fpr[i], small.tpr[i]));
    }
    // The shape survives: the area moves by less than the spacing allows.
    let area = |r: &Roc| -> f64 {
        (1..r.len())
            .map(|i| (r.fpr[i] - r.fpr[i - 1]) * (r.tpr[i] + r.tpr[i - 1]) / 2.0)
            .sum()
    };
    assert_close("area", area(&small), area(&full), 0.0, 0.01);
    // Small curves come back unchanged; max_points below 2 still keeps both ends.
    assert_eq!(full.downsample(full.len()), full);
    let two = full.downsample(0);
    assert_eq!(two.len(), 2);
    assert_eq!((two.fpr[1], two.tpr[1]), (1.0, 1.0));
}

#[test]
fn mean_std_by_hand() {
    let (m, s, n) = mean_std(&[0.9, 0.8, 0.7]);
    assert_close("mean", m, 0.8, 1e-12, 1e-15);
    assert_close("std", s, 0.1, 1e-12, 1e-15);
    assert_eq!(n, 3);
    assert_eq!(mean_std(&[0.5]), (0.5, 0.0, 1));
}

#[test]
fn bootstrap_interval() {
    let r = reference();
    let c = r.cases.iter().find(|c| c.name == "gauss_50_40").unwrap();
    let a = auroc(&c.pos, &c.neg).unwrap();
    let (lo, hi) = auroc_bootstrap_ci(&c.pos, &c.neg, BOOTSTRAP_RESAMPLES, 7).unwrap();
    assert!(lo < a && a < hi, "{lo} < {a} < {hi}");
    // Normal approximation for n=50, m=40: the interval is about ±0.1 wide.
    assert!(hi - lo > 0.05 && hi - lo < 0.4, "{lo}..{hi}");
    // Seeded: the same seed gives the same bounds, another seed others.
    assert_eq!(
        auroc_bootstrap_ci(&c.pos, &c.neg, BOOTSTRAP_RESAMPLES, 7).unwrap(),
        (lo, hi)
    );
    assert_ne!(
        auroc_bootstrap_ci(&c.pos, &c.neg, BOOTSTRAP_RESAMPLES, 8).unwrap(),
        (lo, hi)
    );
    // More data, narrower interval.
    let big = r
        .cases
        .iter()
        .find(|c| c.name == "gauss_1000_1000")
        .unwrap();
    let (blo, bhi) = auroc_bootstrap_ci(&big.pos, &big.neg, 200, 7).unwrap();
    assert!(bhi - blo < hi - lo);
    // Separable scores stay separable in every resample.
    assert_eq!(
        auroc_bootstrap_ci(&[2.0, 3.0], &[0.0, 1.0], 50, 1).unwrap(),
        (1.0, 1.0)
    );
    assert_eq!(
        auroc_bootstrap_ci(&[1.0], &[f64::NAN], 10, 1).unwrap_err(),
        MetricError::NaN { index: 1 }
    );
}

/// A `draw` for [`auroc_bootstrap_ci_paired_with`] that lists every one of
/// the `n^n` resamples of `n` pairs once: resample `b` draws, at position
/// `j`, digit `j` of `b` written in base `n`.
fn enumerate_resamples(n: usize) -> impl FnMut(usize) -> usize {
    let mut call = 0usize;
    move |len| {
        assert_eq!(len, n);
        let (b, j) = (call / n, call % n);
        call += 1;
        (b / n.pow(j as u32)) % n
    }
}

#[derive(Deserialize)]
struct BootstrapCase {
    name: String,
    /// Written with Python's `repr`, so `"inf"` stands for infinity.
    pos: Vec<String>,
    neg: Vec<String>,
    resamples: usize,
    paired: (f64, f64),
    auroc: f64,
    unpaired: Option<(f64, f64)>,
}

#[test]
fn paired_bootstrap_is_the_exact_interval_when_every_resample_is_listed() {
    // Hand computation, pos = [1, 3], neg = [0, 2] in pairs (1, 0), (3, 2):
    // the 4 index pairs (0,0) (1,1) (0,1) (1,0) give AUROC 1, 1, 3/4, 3/4;
    // sorted [0.75, 0.75, 1, 1], quantile 0.025 at position 0.075 → 0.75,
    // quantile 0.975 at 2.925 → 1. (Unpaired, pos [1, 1] against neg [2, 2]
    // would be drawn too, with AUROC 0.)
    let got = auroc_bootstrap_ci_paired_with(&[1.0, 3.0], &[0.0, 2.0], 4, enumerate_resamples(2))
        .unwrap();
    assert_eq!(got, (0.75, 1.0));

    #[derive(Deserialize)]
    struct File {
        cases: Vec<BootstrapCase>,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/bootstrap_ref.json"
    );
    let text = std::fs::read_to_string(path).expect("run tests/reference/bootstrap_ref.py");
    let file: File = serde_json::from_str(&text).expect("bootstrap_ref.json parses");
    assert!(file.cases.len() >= 4);
    let parse = |v: &[String]| -> Vec<f64> { v.iter().map(|s| s.parse().unwrap()).collect() };
    for c in &file.cases {
        let (pos, neg) = (parse(&c.pos), parse(&c.neg));
        let n = pos.len();
        assert_eq!(c.resamples, n.pow(n as u32), "{}", c.name);
        assert_close(&c.name, auroc(&pos, &neg).unwrap(), c.auroc, 0.0, 1e-12);
        let (lo, hi) =
            auroc_bootstrap_ci_paired_with(&pos, &neg, c.resamples, enumerate_resamples(n))
                .unwrap();
        assert_close(&format!("{} low", c.name), lo, c.paired.0, 0.0, 1e-12);
        assert_close(&format!("{} high", c.name), hi, c.paired.1, 0.0, 1e-12);
        // Where pairing matters, the exact unpaired interval is another one.
        if let Some(unpaired) = c.unpaired {
            assert!(
                (unpaired.0 - lo).abs() > 1e-3 || (unpaired.1 - hi).abs() > 1e-3,
                "{}: paired {:?} equals unpaired {unpaired:?}",
                c.name,
                (lo, hi)
            );
        }
    }
}

#[test]
fn paired_bootstrap_is_seeded_and_needs_pairs() {
    let r = reference();
    let c = r.cases.iter().find(|c| c.name == "gauss_50_40").unwrap();
    let (pos, neg) = (&c.pos[..40], &c.neg[..]);
    let a = auroc(pos, neg).unwrap();
    let (lo, hi) = auroc_bootstrap_ci_paired(pos, neg, BOOTSTRAP_RESAMPLES, 7).unwrap();
    assert!(lo < a && a < hi, "{lo} < {a} < {hi}");
    assert_eq!(
        auroc_bootstrap_ci_paired(pos, neg, BOOTSTRAP_RESAMPLES, 7).unwrap(),
        (lo, hi)
    );
    assert_ne!(
        auroc_bootstrap_ci_paired(pos, neg, BOOTSTRAP_RESAMPLES, 8).unwrap(),
        (lo, hi)
    );
    // Another draw scheme, so another interval than the unpaired one.
    assert_ne!(
        auroc_bootstrap_ci(pos, neg, BOOTSTRAP_RESAMPLES, 7).unwrap(),
        (lo, hi)
    );
    assert_eq!(
        auroc_bootstrap_ci_paired(&c.pos, neg, 10, 1).unwrap_err(),
        MetricError::Unpaired { pos: 50, neg: 40 }
    );
}

#[derive(Deserialize)]
struct MixtureCase {
    name: String,
    dim: usize,
    features: Vec<f64>,
    labels: Vec<i64>,
    means: Vec<f64>,
    mean_dist: f64,
    max_dist: f64,
    class_sep: f64,
    relative: f64,
}

#[test]
fn mixture_fit_matches_numpy_and_scikit_learn() {
    #[derive(Deserialize)]
    struct File {
        cases: Vec<MixtureCase>,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/mixture_ref.json"
    );
    let text = std::fs::read_to_string(path).expect("run tests/reference/mixture_ref.py");
    let file: File = serde_json::from_str(&text).expect("mixture_ref.json parses");
    assert_eq!(file.cases.len(), 2);
    for c in &file.cases {
        let fit = mixture_fit(&c.features, &c.labels, &c.means, c.dim).unwrap();
        assert_close(&c.name, fit.mean_dist, c.mean_dist, 1e-12, 1e-12);
        assert_close(&c.name, fit.max_dist, c.max_dist, 1e-12, 1e-12);
        assert_close(&c.name, fit.class_sep.unwrap(), c.class_sep, 1e-12, 1e-12);
        assert_close(&c.name, fit.relative.unwrap(), c.relative, 1e-12, 1e-12);
    }
    // By hand: one class at the origin, the learned mean at (3, 4): d = 5;
    // no second class, so no separation.
    let one = mixture_fit(&[1.0, 0.0, -1.0, 0.0], &[0, 0], &[3.0, 4.0], 2).unwrap();
    assert_eq!((one.mean_dist, one.max_dist), (5.0, 5.0));
    assert_eq!((one.class_sep, one.relative), (None, None));
    assert_eq!(mixture_fit(&[], &[], &[0.0, 0.0], 2), None);
}

fn scores() -> impl Strategy<Value = Vec<f64>> {
    // A small value set makes ties common; a few infinities join in.
    prop::collection::vec(
        prop_oneof![
            8 => (-5i32..5).prop_map(f64::from),
            8 => -1e3f64..1e3,
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
        ],
        1..60,
    )
}

/// O(n·m) pair counting, the definition itself.
fn auroc_pairs(pos: &[f64], neg: &[f64]) -> f64 {
    let mut u = 0.0;
    for &p in pos {
        for &q in neg {
            u += if p > q {
                1.0
            } else if p == q {
                0.5
            } else {
                0.0
            };
        }
    }
    u / (pos.len() * neg.len()) as f64
}

proptest! {
    #[test]
    fn auroc_of_negated_scores_is_one_minus(pos in scores(), neg in scores()) {
        let a = auroc(&pos, &neg).unwrap();
        let neg_pos: Vec<f64> = pos.iter().map(|s| -s).collect();
        let neg_neg: Vec<f64> = neg.iter().map(|s| -s).collect();
        let b = auroc(&neg_pos, &neg_neg).unwrap();
        prop_assert!((a + b - 1.0).abs() < 1e-12, "{a} + {b}");
    }

    #[test]
    fn auroc_equals_pair_counting(pos in scores(), neg in scores()) {
        let a = auroc(&pos, &neg).unwrap();
        prop_assert!((a - auroc_pairs(&pos, &neg)).abs() < 1e-12);
        prop_assert!((0.0..=1.0).contains(&a));
    }

    #[test]
    fn roc_is_monotone_from_origin_to_corner(pos in scores(), neg in scores()) {
        let roc = roc_curve(&pos, &neg).unwrap();
        prop_assert_eq!((roc.fpr[0], roc.tpr[0]), (0.0, 0.0));
        prop_assert_eq!((roc.fpr[roc.len() - 1], roc.tpr[roc.len() - 1]), (1.0, 1.0));
        for i in 1..roc.len() {
            prop_assert!(roc.fpr[i] >= roc.fpr[i - 1] && roc.tpr[i] >= roc.tpr[i - 1]);
            prop_assert!(roc.thresholds[i] <= roc.thresholds[i - 1]);
        }
        let d = roc.downsample(5);
        prop_assert!(d.len() <= 5);
        prop_assert_eq!(d.thresholds[0], roc.thresholds[0]);
        prop_assert_eq!(d.thresholds[d.len() - 1], roc.thresholds[roc.len() - 1]);
    }
}
