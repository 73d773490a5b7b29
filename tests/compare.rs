//! `lossbench compare`: the verdicts on a hand-built comparison, its
//! renderings (Markdown and JUnit as insta snapshots), and the real binary's
//! exit codes on the committed CI baseline and on worsened, truncated and
//! malformed candidates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use lossbench::report::compare::{self, Input, Options, Status};
use lossbench::results::MetricRow;
use lossbench::suite::Suite;
use lossbench::Error;
use predicates::str::contains;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The committed CI baseline (`results/baselines/ci/`).
fn baseline_dir() -> PathBuf {
    root().join("results/baselines/ci")
}

fn lossbench() -> Command {
    Command::cargo_bin("lossbench").unwrap()
}

fn row(
    loss: &str,
    seed: u64,
    attack: &str,
    det: &str,
    subset: &str,
    metric: &str,
    value: f64,
) -> MetricRow {
    MetricRow {
        job_id: format!("{loss}-{seed}"),
        dataset: "synthetic".into(),
        model: "small-cnn".into(),
        loss: loss.into(),
        seed,
        attack: attack.into(),
        detector: det.into(),
        subset: subset.into(),
        metric: metric.into(),
        value,
    }
}

const FGSM: &str = "fgsm(eps=0.1)";

/// Two seeds a side. Against the baseline the candidate has: a clean_acc
/// regression (lgm, tight seeds), a clean_acc drop inside the tolerance
/// (softmax), an asr rise inside the seed noise (softmax), an auroc
/// improvement (lgm), informational and timing rows, an auroc row missing
/// (softmax max-softmax) and an extra detector (lgm-likelihood, aupr).
fn fixture() -> (Input, Input) {
    let side = |cand: bool| {
        let mut rows = Vec::new();
        for seed in [0, 1] {
            let s = seed as f64;
            let (sm_acc, lgm_acc) = if cand { (0.985, 0.90) } else { (1.0, 1.0) };
            rows.push(row(
                "softmax",
                seed,
                "none",
                "none",
                "clean",
                "clean_acc",
                sm_acc,
            ));
            rows.push(row(
                "lgm",
                seed,
                "none",
                "none",
                "clean",
                "clean_acc",
                lgm_acc,
            ));
            // asr: baseline 0.3 / 0.5, candidate 0.4 / 0.6: +0.1 within the noise.
            let asr = 0.3 + 0.2 * s + if cand { 0.1 } else { 0.0 };
            rows.push(row("softmax", seed, FGSM, "none", "all", "asr", asr));
            rows.push(row("softmax", seed, FGSM, "none", "all", "n_eval", 256.0));
            rows.push(row(
                "softmax",
                seed,
                FGSM,
                "none",
                "successful",
                "l2_mean",
                1.1 + 0.01 * s,
            ));
            let ips = if cand {
                2000.0 + 100.0 * s
            } else {
                4000.0 + 100.0 * s
            };
            rows.push(row(
                "softmax",
                seed,
                FGSM,
                "none",
                "all",
                "images_per_s",
                ips,
            ));
            rows.push(row(
                "softmax",
                seed,
                FGSM,
                "none",
                "all",
                "seconds",
                256.0 / ips,
            ));
            let auroc = if cand { 0.95 } else { 0.80 } + 0.01 * s;
            rows.push(row(
                "lgm",
                seed,
                FGSM,
                "max-softmax",
                "successful",
                "auroc",
                auroc,
            ));
            rows.push(row(
                "lgm",
                seed,
                FGSM,
                "max-softmax",
                "successful",
                "fpr_at_95tpr",
                0.2,
            ));
            if !cand {
                rows.push(row(
                    "softmax",
                    seed,
                    FGSM,
                    "max-softmax",
                    "successful",
                    "auroc",
                    0.9,
                ));
            } else {
                rows.push(row(
                    "lgm",
                    seed,
                    FGSM,
                    "lgm-likelihood",
                    "successful",
                    "aupr",
                    0.97,
                ));
            }
        }
        rows
    };
    let tols = |pairs: &[(&str, f64)]| -> BTreeMap<String, f64> {
        pairs.iter().map(|&(m, t)| (m.to_owned(), t)).collect()
    };
    let mut b = Input::from_rows(
        "baseline/metrics.csv",
        side(false),
        tols(&[("clean_acc", 0.5)]),
    );
    let mut c = Input::from_rows(
        "candidate/metrics.parquet",
        side(true),
        tols(&[("clean_acc", 0.02), ("asr", 0.05), ("n_eval", 1.0)]),
    );
    for (input, commit, device) in [(&mut b, "aaaaaaa", "cpu"), (&mut c, "bbbbbbb", "cuda:0")] {
        input.info.suite = Some("ci".into());
        input.info.run_id = Some("47e69e581663".into());
        input.info.git_commit = Some(commit.into());
        input.info.device = Some(device.into());
    }
    (b, c)
}

fn fixture_comparison() -> compare::Comparison {
    let (b, c) = fixture();
    let opts = Options {
        tolerances: [("auroc".to_owned(), 0.03)].into_iter().collect(),
        ..Options::default()
    };
    compare::compare(&b, &c, &opts).unwrap()
}

fn status_of(c: &compare::Comparison, loss: &str, det: &str, metric: &str) -> Status {
    c.rows
        .iter()
        .find(|r| r.key.loss == loss && r.key.detector == det && r.key.metric == metric)
        .unwrap_or_else(|| panic!("no row {loss} {det} {metric}"))
        .status
}

#[test]
fn verdicts_follow_tolerances_noise_and_directions() {
    let c = fixture_comparison();
    // Candidate suite tolerance 0.02 (the baseline's 0.5 is not used).
    assert_eq!(
        status_of(&c, "lgm", "none", "clean_acc"),
        Status::Regression
    );
    assert_eq!(status_of(&c, "softmax", "none", "clean_acc"), Status::Ok);
    // asr +0.1 > tolerance 0.05, but s = 0.1414 a side: noise = 0.2828.
    assert_eq!(status_of(&c, "softmax", "none", "asr"), Status::Ok);
    let asr = c.rows.iter().find(|r| r.key.metric == "asr").unwrap();
    let gate = asr.gate.unwrap();
    assert!((gate.noise - 2.0 * 0.02f64.sqrt()).abs() < 1e-9, "{gate:?}");
    assert!((gate.worsening - 0.1).abs() < 1e-9);
    // auroc: --tolerance 0.03 (CLI), +0.15.
    assert_eq!(
        status_of(&c, "lgm", "max-softmax", "auroc"),
        Status::Improved
    );
    // fpr_at_95tpr has no tolerance; n_eval is informational although the
    // suite names it; timing halved without a tolerance is reported only.
    assert_eq!(
        status_of(&c, "lgm", "max-softmax", "fpr_at_95tpr"),
        Status::Reported
    );
    assert_eq!(status_of(&c, "softmax", "none", "n_eval"), Status::Reported);
    assert_eq!(
        status_of(&c, "softmax", "none", "images_per_s"),
        Status::Reported
    );
    assert_eq!(
        status_of(&c, "softmax", "none", "seconds"),
        Status::Reported
    );
    assert_eq!(
        status_of(&c, "softmax", "max-softmax", "auroc"),
        Status::Missing
    );
    assert_eq!(
        status_of(&c, "lgm", "lgm-likelihood", "aupr"),
        Status::Extra
    );
    assert!(c
        .notes
        .iter()
        .any(|n| n.contains("`n_eval`") && n.contains("informational")));
    assert!(c.notes.iter().any(|n| n.contains("different devices")));
    assert!(c.failed());
    assert_eq!(c.exit_code(), 1);
    let n = c.counts();
    assert_eq!(
        (n.regression, n.improved, n.ok, n.missing, n.extra),
        (1, 1, 2, 1, 1)
    );
}

#[test]
fn cli_tolerance_wins_over_the_suite_and_the_default_spares_timing() {
    let (b, c) = fixture();
    let opts = Options {
        tolerances: [("clean_acc".to_owned(), 0.2)].into_iter().collect(),
        default_tolerance: Some(0.0),
        allow_missing: true,
    };
    let cmp = compare::compare(&b, &c, &opts).unwrap();
    assert_eq!(status_of(&cmp, "lgm", "none", "clean_acc"), Status::Ok);
    // The default reaches fpr_at_95tpr (unchanged: ok) and auroc (+0.15), not timing.
    assert_eq!(
        status_of(&cmp, "lgm", "max-softmax", "fpr_at_95tpr"),
        Status::Ok
    );
    assert_eq!(
        status_of(&cmp, "lgm", "max-softmax", "auroc"),
        Status::Improved
    );
    assert_eq!(
        status_of(&cmp, "softmax", "none", "images_per_s"),
        Status::Reported
    );
    // The missing row is still listed but allowed: nothing fails.
    assert_eq!(
        status_of(&cmp, "softmax", "max-softmax", "auroc"),
        Status::Missing
    );
    assert!(!cmp.failed(), "{}", compare::markdown(&cmp));

    // An explicit tolerance gates a timing metric: throughput halved.
    let opts = Options {
        tolerances: [("images_per_s".to_owned(), 100.0)].into_iter().collect(),
        ..Options::default()
    };
    let cmp = compare::compare(&b, &c, &opts).unwrap();
    assert_eq!(
        status_of(&cmp, "softmax", "none", "images_per_s"),
        Status::Regression
    );
}

#[test]
fn bad_tolerances_and_duplicate_rows_are_bad_input() {
    let (b, c) = fixture();
    for (metric, needle) in [("n_pairs", "informational"), ("clean_ac", "known metrics")] {
        let opts = Options {
            tolerances: [(metric.to_owned(), 0.1)].into_iter().collect(),
            ..Options::default()
        };
        let e = compare::compare(&b, &c, &opts).unwrap_err();
        assert!(
            matches!(e, Error::Usage(_)) && e.to_string().contains(needle),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
    }
    let mut rows = b.rows.clone();
    rows.push(rows[0].clone());
    let dup = Input::from_rows("dup.csv", rows, BTreeMap::new());
    let e = compare::compare(&dup, &c, &Options::default()).unwrap_err();
    assert!(e.to_string().contains("two rows for seed 0"), "{e}");
    assert_eq!(e.exit_code(), 2);

    assert!(compare::parse_tolerance("clean_acc=0.02").is_ok());
    for bad in ["clean_acc", "=0.1", "auroc=-0.1", "auroc=nan", "auroc=x"] {
        assert!(compare::parse_tolerance(bad).is_err(), "{bad}");
    }
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(compare::markdown(&fixture_comparison()));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(compare::junit(&fixture_comparison()));
}

#[test]
fn benchmark_file_is_bigger_is_better() {
    let entries = compare::benchmark_entries(&fixture_comparison());
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let find = |suffix: &str| {
        entries
            .iter()
            .find(|e| e.name.ends_with(suffix))
            .unwrap_or_else(|| panic!("no entry *{suffix} in {names:?}"))
    };
    let asr = find("softmax/fgsm(eps=0.1)/none/all: 1 - asr");
    assert!((asr.value - 0.5).abs() < 1e-12, "1 − mean(0.4, 0.6)");
    assert_eq!(asr.unit, "fraction");
    assert_eq!(asr.range.as_deref(), Some("± 0.1414"));
    assert!((find("lgm/none/none/clean: clean_acc").value - 0.9).abs() < 1e-12);
    assert_eq!(find(": images_per_s").unit, "images/s");
    assert!(find(": 1 - fpr_at_95tpr").value > 0.79);
    // seconds (twin of images_per_s), informational metrics and baseline-only
    // rows are left out.
    for absent in [
        "seconds",
        "n_eval",
        "l2_mean",
        "softmax/fgsm(eps=0.1)/max-softmax",
    ] {
        assert!(
            !names.iter().any(|n| n.contains(absent)),
            "{absent} in {names:?}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&compare::benchmark_json(&fixture_comparison())).unwrap();
    let first = &json.as_array().unwrap()[0];
    assert!(first["name"].is_string() && first["unit"].is_string() && first["value"].is_f64());
}

#[test]
fn json_holds_the_verdict_and_every_row() {
    let c = fixture_comparison();
    let json: serde_json::Value = serde_json::from_str(&compare::json(&c)).unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["counts"]["regression"], 1);
    assert_eq!(json["rows"].as_array().unwrap().len(), c.rows.len());
    let reg = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "regression")
        .unwrap();
    assert_eq!(reg["loss"], "lgm");
    assert_eq!(reg["metric"], "clean_acc");
    assert_eq!(reg["direction"], "higher-is-better");
    assert_eq!(reg["gate"]["source"], "suite");
    assert_eq!(reg["baseline"]["seeds"], serde_json::json!([0, 1]));
    assert_eq!(json["tolerances"]["auroc"]["source"], "cli");
}

// ---------------------------------------------------------------------------
// The binary, on the committed CI baseline.

/// A copy of the baseline (metrics.csv + manifest.json) with `edit` applied
/// to every data line of metrics.csv.
fn edited_candidate(dir: &Path, edit: impl Fn(&str) -> Option<String>) -> PathBuf {
    let out = dir.join("candidate");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(
        baseline_dir().join("manifest.json"),
        out.join("manifest.json"),
    )
    .unwrap();
    let text = std::fs::read_to_string(baseline_dir().join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let mut csv = format!("{}\n", lines.next().unwrap());
    for l in lines {
        if let Some(l) = edit(l) {
            csv.push_str(&l);
            csv.push('\n');
        }
    }
    std::fs::write(out.join("metrics.csv"), csv).unwrap();
    out
}

/// `line` with its value (last column) replaced by `f(value)`.
fn with_value(line: &str, f: impl Fn(f64) -> f64) -> String {
    let (head, v) = line.rsplit_once(',').unwrap();
    format!("{head},{}", f(v.parse().unwrap()))
}

#[test]
fn the_ci_baseline_matches_the_ci_suite_and_passes_against_itself() {
    let suite = Suite::load(&root().join("suites/ci.yaml")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(baseline_dir().join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["suite_name"], "ci");
    assert_eq!(manifest["device"], "cpu", "the CI baseline is a CPU run");
    assert_eq!(
        manifest["suite"]["regression"],
        serde_json::to_value(&suite.regression).unwrap(),
        "suites/ci.yaml's tolerances differ from the baseline's: refresh results/baselines/ci (see its README)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("out/compare.json");
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(baseline_dir().join("metrics.csv"))
        .arg("--json")
        .arg(&json)
        .assert()
        .code(0)
        .stdout(contains("lossbench compare: PASS"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(v["counts"]["regression"], 0);
    assert!(v["counts"]["ok"].as_u64().unwrap() >= 8, "{}", v["counts"]);
}

#[test]
fn a_worsened_candidate_exits_1_and_every_output_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    // clean accuracy of every lgm job 0.1 lower.
    let cand = edited_candidate(tmp.path(), |l| {
        Some(if l.contains(",lgm,") && l.contains(",clean_acc,") {
            with_value(l, |v| v - 0.1)
        } else {
            l.to_owned()
        })
    });
    let out = tmp.path().join("out");
    let assert = lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&cand)
        .arg("--markdown")
        .arg(out.join("c.md"))
        .arg("--json")
        .arg(out.join("c.json"))
        .arg("--junit")
        .arg(out.join("c.xml"))
        .arg("--benchmark-json")
        .arg(out.join("bench.json"))
        .assert()
        .code(1)
        .stdout(contains("lossbench compare: FAIL"))
        .stdout(contains("### Regressions (1)"));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert_eq!(std::fs::read_to_string(out.join("c.md")).unwrap(), stdout);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("c.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["counts"]["regression"], 1);
    let xml = std::fs::read_to_string(out.join("c.xml")).unwrap();
    assert!(
        xml.contains("failures=\"1\"") && xml.contains("type=\"regression\""),
        "{xml}"
    );
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    assert!(bench.as_array().is_some_and(|a| !a.is_empty()));

    // A looser tolerance on the command line lets it pass; --quiet prints nothing.
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&cand)
        .args(["--tolerance", "clean_acc=0.15", "--quiet"])
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn missing_and_extra_rows_are_listed_and_missing_ones_fail_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    // Drop every lgm-likelihood row; add a metric the baseline lacks.
    let cand = edited_candidate(tmp.path(), |l| {
        if l.contains("lgm-likelihood") {
            None
        } else if l.contains(",clean_acc,") {
            Some(format!("{l}\n{}", l.replace(",clean_acc,", ",top5_acc,")))
        } else {
            Some(l.to_owned())
        }
    });
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&cand)
        .assert()
        .code(1)
        .stdout(contains("### Missing from the candidate"))
        .stdout(contains("| lgm-likelihood |"))
        .stdout(contains("### Extra in the candidate"))
        .stdout(contains("top5_acc"));
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&cand)
        .arg("--allow-missing")
        .assert()
        .code(0)
        .stdout(contains("### Missing from the candidate"))
        .stdout(contains("(allowed)"));
}

#[test]
fn parquet_and_csv_inputs_compare_equal() {
    use polars::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let csv = baseline_dir().join("metrics.csv");
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv))
        .unwrap()
        .finish()
        .unwrap();
    let parquet = tmp.path().join("metrics.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut df)
        .unwrap();
    // No manifest beside it and no tolerance: everything is reported only.
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&parquet)
        .assert()
        .code(0)
        .stdout(contains("0 gated metric(s)"))
        .stdout(contains("no manifest.json beside the candidate"));
    lossbench()
        .arg("compare")
        .arg(&parquet)
        .arg(baseline_dir())
        .assert()
        .code(0)
        .stdout(contains("0 missing from the candidate"))
        .stdout(contains("0 extra"));
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let nowhere = tmp.path().join("nowhere");
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&nowhere)
        .assert()
        .code(2)
        .stderr(contains("nowhere"));
    let bad = tmp.path().join("metrics.csv");
    std::fs::write(&bad, "job_id,dataset,model,loss,seed,attack,detector,subset,value\nx,a,b,c,0,none,none,clean,1.0\n")
        .unwrap();
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains("metrics.csv"))
        .stderr(contains("missing column 'metric'"));
    std::fs::write(&bad, "job_id,dataset,model,loss,seed,attack,detector,subset,metric,value\nx,a,b,c,0,none,none,clean,clean_acc,high\n")
        .unwrap();
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(contains("'high' is not a number"));
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    lossbench()
        .arg("compare")
        .arg(&empty)
        .arg(baseline_dir())
        .assert()
        .code(2)
        .stderr(contains("no metrics.parquet or metrics.csv"));
    for args in [
        ["--tolerance", "clean_acc"],
        ["--tolerance", "n_eval=1"],
        ["--default-tolerance", "-1"],
    ] {
        lossbench()
            .arg("compare")
            .arg(baseline_dir())
            .arg(baseline_dir())
            .args(args)
            .assert()
            .code(2);
    }
}
