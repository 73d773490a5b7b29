//! The commands without a full run: validate, list, report, and run on bad
//! input; exit code 2 with the file named.

use std::path::Path;

use predicates::str::contains;

use super::{fixture, lossbench, walk};

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

/// A nested error prints its message, then each cause once on its own
/// line; the exit code follows what failed: an input lossbench cannot read
/// is bad input (2), a directory it cannot create is its own failure (3).
#[test]
fn a_nested_error_prints_each_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let manifest = run.join("manifest.json");
    // Not UTF-8, so reading it fails whatever the permissions (tests may
    // run as root).
    std::fs::write(&manifest, b"\xff\xfe{").unwrap();
    lossbench()
        .arg("report")
        .arg(&run)
        .assert()
        .code(2)
        .stderr(format!(
            "error: cannot read '{}'\n  caused by: stream did not contain valid UTF-8\n",
            manifest.display()
        ));

    // The committed CI baseline reads as a run; its report cannot go under
    // a file.
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/baselines/ci");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = file.join("report");
    let assert = lossbench()
        .arg("report")
        .arg(&baseline)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert_eq!(
        lines[0],
        format!("error: cannot create directory '{}'", out.display())
    );
    assert!(lines[1].starts_with("  caused by: "), "{stderr}");
    let cause = &lines[1]["  caused by: ".len()..];
    assert_eq!(stderr.matches(cause).count(), 1, "{stderr}");
}

#[test]
fn schema_prints_the_suite_schema_as_json() {
    let out = lossbench().arg("schema").assert().success();
    let printed: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(printed, lossbench::suite::schema());
    assert_eq!(
        printed["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
}

#[test]
fn list_names_every_component_and_help_only_implemented_commands() {
    let out = lossbench().arg("list").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for name in [
        "fashion-mnist",
        "kmnist",
        "svhn",
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
    // The command list, exactly: every command it names is implemented
    // (each is exercised by a test of this crate), and nothing else.
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("Options:").next())
        .expect("a Commands: section")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "run", "merge", "status", "slurm", "validate", "data", "list", "schema", "report",
            "compare", "help"
        ],
        "{help}"
    );
    // Each subcommand's own help works.
    for cmd in &commands[..commands.len() - 1] {
        lossbench().args([cmd, "--help"]).assert().success();
    }
}

#[test]
fn validate_and_run_flag_an_lsoftmax_margin_that_never_comes_into_force() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = |name: &str, loss: &str| {
        let path = tmp.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "name: {name}\ndata:\n  dataset: synthetic\n  synthetic: {{train: 256, test: 16, side: 8}}\n\
                 model: mlp\ntrain: {{epochs: 2, batch-size: 32}}\nlosses: [{loss}]\nseeds: [0]\n"
            ),
        )
        .unwrap();
        path
    };
    let absolute = suite("absolute", "{lsoftmax: {m: 2}}");
    lossbench()
        .arg("validate")
        .arg(&absolute)
        .assert()
        .success()
        .stdout(contains("ok:"))
        .stderr(contains("warning:"))
        .stderr(contains(
            "losses[0] (lsoftmax): the margin never comes into force",
        ))
        .stderr(contains("step 8728"));
    let relative = suite("relative", "{lsoftmax: {m: 2, margin-at: 0.5}}");
    lossbench()
        .arg("validate")
        .arg(&relative)
        .assert()
        .success()
        .stderr(predicates::str::is_empty());
    // `run` says it before training, from the loaded split (256 samples at
    // batch 32, 2 epochs: 16 steps).
    lossbench()
        .args(["run", "--device", "cpu", "--results"])
        .arg(tmp.path().join("r"))
        .arg("--reports")
        .arg(tmp.path().join("p"))
        .arg(&absolute)
        .assert()
        .success()
        .stderr(contains("warning: losses[0] (lsoftmax)"))
        .stderr(contains("the run has 16 optimiser steps"));
}
