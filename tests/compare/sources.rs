//! Where each tolerance comes from (--tolerance, the candidate suite, the
//! baseline suite), the warning when nothing is gated, and the note naming
//! the suite sections in which the two runs differ.

use lossbench::compare::{self, Input, Options, Status, ToleranceSource};
use serde_json::json;

use super::{fixture, junit, status_of};

fn gate_source(c: &compare::Comparison, loss: &str, det: &str, metric: &str) -> ToleranceSource {
    let r = c
        .rows
        .iter()
        .find(|r| r.key.loss == loss && r.key.detector == det && r.key.metric == metric)
        .unwrap();
    r.gate.unwrap_or_else(|| panic!("{r:?} not gated")).source
}

#[test]
fn tolerances_fall_back_to_the_baseline_suite_and_say_so() {
    let (mut b, mut c) = fixture();
    b.tolerances = [("clean_acc", 0.05), ("fpr_at_95tpr", 0.0)]
        .map(|(m, t)| (m.to_owned(), t))
        .into();
    // A bare candidate metrics file: no manifest, no suite tolerances.
    c.tolerances.clear();
    let cmp = compare::compare(&b, &c, &Options::default()).unwrap();
    // lgm's clean_acc drops 0.1 > 0.05; softmax's 0.015 does not.
    assert_eq!(
        status_of(&cmp, "lgm", "none", "clean_acc"),
        Status::Regression
    );
    assert_eq!(status_of(&cmp, "softmax", "none", "clean_acc"), Status::Ok);
    assert_eq!(
        gate_source(&cmp, "lgm", "none", "clean_acc"),
        ToleranceSource::BaselineSuite
    );
    assert_eq!(
        cmp.tolerances["clean_acc"].source,
        ToleranceSource::BaselineSuite
    );
    assert!(
        cmp.notes
            .iter()
            .any(|n| n.contains("no manifest.json beside the candidate's metrics: the baseline suite's tolerances apply")),
        "{:?}",
        cmp.notes
    );
    assert!(compare::markdown(&cmp).contains("0.0500 (tolerance, baseline suite)"));
    let json: serde_json::Value = serde_json::from_str(&compare::json(&cmp)).unwrap();
    assert_eq!(json["tolerances"]["clean_acc"]["source"], "baseline-suite");

    // The candidate's suite wins metric by metric; the baseline's fills in.
    c.tolerances = [("clean_acc".to_owned(), 0.2)].into();
    let cmp = compare::compare(&b, &c, &Options::default()).unwrap();
    assert_eq!(status_of(&cmp, "lgm", "none", "clean_acc"), Status::Ok);
    assert_eq!(
        gate_source(&cmp, "lgm", "none", "clean_acc"),
        ToleranceSource::CandidateSuite
    );
    assert_eq!(
        gate_source(&cmp, "lgm", "max-softmax", "fpr_at_95tpr"),
        ToleranceSource::BaselineSuite
    );
    // And --tolerance wins over both.
    let opts = Options {
        tolerances: [("clean_acc".to_owned(), 0.01)].into(),
        ..Options::default()
    };
    let cmp = compare::compare(&b, &c, &opts).unwrap();
    assert_eq!(
        status_of(&cmp, "softmax", "none", "clean_acc"),
        Status::Regression
    );
    assert_eq!(
        gate_source(&cmp, "softmax", "none", "clean_acc"),
        ToleranceSource::Cli
    );
}

#[test]
fn nothing_gated_passes_with_a_warning_in_every_output() {
    let (mut b, mut c) = fixture();
    b.tolerances.clear();
    c.tolerances.clear();
    let opts = Options {
        allow_missing: true,
        ..Options::default()
    };
    let cmp = compare::compare(&b, &c, &opts).unwrap();
    assert_eq!(cmp.counts().gated(), 0);
    assert_eq!(cmp.exit_code(), 0);
    assert_eq!(cmp.warnings.len(), 1);
    assert!(
        cmp.warnings[0].starts_with(
            "no metric was gated: no tolerance from --tolerance, either manifest, or \
             --default-tolerance"
        ),
        "{:?}",
        cmp.warnings
    );
    let md = compare::markdown(&cmp);
    assert!(
        md.starts_with(
            "## lossbench compare: PASS (with warnings)\n\n> **Warning:** no metric was gated"
        ),
        "{md}"
    );
    let report = junit::check_junit(&compare::junit(&cmp));
    let props = &report.children[0].children[0];
    assert_eq!(props.name, "properties");
    assert!(props
        .children
        .iter()
        .any(|p| p.attr("name") == Some("warning") && p.attr("value") == Some(&cmp.warnings[0])));
    let json: serde_json::Value = serde_json::from_str(&compare::json(&cmp)).unwrap();
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["warnings"][0], cmp.warnings[0].as_str());

    // A missing row still fails; the warning stays.
    let cmp = compare::compare(&b, &c, &Options::default()).unwrap();
    assert_eq!(cmp.exit_code(), 1);
    assert!(compare::markdown(&cmp).starts_with("## lossbench compare: FAIL\n\n> **Warning:**"));

    // A tolerance that reaches only rows on one side gates nothing either.
    let opts = Options {
        tolerances: [("aupr".to_owned(), 0.1)].into(),
        allow_missing: true,
        ..Options::default()
    };
    let cmp = compare::compare(&b, &c, &opts).unwrap();
    assert!(
        cmp.warnings[0].contains("no metric in both inputs has a tolerance that applies"),
        "{:?}",
        cmp.warnings
    );

    // --default-tolerance gates the directional metrics: no warning.
    let opts = Options {
        default_tolerance: Some(0.1),
        allow_missing: true,
        ..Options::default()
    };
    let cmp = compare::compare(&b, &c, &opts).unwrap();
    assert!(cmp.counts().gated() > 0 && cmp.warnings.is_empty());
    assert!(compare::markdown(&cmp).starts_with("## lossbench compare: PASS\n"));
}

#[test]
fn differing_suites_are_noted_by_section() {
    let (mut b, mut c) = fixture();
    let suite = json!({
        "name": "ci", "description": "gate", "seeds": [0, 1],
        "regression": {"tolerances": {"clean_acc": 0.02}},
        "data": {"dataset": "synthetic", "synthetic": {"classes": 4}},
        "model": {"kind": "small-cnn"}, "train": {"epochs": 3},
        "losses": ["softmax", "lgm"], "attacks": [{"fgsm": {"eps": [0.1]}}],
        "detectors": ["max-softmax"],
    });
    b.suite = Some(suite.clone());
    c.suite = Some(suite.clone());
    let differ = |b: &Input, c: &Input| -> Vec<String> {
        let cmp = compare::compare(b, c, &Options::default()).unwrap();
        cmp.notes
            .into_iter()
            .filter(|n| n.starts_with("the runs differ in"))
            .collect()
    };
    assert!(differ(&b, &c).is_empty());
    let mut other = suite.clone();
    other["seeds"] = json!([7]);
    other["description"] = json!("changed");
    other["attacks"][0]["fgsm"]["eps"] = json!([0.2]);
    other["train"]["epochs"] = json!(5);
    c.suite = Some(other);
    let notes = differ(&b, &c);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("the runs differ in: train, attacks ("),
        "{notes:?}"
    );
    // One side without a manifest: nothing to compare.
    b.suite = None;
    assert!(differ(&b, &c).is_empty());
}

/// A run directory's rows count only for jobs its `jobs` table lists as
/// done (the store's commit rule): a write killed before `jobs.parquet`
/// leaves metric rows that compare must not read.
#[test]
fn a_run_directory_counts_only_its_committed_jobs() {
    use lossbench::results::{JobRow, MetricRow, RunStore, RunTables};
    let job = |id: &str, loss: &str| JobRow {
        job_id: id.into(),
        dataset: "synthetic".into(),
        model: "mlp".into(),
        loss: loss.into(),
        seed: 0,
        device: "cpu".into(),
        status: lossbench::results::JobStatus::Done,
        error: String::new(),
        notes: String::new(),
        n_train: 8,
        n_test: 4,
        train_seconds: 1.0,
        eval_seconds: 1.0,
        config: "{}".into(),
        row_counts: String::new(),
    };
    let metric = |id: &str, loss: &str, value: f64| MetricRow {
        job_id: id.into(),
        dataset: "synthetic".into(),
        model: "mlp".into(),
        loss: loss.into(),
        seed: 0,
        attack: "none".into(),
        detector: "none".into(),
        subset: "clean".into(),
        metric: "clean_acc".into(),
        value,
    };
    let record = |dir: &std::path::Path, id: &str, loss: &str, value: f64| {
        RunStore::open(dir)
            .unwrap()
            .record(RunTables {
                jobs: vec![job(id, loss)],
                metrics: vec![metric(id, loss, value)],
                ..RunTables::default()
            })
            .unwrap();
    };
    let run = tempfile::tempdir().unwrap();
    record(run.path(), "a", "softmax", 0.9);
    record(run.path(), "b", "lgm", 0.8);
    // As if b's write was killed before its commit point: the jobs table
    // is the one written with a alone.
    let alone = tempfile::tempdir().unwrap();
    record(alone.path(), "a", "softmax", 0.9);
    std::fs::copy(
        alone.path().join("jobs.parquet"),
        run.path().join("jobs.parquet"),
    )
    .unwrap();

    let side = Input::load(run.path()).unwrap();
    let jobs: Vec<&str> = side.rows.iter().map(|r| r.job_id.as_str()).collect();
    assert_eq!(jobs, ["a"]);
    // The same file read alone (not as a run directory's) keeps every row.
    let csv = tempfile::tempdir().unwrap();
    let bare = csv.path().join("m.csv");
    std::fs::copy(run.path().join("metrics.csv"), &bare).unwrap();
    assert_eq!(Input::load(&bare).unwrap().rows.len(), 2);
}
