//! End to end: the real binary on the synthetic dataset in a temp dir.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn lossbench() -> Command {
    let mut cmd = Command::cargo_bin("lossbench").unwrap();
    cmd.env("LOSSBENCH_DATA", "/nonexistent-lossbench-data");
    cmd
}

/// The single run directory under `results/<suite>/`.
fn run_dir(results: &Path, suite: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(results.join(suite))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn run_writes_results_and_report_then_reuses_finished_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let reports = tmp.path().join("reports");
    let run = |expect_reuse: bool| {
        let out = lossbench()
            .args(["run", "--device", "cpu", "--results"])
            .arg(&results)
            .arg("--reports")
            .arg(&reports)
            .arg(fixture("e2e.yaml"))
            .assert()
            .success();
        let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert_eq!(stdout.contains("reusing"), expect_reuse, "{stdout}");
        assert!(stdout.contains("report:"), "{stdout}");
        // The one-screen summary: a header line and one row per loss x attack.
        assert!(
            stdout.contains("robust_acc") && stdout.contains("auroc lgm-likelihood"),
            "{stdout}"
        );
        stdout
    };
    run(false);
    let dir = run_dir(&results, "e2e");
    for table in [
        "jobs",
        "metrics",
        "roc",
        "train_log",
        "features",
        "scores",
        "examples",
    ] {
        for ext in ["parquet", "csv"] {
            let f = dir.join(format!("{table}.{ext}"));
            assert!(f.metadata().map(|m| m.len() > 0).unwrap_or(false), "{f:?}");
        }
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "done");
    assert_eq!(manifest["jobs_total"], 2);
    assert_eq!(manifest["device"], "cpu");
    assert_eq!(manifest["suite"]["name"], "e2e");

    // Every job learnt the synthetic task, and detection metrics exist for
    // max-softmax on both jobs and lgm-likelihood only on the lgm job.
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let clean: Vec<f64> = metrics
        .lines()
        .filter(|l| l.contains(",clean_acc,"))
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(clean.len(), 2, "{metrics}");
    assert!(clean.iter().all(|&a| a > 0.8), "clean accuracy {clean:?}");
    let auroc_rows = |det: &str| {
        metrics
            .lines()
            .filter(|l| l.contains(&format!(",{det},")) && l.contains(",auroc,"))
            .count()
    };
    assert!(auroc_rows("max-softmax") >= 2, "{metrics}");
    assert!(auroc_rows("lgm-likelihood") >= 1, "{metrics}");
    assert!(!metrics
        .lines()
        .any(|l| l.contains(",softmax,") && l.contains("lgm-likelihood")));

    // The skip is recorded with its reason, in the jobs table and the report.
    let jobs = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
    assert!(
        jobs.contains("detector 'lgm-likelihood' skipped: needs an lgm head"),
        "{jobs}"
    );
    let report_dir = reports.join("e2e").join(dir.file_name().unwrap());
    let md = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    assert!(md.contains("softmax") && md.contains("lgm"), "{md}");
    assert!(
        md.contains("- softmax (seeds 0): detector 'lgm-likelihood' skipped"),
        "{md}"
    );
    assert!(std::fs::read_dir(&report_dir).unwrap().any(|e| e
        .unwrap()
        .path()
        .extension()
        .is_some_and(|x| x == "svg")));

    // The same suite again: both jobs are found and reused.
    run(true);
    let md = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    assert!(md.contains("2 reused"), "{md}");

    // `report` re-renders from the result files alone.
    let again = tmp.path().join("again");
    lossbench()
        .arg("report")
        .arg(&dir)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(again.join("report.md")).unwrap(),
        md,
        "re-rendered report differs"
    );
}

#[test]
fn validate_reports_a_misspelt_key_with_its_location_and_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    let text = std::fs::read_to_string(fixture("e2e.yaml"))
        .unwrap()
        .replace("batch-size: 32", "batch-szie: 32");
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l.contains("batch-szie")).unwrap() + 1;
    lossbench()
        .arg("validate")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains(format!("bad.yaml:{line}:3")))
        .stderr(contains("batch-szie"));
    lossbench()
        .arg("validate")
        .arg(fixture("e2e.yaml"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/quick.yaml"))
        .assert()
        .success()
        .stdout(contains("ok:"));
}

#[test]
fn run_rejects_a_bad_suite_before_training_and_a_missing_dataset_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("missing.yaml");
    std::fs::write(
        &suite,
        "name: missing\ndata:\n  dataset: mnist\n  path: /nonexistent/mnist\nmodel: mlp\nlosses: [softmax]\nseeds: [0]\n",
    )
    .unwrap();
    lossbench()
        .args(["run", "--device", "cpu", "--results"])
        .arg(tmp.path().join("r"))
        .arg("--reports")
        .arg(tmp.path().join("p"))
        .arg(&suite)
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/mnist"));
    // Nothing was written for a run that could not start: no run directory
    // whose manifest says `running`.
    let results = tmp.path().join("r");
    assert!(!results.join("missing").exists(), "{:?}", walk(&results));

    // A suite file that is missing or unreadable (here a directory) is bad
    // input, named in the message.
    for path in [tmp.path().join("no-such-suite.yaml"), tmp.path().into()] {
        lossbench()
            .args(["run", "--device", "cpu", "--results"])
            .arg(tmp.path().join("r2"))
            .arg(&path)
            .assert()
            .code(2)
            .stderr(contains(format!("cannot read suite '{}'", path.display())));
    }
    // So is a run directory without a manifest handed to `report`.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    lossbench()
        .arg("report")
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(contains(empty.join("manifest.json").display().to_string()));
}

/// Every file under `dir`, for failure messages.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p)
            } else {
                vec![p]
            }
        })
        .collect()
}

#[test]
fn list_names_every_component_and_help_only_implemented_commands() {
    let out = lossbench().arg("list").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for name in [
        "fashion-mnist",
        "synthetic",
        "small-cnn",
        "softmax",
        "lgm",
        "fgsm",
        "max-softmax",
        "lgm-likelihood",
    ] {
        assert!(text.contains(name), "list lacks {name}:\n{text}");
    }
    let help = lossbench().arg("--help").assert().success();
    let help = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    for cmd in ["run", "validate", "list", "report", "compare"] {
        assert!(help.contains(cmd), "{help}");
    }
    assert!(!help.contains("merge"), "{help}");
}

/// `data.attack-subset` attacks a seeded sample of the test set (clean
/// accuracy still uses all of it), and `--seeds` replaces the suite's seeds.
#[test]
fn attack_subset_and_seeds_override() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("subset.yaml");
    let text = std::fs::read_to_string(fixture("e2e.yaml"))
        .unwrap()
        .replace("name: e2e", "name: subset")
        .replace(
            "  dataset: synthetic\n",
            "  dataset: synthetic\n  attack-subset: 40\n",
        )
        .replace("  - lgm\n", "")
        .replace("eps: [0.1, 0.3]", "eps: [0.3]");
    std::fs::write(&suite, text).unwrap();
    let results = tmp.path().join("results");
    let base = |cmd: &mut Command| {
        cmd.args(["run", "--device", "cpu", "--results"])
            .arg(&results)
            .arg("--reports")
            .arg(tmp.path().join("reports"))
            .arg(&suite);
    };

    let mut twice = lossbench();
    base(&mut twice);
    twice
        .args(["--seeds", "1,1"])
        .assert()
        .code(2)
        .stderr(contains("--seeds: seed 1 is given twice"));

    let mut cmd = lossbench();
    base(&mut cmd);
    cmd.args(["--seeds", "3,4"]).assert().success();
    let dir = run_dir(&results, "subset");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["jobs_total"], 2);
    assert_eq!(manifest["suite"]["seeds"], serde_json::json!([3, 4]));
    assert_eq!(manifest["suite"]["data"]["attack_subset"], 40);

    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let value = |seed: &str, metric: &str| -> f64 {
        let rows: Vec<&str> = metrics
            .lines()
            .filter(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f[4] == seed && f[8] == metric
            })
            .collect();
        assert_eq!(rows.len(), 1, "{seed} {metric}: {metrics}");
        rows[0].rsplit(',').next().unwrap().parse().unwrap()
    };
    for seed in ["3", "4"] {
        // Clean accuracy over all 128 test samples, attacks over 40 of them.
        let clean = value(seed, "clean_acc") * 128.0;
        assert!((clean - clean.round()).abs() < 1e-9, "{clean}");
        let n_eval = value(seed, "n_eval");
        assert!((1.0..=40.0).contains(&n_eval), "n_eval {n_eval}");
        let asr = value(seed, "asr");
        let robust = value(seed, "robust_acc");
        assert!(
            (robust - n_eval * (1.0 - asr) / 40.0).abs() < 1e-12,
            "robust_acc {robust} is not over the 40 attacked samples (n_eval {n_eval}, asr {asr})"
        );
    }
}

/// Writes `text` as `<dir>/<name>.yaml` and runs it; the command's output.
fn run_suite_text(
    dir: &Path,
    results: &Path,
    name: &str,
    text: &str,
) -> assert_cmd::assert::Assert {
    let suite = dir.join(format!("{name}.yaml"));
    std::fs::write(&suite, text).unwrap();
    lossbench()
        .args(["run", "--device", "cpu", "--results"])
        .arg(results)
        .arg("--reports")
        .arg(dir.join("reports"))
        .arg(&suite)
        .assert()
}

/// Reads a CSV table of a run directory as rows of fields.
fn csv_rows(dir: &Path, table: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join(format!("{table}.csv")))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

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
        stderr.contains("FAILED") && stderr.contains("training loss became"),
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
    assert!(jobs_csv.contains("training loss became"), "{jobs_csv}");

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
    assert!(md.contains("training loss became"), "{md}");
}
