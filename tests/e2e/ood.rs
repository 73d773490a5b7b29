//! Abnormal inputs end to end (docs/definitions.md §5): an open-set suite on
//! the synthetic dataset with held-out classes, uniform and Gaussian noise and
//! no attack; its metric, ROC and score rows, the skipped supervised
//! detector, the report's section and plots, the summary, and `compare`
//! gating an abnormal-input row.

use lossbench::metrics;
use lossbench::results::{RunTables, OOD_SUBSET};
use predicates::str::contains;

use super::{lossbench, run_dir, run_suite_text};

const SUITE: &str = "\
name: openset
data:
  dataset: synthetic
  synthetic: {classes: 4, train: 256, test: 96, side: 8}
  classes: [0, 1, 3]
model: mlp
train: {epochs: 3, lr: 0.01}
losses:
  - softmax
  - lgm
seeds: [0]
detectors: [max-softmax, lgm-likelihood, mahalanobis, lid]
ood:
  - held-out-classes
  - uniform: {n: 40}
  - gaussian: {std: 0.5}
";

const SOURCES: [&str; 3] = [
    "ood:held-out-classes",
    "ood:uniform(n=40)",
    "ood:gaussian(mean=0.5,std=0.5)",
];

#[test]
fn open_set_and_noise_rows_report_and_gating() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let out = run_suite_text(tmp.path(), &results, "openset", SUITE).success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("AUROC of each detector, abnormal inputs against in-distribution"),
        "{stdout}"
    );
    assert!(stdout.contains("ood:held-out-classes"), "{stdout}");
    let dir = run_dir(&results, "openset");
    let t = RunTables::read(&dir).unwrap();

    // The models train on the kept classes only: 3 outputs, and the test
    // split holds the kept classes' samples.
    assert_eq!(t.jobs.len(), 2);
    let n_test = t.jobs[0].n_test as f64;
    assert!(n_test > 0.0 && n_test < 96.0, "{n_test}");
    for j in &t.jobs {
        // lid fits on adversarial pairs: skipped, with the reason.
        assert!(
            j.notes
                .contains("abnormal inputs / lid: skipped: a supervised detector"),
            "{}",
            j.notes
        );
    }
    let value = |loss: &str, source: &str, detector: &str, metric: &str| {
        let v: Vec<f64> = t
            .metrics
            .iter()
            .filter(|r| {
                r.loss == loss
                    && r.attack == source
                    && r.detector == detector
                    && r.subset == OOD_SUBSET
                    && r.metric == metric
            })
            .map(|r| r.value)
            .collect();
        assert!(v.len() <= 1, "{loss} {source} {detector} {metric}: {v:?}");
        v.first().copied()
    };
    for loss in ["softmax", "lgm"] {
        for source in SOURCES {
            for detector in ["max-softmax", "lgm-likelihood", "mahalanobis", "lid"] {
                let applies = detector != "lid" && (detector != "lgm-likelihood" || loss == "lgm");
                for metric in [
                    "auroc",
                    "aupr_in",
                    "aupr_out",
                    "fpr_at_95tpr",
                    "det_acc",
                    "auroc_ci_low",
                    "auroc_ci_high",
                    "n_in",
                    "n_out",
                ] {
                    assert_eq!(
                        value(loss, source, detector, metric).is_some(),
                        applies,
                        "{loss} {source} {detector} {metric}"
                    );
                }
                if !applies {
                    continue;
                }
                let n_in = value(loss, source, detector, "n_in").unwrap();
                let n_out = value(loss, source, detector, "n_out").unwrap();
                assert_eq!(n_in, n_test);
                let expected_out = match source {
                    "ood:held-out-classes" => 96.0 - n_test,
                    "ood:uniform(n=40)" => 40.0,
                    _ => n_test,
                };
                assert_eq!(n_out, expected_out, "{source}");

                // Every metric recomputes from the scores table.
                let scores = |kind: &str| -> Vec<f64> {
                    t.scores
                        .iter()
                        .filter(|r| {
                            r.loss == loss
                                && r.attack == source
                                && r.detector == detector
                                && r.kind == kind
                                && r.split == OOD_SUBSET
                        })
                        .map(|r| r.score)
                        .collect()
                };
                let (s_in, s_out) = (scores("in-distribution"), scores("abnormal"));
                assert_eq!((s_in.len() as f64, s_out.len() as f64), (n_in, n_out));
                let close = |metric: &str, v: f64| {
                    let stored = value(loss, source, detector, metric).unwrap();
                    assert!((stored - v).abs() < 1e-12, "{metric}: {stored} vs {v}");
                };
                close("auroc", metrics::auroc(&s_out, &s_in).unwrap());
                close("aupr_out", metrics::aupr(&s_out, &s_in).unwrap());
                close("aupr_in", metrics::aupr_in(&s_out, &s_in).unwrap());
                close(
                    "fpr_at_95tpr",
                    metrics::fpr_at_95tpr(&s_out, &s_in).unwrap(),
                );
                let (lo, hi) = metrics::auroc_bootstrap_ci(&s_out, &s_in, 1000, 0).unwrap();
                close("auroc_ci_low", lo);
                close("auroc_ci_high", hi);
                assert!(t.roc.iter().any(|r| r.loss == loss
                    && r.attack == source
                    && r.detector == detector
                    && r.subset == OOD_SUBSET));
            }
        }
    }
    // Uniform noise is far from any training image: the feature-space
    // detectors flag it.
    assert!(value("lgm", SOURCES[1], "mahalanobis", "auroc").unwrap() > 0.9);
    // Both losses of the seed see the same noise images: the in-distribution
    // scores differ per model, but a source's size does not.
    assert_eq!(
        value("softmax", SOURCES[2], "max-softmax", "n_out"),
        value("lgm", SOURCES[2], "max-softmax", "n_out")
    );

    let report_dir = tmp
        .path()
        .join("reports/openset")
        .join(dir.file_name().unwrap());
    let report = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    for needle in [
        "## Abnormal inputs",
        "## ROC curves, abnormal inputs",
        "| softmax | ood:uniform(n=40) |",
        "fpr_at_95tpr",
        "aupr_in",
    ] {
        assert!(report.contains(needle), "{needle}: {report}");
    }
    // No adversarial ROC curves: that section says so; no score histograms
    // of abnormal inputs.
    assert!(report.contains("No ROC curves recorded."), "{report}");
    assert!(report.contains("No detector scores recorded."), "{report}");
    for stem in [
        "roc_ood_held-out-classes.svg",
        "roc_ood_uniform_n_40.svg",
        "roc_ood_gaussian_mean_0.5_std_0.5.svg",
    ] {
        assert!(report_dir.join(stem).is_file(), "{stem}");
    }

    // compare gates an abnormal-input row like any other: the candidate's
    // AUROC on uniform noise is 0.2 lower.
    let base = tmp.path().join("base.csv");
    let cand = tmp.path().join("cand.csv");
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    std::fs::write(&base, &text).unwrap();
    let mut changed = 0;
    let worse: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains(",lgm,") && l.contains(",ood:uniform(n=40),mahalanobis,ood,auroc,") {
                changed += 1;
                let (head, v) = l.rsplit_once(',').unwrap();
                format!("{head},{}", v.parse::<f64>().unwrap() - 0.2)
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_eq!(changed, 1, "{text}");
    std::fs::write(&cand, worse.join("\n") + "\n").unwrap();
    lossbench()
        .args(["compare", "--tolerance", "auroc=0.05"])
        .arg(&base)
        .arg(&cand)
        .assert()
        .code(1)
        .stdout(contains("ood:uniform(n=40)"));
    lossbench()
        .args(["compare", "--tolerance", "auroc=0.05"])
        .arg(&base)
        .arg(&base)
        .assert()
        .success();
}
