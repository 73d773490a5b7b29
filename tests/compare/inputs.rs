//! What compare must tell about its inputs whatever the numbers: a run
//! that did not finish, values that are not finite; and values it must not
//! pass on as markup.

use std::collections::BTreeMap;

use lossbench::compare::{self, Input, Options};

use super::row;

/// A run directory holding `metrics.csv` (one softmax clean_acc row per
/// value) and a manifest whose status is `status`.
fn run_dir(status: &str, values: &[f64]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut csv =
        String::from("job_id,dataset,model,loss,seed,attack,detector,subset,metric,value\n");
    for (seed, v) in values.iter().enumerate() {
        csv.push_str(&format!(
            "j{seed},synthetic,mlp,softmax,{seed},none,none,clean,clean_acc,{v}\n"
        ));
    }
    std::fs::write(dir.path().join("metrics.csv"), csv).unwrap();
    let manifest = serde_json::json!({
        "suite_name": "s", "run_id": "r", "status": status,
        "suite": {"regression": {"tolerances": {"clean_acc": 0.01}}}
    });
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).unwrap();
    dir
}

fn warnings(b: &Input, c: &Input) -> Vec<String> {
    compare::compare(b, c, &Options::default())
        .unwrap()
        .warnings
}

#[test]
fn a_side_whose_run_did_not_finish_is_a_warning() {
    let done = run_dir("done", &[0.9]);
    let done = Input::load(done.path()).unwrap();
    assert!(warnings(&done, &done).is_empty());
    for status in ["failed", "interrupted"] {
        let dir = run_dir(status, &[0.9]);
        let side = Input::load(dir.path()).unwrap();
        let w = warnings(&side, &done);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains(&format!("the baseline run's manifest says `{status}`")),
            "{w:?}"
        );
        let w = warnings(&done, &side);
        assert!(w[0].contains("the candidate run's manifest says"), "{w:?}");
        let md = compare::markdown(&compare::compare(&done, &side, &Options::default()).unwrap());
        assert!(
            md.starts_with("## lossbench compare: PASS (with warnings)"),
            "{md}"
        );
    }
    // A manifest left `running` by a process that is gone reads as
    // interrupted.
    let dir = run_dir("running", &[0.9]);
    let w = warnings(&Input::load(dir.path()).unwrap(), &done);
    assert!(w[0].contains("says `interrupted`"), "{w:?}");
}

#[test]
fn values_that_are_not_finite_are_a_warning() {
    let side = |v: f64| {
        Input::from_rows(
            "s",
            vec![row("softmax", 0, "none", "none", "clean", "clean_acc", v)],
            [("clean_acc".to_owned(), 0.01)].into_iter().collect(),
        )
    };
    assert!(warnings(&side(0.9), &side(0.9)).is_empty());
    // (A NaN baseline also leaves the row ungated: that warning comes too.)
    let w = warnings(&side(f64::NAN), &side(0.9));
    assert!(
        w.iter()
            .any(|w| w.contains("1 baseline value(s) are not finite")),
        "{w:?}"
    );
    let w = warnings(&side(0.9), &side(f64::INFINITY));
    assert!(
        w.iter()
            .any(|w| w.contains("1 candidate value(s) are not finite")),
        "{w:?}"
    );
}

#[test]
fn values_from_files_are_never_markup_in_the_markdown() {
    let evil = "<img src=x onerror=alert(1)>";
    let side = Input::from_rows(
        "<script>alert(2)</script>",
        vec![row(
            evil,
            0,
            "<b>fgsm</b>",
            "none",
            "clean",
            "clean_acc",
            0.9,
        )],
        BTreeMap::new(),
    );
    let md = compare::markdown(&compare::compare(&side, &side, &Options::default()).unwrap());
    for raw in ["<img", "<b>"] {
        assert!(!md.contains(raw), "{raw} in:\n{md}");
    }
    // The label is shown as code, where renderers never read markup.
    assert_eq!(
        md.matches("<script").count(),
        md.matches("`<script>alert(2)</script>`").count(),
        "{md}"
    );
    assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"), "{md}");
}

#[test]
fn a_bad_metrics_file_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.csv");
    std::fs::write(&file, "a,b\n1,2\n").unwrap();
    let shown = Input::load(&file).unwrap_err().to_string();
    assert_eq!(shown.matches("m.csv").count(), 1, "{shown}");
    assert!(shown.contains("missing column 'seed'"), "{shown}");
}
