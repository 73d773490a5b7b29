//! Whole runs of a suite: the files they write, the report, reuse of
//! finished jobs, `data.attack-subset` and `--seeds`.

use assert_cmd::Command;
use predicates::str::contains;

use super::{fixture, lossbench, run_dir, run_suite_text};

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
        // The one-screen summary: the accuracy table and the AUROC table.
        assert!(
            stdout.contains("robust_acc") && stdout.contains("AUROC of each detector"),
            "{stdout}"
        );
        assert!(stdout.contains("lgm-likelihood"), "{stdout}");
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

    // The lgm job, and only it, records how its learned means fit the
    // training features (docs/definitions.md §1.4): four rows, subset train.
    let t = lossbench::results::RunTables::read(&dir).unwrap();
    let fit: Vec<_> = t
        .metrics
        .iter()
        .filter(|r| r.metric.starts_with("lgm_"))
        .collect();
    assert_eq!(fit.len(), 4, "{fit:?}");
    assert!(fit.iter().all(|r| r.loss == "lgm"
        && r.subset == "train"
        && r.attack == "none"
        && r.value.is_finite()
        && r.value >= 0.0));
    let value = |m: &str| fit.iter().find(|r| r.metric == m).unwrap().value;
    assert!(value("lgm_mean_dist") <= value("lgm_mean_dist_max"));
    assert!(
        (value("lgm_mean_dist_rel") - value("lgm_mean_dist") / value("lgm_class_sep")).abs()
            < 1e-12
    );

    // The skip is recorded with its reason, in the jobs table and the report.
    let jobs = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
    assert!(
        jobs.contains("detector 'lgm-likelihood' skipped: needs an lgm head"),
        "{jobs}"
    );
    // The train log names each job's loss and seed, as `jobs` does.
    let t = lossbench::results::RunTables::read(&dir).unwrap();
    assert_eq!(t.jobs.len(), 2);
    for j in &t.jobs {
        let rows: Vec<_> = t
            .train_log
            .iter()
            .filter(|r| r.job_id == j.job_id)
            .collect();
        assert!(!rows.is_empty(), "no train log for {}", j.loss);
        assert!(
            rows.iter().all(|r| r.loss == j.loss && r.seed == j.seed),
            "{rows:?}"
        );
    }
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

/// Two variants of one loss and of one attack, under labels: every table
/// keys their rows by the label, the jobs table records the resolved
/// parameters, the report shows both, and `compare` joins on the labels.
#[test]
fn labelled_variants_are_rows_of_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let text = std::fs::read_to_string(fixture("e2e.yaml"))
        .unwrap()
        .replace("name: e2e", "name: labels")
        .replace(
            "  - lgm\n",
            "  - lgm: {covariance: identity}\n    label: lgm-identity\n  \
             - lgm: {covariance: diagonal}\n    label: lgm-diagonal\n",
        )
        .replace(
            "  - fgsm: {eps: [0.1, 0.3]}\n",
            "  - bim: {eps: 0.3, stop: first}\n    label: bim-a\n  \
             - bim: {eps: 0.3, stop: last}\n    label: bim-b\n",
        );
    run_suite_text(tmp.path(), &results, "labels", &text).success();
    let dir = run_dir(&results, "labels");

    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let rows = |loss: &str, attack: &str| {
        metrics
            .lines()
            .filter(|l| l.contains(&format!(",{loss},")) && l.contains(attack))
            .count()
    };
    for loss in ["softmax", "lgm-identity", "lgm-diagonal"] {
        assert!(rows(loss, "clean_acc") == 1, "{loss}: {metrics}");
        for attack in ["bim-a(eps=0.3,", "bim-b(eps=0.3,"] {
            assert!(rows(loss, attack) > 0, "{loss} {attack}: {metrics}");
        }
    }
    assert!(!metrics.contains(",lgm,"), "{metrics}");

    let jobs = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
    assert!(jobs.contains(r#"""label"":""lgm-diagonal"""#), "{jobs}");
    assert!(jobs.contains(r#"""covariance"":""diagonal"""#), "{jobs}");

    let report = std::fs::read_to_string(
        tmp.path()
            .join("reports/labels")
            .join(dir.file_name().unwrap())
            .join("report.md"),
    )
    .unwrap();
    assert!(
        report.contains("| lgm-diagonal | lgm: alpha=0.1, covariance=diagonal,"),
        "{report}"
    );

    lossbench()
        .arg("compare")
        .arg(&dir)
        .arg(&dir)
        .assert()
        .success()
        .stdout(contains("lgm-diagonal"));
}

/// PGD, its adaptive twin on the L-GM likelihood and FGSM at one budget:
/// defended accuracy per attack and detector, the worst case over the
/// budget's attacks, the adaptive attack skipped (with a note) on the model
/// without an L-GM head, and the report's defended-accuracy table with the
/// adaptive row right after its twin.
#[test]
fn adaptive_attacks_defended_accuracy_and_the_worst_case() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let text = std::fs::read_to_string(fixture("e2e.yaml"))
        .unwrap()
        .replace("name: e2e", "name: adaptive")
        .replace(
            "  - fgsm: {eps: [0.1, 0.3]}\n",
            "  - fgsm: {eps: 0.3}\n  - pgd: {eps: 0.3, steps: 5}\n  \
             - pgd: {eps: 0.3, steps: 5, against: lgm-likelihood, kappa: 0.5}\n",
        );
    run_suite_text(tmp.path(), &results, "adaptive", &text).success();
    let dir = run_dir(&results, "adaptive");
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let count = |needle: &str| metrics.lines().filter(|l| l.contains(needle)).count();
    let adaptive = "against=lgm-likelihood,kappa=0.5)";
    // One defended_acc per (loss, attack, detector): softmax 2 attacks x 1
    // detector, lgm 3 attacks x 2 detectors.
    assert_eq!(count(",defended_acc,"), 2 + 6, "{metrics}");
    assert!(
        count(adaptive) > 0
            && metrics
                .lines()
                .filter(|l| l.contains(adaptive))
                .all(|l| l.contains(",lgm,"))
    );
    // The worst case over FGSM, PGD and (for lgm) the adaptive PGD.
    let worst: Vec<&str> = metrics
        .lines()
        .filter(|l| l.contains("worst(linf,eps=0.3)") && l.contains(",n_attacks,"))
        .collect();
    assert_eq!(worst.len(), 2, "{metrics}");
    assert!(
        worst
            .iter()
            .any(|l| l.contains(",softmax,") && l.ends_with(",2.0")),
        "{worst:?}"
    );
    assert!(
        worst
            .iter()
            .any(|l| l.contains(",lgm,") && l.ends_with(",3.0")),
        "{worst:?}"
    );
    let jobs = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
    assert!(
        jobs.contains("the adaptive attack on `lgm-likelihood` skipped"),
        "{jobs}"
    );
    let report = std::fs::read_to_string(
        tmp.path()
            .join("reports/adaptive")
            .join(dir.file_name().unwrap())
            .join("report.md"),
    )
    .unwrap();
    let section = report
        .split("## Defended accuracy")
        .nth(1)
        .expect("a defended-accuracy section")
        .split("\n## ")
        .next()
        .unwrap();
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| lgm")).collect();
    let twin = rows
        .iter()
        .position(|l| l.contains("pgd(") && !l.contains("against"))
        .unwrap();
    assert!(rows[twin + 1].contains(adaptive), "{section}");
}
