//! `lossbench compare`: the verdicts on a hand-built comparison, where its
//! tolerances come from, its notes and warnings, and its renderings (Markdown
//! and JUnit as insta snapshots; the JUnit also read back by an XML checker).
//! The real binary is tested in `compare/cli.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use lossbench::compare::{self, Input, Options, Status};
use lossbench::results::MetricRow;
use lossbench::Error;

#[path = "compare/cli.rs"]
mod cli;
#[path = "compare/inputs.rs"]
mod inputs;
#[path = "compare/junit.rs"]
mod junit;
#[path = "compare/sources.rs"]
mod sources;
#[path = "compare/xml.rs"]
mod xml;

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
pub(crate) fn fixture() -> (Input, Input) {
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
    assert!(
        c.notes.iter().any(|n| n.contains(
            "tolerances differ: `asr` (baseline none, candidate 0.0500), \
             `clean_acc` (baseline 0.5000, candidate 0.0200)"
        )),
        "{:?}",
        c.notes
    );
    assert!(c.warnings.is_empty());
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
    assert_eq!(reg["gate"]["source"], "candidate-suite");
    assert_eq!(json["warnings"], serde_json::json!([]));
    assert_eq!(reg["baseline"]["seeds"], serde_json::json!([0, 1]));
    assert_eq!(json["tolerances"]["auroc"]["source"], "cli");
}
