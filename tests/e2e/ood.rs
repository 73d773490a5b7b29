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
    assert!(
        report.contains("No ROC curves of adversarial examples recorded."),
        "{report}"
    );
    assert!(
        report.contains(
            "No detector scores of adversarial examples recorded (the scores of abnormal inputs"
        ),
        "{report}"
    );
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

/// IDX files (gzip) of `n` 28x28 images under `dir`, with the names the
/// publishers use: class `k`'s images are a bright 6x6 block at a place of
/// their own (`stripes`: vertical stripes instead) on seeded noise.
fn write_idx_dataset(dir: &std::path::Path, prefix: &str, n: usize, seed: u64, stripes: bool) {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let gz = |magic: u8, dims: &[u32], payload: &[u8]| {
        let mut b = vec![0, 0, 8, magic];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(payload);
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(&b).unwrap();
        e.finish().unwrap()
    };
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let k = (i % 4) as u8;
        labels.push(k);
        for r in 0..28 {
            for c in 0..28 {
                let on = if stripes {
                    c % 4 < 2
                } else {
                    let (r0, c0) = (4 + 12 * (k as usize / 2), 4 + 12 * (k as usize % 2));
                    (r0..r0 + 6).contains(&r) && (c0..c0 + 6).contains(&c)
                };
                pixels.push(if on { 200 + next() / 8 } else { next() / 4 });
            }
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    let images = gz(3, &[n as u32, 28, 28], &pixels);
    let labels = gz(1, &[n as u32], &labels);
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte.gz")), images).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), labels).unwrap();
}

/// Another dataset of the same image shape, read from its IDX files, as an
/// abnormal source: its rows, its count, and a detector that tells the two
/// apart (the images differ in kind: blocks against stripes).
#[test]
fn another_dataset_of_the_same_shape_is_an_abnormal_source() {
    let tmp = tempfile::tempdir().unwrap();
    let (fmnist, mnist) = (tmp.path().join("fmnist"), tmp.path().join("mnist"));
    write_idx_dataset(&fmnist, "train", 240, 1, false);
    write_idx_dataset(&fmnist, "t10k", 80, 2, false);
    write_idx_dataset(&mnist, "train", 40, 3, true);
    write_idx_dataset(&mnist, "t10k", 60, 4, true);
    let suite = format!(
        "name: other
data:
  dataset: fashion-mnist
  path: {}
model: mlp
train: {{epochs: 2, lr: 0.01}}
losses: [softmax]
seeds: [0]
detectors: [max-softmax, mahalanobis]
ood:
  - dataset: {{name: mnist, path: {}}}
",
        fmnist.display(),
        mnist.display()
    );
    let results = tmp.path().join("results");
    run_suite_text(tmp.path(), &results, "other", &suite).success();
    let t = RunTables::read(&run_dir(&results, "other")).unwrap();
    let value = |detector: &str, metric: &str| {
        let v: Vec<f64> = t
            .metrics
            .iter()
            .filter(|r| {
                r.attack == "ood:dataset(name=mnist)"
                    && r.detector == detector
                    && r.subset == OOD_SUBSET
                    && r.metric == metric
            })
            .map(|r| r.value)
            .collect();
        assert_eq!(v.len(), 1, "{detector} {metric}: {v:?}");
        v[0]
    };
    for detector in ["max-softmax", "mahalanobis"] {
        assert_eq!(value(detector, "n_in"), 80.0);
        assert_eq!(value(detector, "n_out"), 60.0);
        let auroc = value(detector, "auroc");
        assert!((0.0..=1.0).contains(&auroc), "{detector}: {auroc}");
    }
    // Stripes lie far from every class's block features.
    let auroc = value("mahalanobis", "auroc");
    assert!(auroc > 0.9, "mahalanobis AUROC {auroc}");

    // A dataset of another image shape is refused, naming the source.
    let cifar = tmp.path().join("cifar");
    std::fs::create_dir_all(&cifar).unwrap();
    // Two records (a label byte and 3x32x32 pixels) per batch file.
    let records: Vec<u8> = (0..2u8)
        .flat_map(|k| std::iter::once(k).chain(std::iter::repeat_n(100, 3072)))
        .collect();
    for name in (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".to_owned()])
    {
        std::fs::write(cifar.join(name), &records).unwrap();
    }
    let wrong = suite.replace(
        &format!("name: mnist, path: {}", mnist.display()),
        &format!("name: cifar10, path: {}", cifar.display()),
    );
    let out = run_suite_text(tmp.path(), &tmp.path().join("r2"), "wrong", &wrong).failure();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("ood source `cifar10` has 3x32x32 images but fashion-mnist has 1x28x28"),
        "{stderr}"
    );
}
