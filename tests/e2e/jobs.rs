//! How a job is evaluated and how it fails: the same numbers from a fresh
//! and a reused checkpoint, and a diverging job among healthy ones.

use std::path::Path;

use super::{csv_rows, run_dir, run_suite_text};

/// Same suite and seed, same numbers: evaluating a job whose checkpoint an
/// earlier run left (kd-bu's MC-dropout passes draw random masks) gives the
/// metrics and scores of evaluating it right after training.
#[test]
fn a_job_evaluates_alike_after_training_and_after_loading_its_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let text = "name: reseed
data:
  dataset: synthetic
  synthetic: {seed: 1, classes: 4, train: 256, test: 96, side: 12}
model:
  small-cnn: {feature-dim: 8, dropout: 0.5}
train: {epochs: 2, batch-size: 32, optimizer: adam, lr: 0.003}
losses: [softmax]
seeds: [0]
attacks:
  - fgsm: {eps: [0.3]}
detectors:
  - kd-bu: {samples: 5}
";
    // Timings differ from run to run; every other metric must not.
    let numbers = |dir: &Path| {
        let metrics: Vec<Vec<String>> = csv_rows(dir, "metrics")
            .into_iter()
            .filter(|r| r[8] != "seconds" && r[8] != "images_per_s")
            .collect();
        (metrics, csv_rows(dir, "scores"))
    };

    let out = run_suite_text(tmp.path(), &results, "reseed", text).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!stdout.contains("loaded checkpoint"), "{stdout}");
    let dir = run_dir(&results, "reseed");
    let fresh = numbers(&dir);
    assert!(
        fresh.0.iter().any(|r| r[6] == "kd-bu" && r[8] == "auroc"),
        "{:?}",
        fresh.0
    );
    assert!(!fresh.1.is_empty());

    // Forget the run, keep the checkpoints: the job is evaluated again from
    // the checkpoint, without training.
    std::fs::remove_dir_all(&dir).unwrap();
    let out = run_suite_text(tmp.path(), &results, "reseed", text).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("trained earlier, loaded checkpoint"),
        "{stdout}"
    );
    let loaded = numbers(&run_dir(&results, "reseed"));
    assert_eq!(fresh.0, loaded.0, "metrics differ");
    assert_eq!(fresh.1, loaded.1, "kd-bu scores differ");
}

/// A job whose loss diverges is recorded as failed with its error, the other
/// jobs still run, the report is written, and the run exits 3.
#[test]
fn a_diverging_job_is_recorded_as_failed_and_the_others_still_run() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    // A center weight beyond f32's range makes that loss infinite at once;
    // plain softmax trains as usual with the same settings.
    let text = "name: diverge
data:
  dataset: synthetic
  synthetic: {seed: 1, classes: 4, train: 256, test: 96, side: 12}
model:
  small-cnn: {feature-dim: 8}
train: {epochs: 2, batch-size: 32, optimizer: adam, lr: 0.003}
losses:
  - center: {lambda: 1.0e39}
  - softmax
seeds: [0]
attacks:
  - fgsm: {eps: [0.3]}
detectors: [max-softmax]
";
    let out = run_suite_text(tmp.path(), &results, "diverge", text).code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("FAILED") && stderr.contains("non-finite training loss"),
        "{stderr}"
    );

    let dir = run_dir(&results, "diverge");
    let jobs = csv_rows(&dir, "jobs");
    let status: Vec<(&str, &str)> = jobs
        .iter()
        .map(|r| (r[3].as_str(), r[6].as_str()))
        .collect();
    assert_eq!(
        status,
        [("center", "failed"), ("softmax", "done")],
        "{jobs:?}"
    );
    let jobs_csv = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
    assert!(jobs_csv.contains("non-finite training loss"), "{jobs_csv}");

    let metrics = csv_rows(&dir, "metrics");
    assert!(metrics.iter().all(|r| r[3] == "softmax"), "{metrics:?}");
    assert!(metrics.iter().any(|r| r[8] == "clean_acc"), "{metrics:?}");
    assert!(
        metrics
            .iter()
            .any(|r| r[6] == "max-softmax" && r[8] == "auroc"),
        "{metrics:?}"
    );

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "failed");
    assert_eq!(
        (
            manifest["jobs_done"].as_u64(),
            manifest["jobs_failed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let report = tmp
        .path()
        .join("reports/diverge")
        .join(dir.file_name().unwrap())
        .join("report.md");
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(md.contains("non-finite training loss"), "{md}");
}
