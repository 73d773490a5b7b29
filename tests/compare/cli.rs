//! `lossbench compare`, the real binary: exit codes and outputs on the
//! committed CI baseline and on worsened, truncated, bare and malformed
//! candidates.

use std::path::{Path, PathBuf};

use lossbench::suite::Suite;
use predicates::prelude::*;
use predicates::str::contains;

use super::{baseline_dir, junit, lossbench, root};

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
    // The rest of the suite too (data, model, training, losses, attacks,
    // detectors): a baseline of another suite would gate nothing real.
    let differ = lossbench::compare::suite_differences(
        &manifest["suite"],
        &serde_json::to_value(&suite).unwrap(),
    );
    assert!(
        differ.is_empty(),
        "suites/ci.yaml differs from the baseline's suite in {differ:?}: refresh \
         results/baselines/ci (see its README)"
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
        .stdout(contains("lossbench compare: PASS\n"))
        .stdout(contains("the runs differ in").not())
        .stderr("");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(v["counts"]["regression"], 0);
    assert!(v["counts"]["ok"].as_u64().unwrap() >= 8, "{}", v["counts"]);
}

#[test]
fn a_worsened_candidate_exits_1_and_every_output_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let cand = edited_candidate(tmp.path(), lgm_clean_acc_dropped);
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
    junit::check_junit(&xml);
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
    // Each way round, one side is a bare file: the other side's manifest
    // gives the tolerances, and the counts are those of the baseline against
    // itself.
    let run = |baseline: &Path, candidate: &Path| -> (serde_json::Value, String) {
        let json = tmp.path().join("compare.json");
        let out = lossbench()
            .arg("compare")
            .arg(baseline)
            .arg(candidate)
            .arg("--json")
            .arg(&json)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
        (v["counts"].clone(), String::from_utf8(out).unwrap())
    };
    let (reference, _) = run(&baseline_dir(), &baseline_dir());
    assert!(reference["ok"].as_u64().unwrap() >= 8, "{reference}");
    let (counts, stdout) = run(&baseline_dir(), &parquet);
    assert_eq!(counts, reference);
    assert!(
        stdout.contains("the baseline suite's tolerances apply")
            && stdout.contains("(tolerance, baseline suite)"),
        "{stdout}"
    );
    let (counts, stdout) = run(&parquet, &baseline_dir());
    assert_eq!(counts, reference);
    assert!(stdout.contains("(tolerance, candidate suite)"), "{stdout}");
}

/// The baseline's metrics with every lgm clean accuracy 0.1 lower.
fn lgm_clean_acc_dropped(line: &str) -> Option<String> {
    Some(if line.contains(",lgm,") && line.contains(",clean_acc,") {
        with_value(line, |v| v - 0.1)
    } else {
        line.to_owned()
    })
}

#[test]
fn a_bare_candidate_file_is_gated_by_the_baseline_suite() {
    let tmp = tempfile::tempdir().unwrap();
    let cand = edited_candidate(tmp.path(), lgm_clean_acc_dropped);
    std::fs::remove_file(cand.join("manifest.json")).unwrap();
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(cand.join("metrics.csv"))
        .assert()
        .code(1)
        .stdout(contains("### Regressions (1)"))
        .stdout(contains("| 0.0200 (tolerance, baseline suite) |"));
}

#[test]
fn two_bare_files_gate_nothing_pass_and_warn_on_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let cand = edited_candidate(tmp.path(), lgm_clean_acc_dropped);
    std::fs::remove_file(cand.join("manifest.json")).unwrap();
    let base = tmp.path().join("base.csv");
    std::fs::copy(baseline_dir().join("metrics.csv"), &base).unwrap();
    let warning = "warning: no metric was gated: no tolerance from --tolerance, either \
                   manifest, or --default-tolerance";
    lossbench()
        .arg("compare")
        .arg(&base)
        .arg(&cand)
        .assert()
        .code(0)
        .stdout(contains("## lossbench compare: PASS (with warnings)"))
        .stdout(contains("no manifest.json beside either side's metrics"))
        .stderr(contains(warning));
    lossbench()
        .arg("compare")
        .arg(&base)
        .arg(&cand)
        .arg("--quiet")
        .assert()
        .code(0)
        .stdout("")
        .stderr(contains(warning));
    lossbench()
        .arg("compare")
        .arg(&base)
        .arg(&cand)
        .args(["--default-tolerance", "0.02"])
        .assert()
        .code(1)
        .stderr(contains("warning").not());
}

#[test]
fn differing_suites_are_noted_by_section() {
    let tmp = tempfile::tempdir().unwrap();
    let cand = edited_candidate(tmp.path(), |l| Some(l.to_owned()));
    let path = cand.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let suite = &mut manifest["suite"];
    suite["train"]["epochs"] = serde_json::json!(4);
    suite["attacks"] = serde_json::json!([{"fgsm": {"eps": [0.2]}}]);
    suite["seeds"] = serde_json::json!([0, 1, 2]);
    suite["description"] = serde_json::json!("edited");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    lossbench()
        .arg("compare")
        .arg(baseline_dir())
        .arg(&cand)
        .assert()
        .code(0)
        .stdout(contains("- the runs differ in: train, attacks ("));
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
