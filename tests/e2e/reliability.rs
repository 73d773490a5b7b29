//! Nothing lost, nothing escapes: two runs of one suite into one run
//! directory at once, a resume that finds rows missing, a corrupted
//! checkpoint, Ctrl-C and SIGKILL, a report directory that cannot be
//! written, and output paths taken from files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use predicates::prelude::*;
use predicates::str::contains;

use super::{csv_rows, lossbench, run_dir, walk};

/// Four quick jobs: enough for two processes to share them.
const SUITE: &str = "name: together
data:
  dataset: synthetic
  synthetic: {seed: 2, classes: 4, train: 256, test: 64, side: 8}
model:
  mlp: {feature-dim: 8}
train: {epochs: 2, batch-size: 32, optimizer: adam, lr: 0.003}
losses: [softmax, center, lsoftmax, lgm]
seeds: [0]
attacks:
  - fgsm: {eps: [0.2]}
detectors: [max-softmax]
";

/// A `lossbench run` of `suite` into `tmp/results` (reports into
/// `tmp/reports`), as a process to start.
fn run_process(tmp: &Path, suite: &Path) -> Process {
    // As assert_cmd does, a binary named at run time wins (to run these
    // tests against another build).
    let bin = std::env::var("CARGO_BIN_EXE_lossbench")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_lossbench").to_owned());
    let mut c = Process::new(bin);
    c.args(["run", "--device", "cpu", "--results"])
        .arg(tmp.join("results"))
        .arg("--reports")
        .arg(tmp.join("reports"))
        .arg(suite)
        .env("LOSSBENCH_DATA", "/nonexistent-lossbench-data");
    c
}

/// `lossbench run` of `suite` into `tmp/results` and `tmp/reports`, through
/// assert_cmd.
fn run_command(tmp: &Path, suite: &Path) -> assert_cmd::Command {
    let mut cmd = lossbench();
    cmd.args(["run", "--device", "cpu", "--results"])
        .arg(tmp.join("results"))
        .arg("--reports")
        .arg(tmp.join("reports"))
        .arg(suite);
    cmd
}

fn write_suite(tmp: &Path, text: &str) -> PathBuf {
    let suite = tmp.join("suite.yaml");
    std::fs::write(&suite, text).unwrap();
    suite
}

/// Each job's metric rows, by job id, from the run's CSV.
fn metric_rows_by_job(run: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut by_job = std::collections::BTreeMap::new();
    for row in csv_rows(run, "metrics") {
        *by_job.entry(row[0].clone()).or_default() += 1;
    }
    by_job
}

#[test]
fn two_runs_at_once_share_the_jobs_and_both_finish_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), SUITE);
    let a = run_process(tmp.path(), &suite)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = run_process(tmp.path(), &suite)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(a.status.success(), "first run: {}", text(&a));
    assert!(b.status.success(), "second run: {}", text(&b));
    // Each job was trained and evaluated by exactly one of the two.
    let computed = [&a, &b]
        .iter()
        .map(|o| text(o).matches(": clean accuracy").count())
        .sum::<usize>();
    assert_eq!(computed, 4, "{}\n---\n{}", text(&a), text(&b));

    let run = run_dir(&tmp.path().join("results"), "together");
    let jobs = csv_rows(&run, "jobs");
    assert_eq!(jobs.len(), 4, "{jobs:?}");
    assert!(jobs.iter().all(|j| j[6] == "done"), "{jobs:?}");
    let rows = metric_rows_by_job(&run);
    assert_eq!(rows.len(), 4, "{rows:?}");
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"done\""), "{manifest}");
    assert!(manifest.contains("\"jobs_done\": 4"), "{manifest}");
    // No temp file of either writer is left behind.
    let temps: Vec<_> = walk(&run)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[test]
fn a_resume_recomputes_the_jobs_whose_rows_are_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), &SUITE.replace("lsoftmax, lgm", "lgm"));
    let run = || run_command(tmp.path(), &suite).assert().success();
    run();
    let dir = run_dir(&tmp.path().join("results"), "together");
    let before = metric_rows_by_job(&dir);
    assert_eq!(before.len(), 3);
    for f in ["metrics.parquet", "metrics.csv"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    // The jobs table still lists all three as done: the rerun must not
    // trust it.
    let out = run();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("recorded as done, but metrics has 0 of its"),
        "{stderr}"
    );
    assert_eq!(stdout.matches(": clean accuracy").count(), 3, "{stdout}");
    // Trained models are reused: only evaluation ran again.
    assert_eq!(stdout.matches("loaded checkpoint").count(), 3, "{stdout}");
    assert_eq!(metric_rows_by_job(&dir), before);
}

#[test]
fn a_corrupted_checkpoint_is_set_aside_and_the_job_trains_again() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), &SUITE.replace("center, lsoftmax, lgm", "lgm"));
    let run = || run_command(tmp.path(), &suite).assert();
    run().success();
    let results = tmp.path().join("results");
    std::fs::remove_dir_all(run_dir(&results, "together")).unwrap();
    let ckpts: Vec<PathBuf> = walk(&results.join("together/checkpoints"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ot"))
        .collect();
    assert_eq!(ckpts.len(), 2, "{ckpts:?}");
    // Truncated, as a full disk or a killed copy leaves it.
    let bytes = std::fs::read(&ckpts[0]).unwrap();
    std::fs::write(&ckpts[0], &bytes[..bytes.len() / 3]).unwrap();

    let out = run().success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains(&*ckpts[0].to_string_lossy()), "{stderr}");
    assert!(stderr.contains("checkpoint does not load"), "{stderr}");
    assert!(!stderr.contains("frame #"), "no C++ stack: {stderr}");
    let aside = PathBuf::from(format!("{}.corrupt", ckpts[0].display()));
    assert!(aside.is_file(), "{:?}", walk(&results));
    assert!(ckpts[0].is_file(), "trained again and saved");
    let jobs = csv_rows(&run_dir(&results, "together"), "jobs");
    assert!(jobs.iter().all(|j| j[6] == "done"), "{jobs:?}");
}

/// Starts the suite, waits until training is under way, sends `signal`.
fn interrupt_during_training(tmp: &Path, signal: &str) -> std::process::ExitStatus {
    let slow = SUITE
        .replace("train: 256", "train: 20000")
        .replace("epochs: 2", "epochs: 50");
    let suite = write_suite(tmp, &slow);
    let mut child = run_process(tmp, &suite)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("data:") {
            break;
        }
    }
    // Past loading: the first job trains for many seconds.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = Process::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    lines.for_each(drop);
    child.wait().unwrap()
}

#[test]
fn ctrl_c_marks_the_run_interrupted_and_a_kill_reads_as_interrupted() {
    let tmp = tempfile::tempdir().unwrap();
    let status = interrupt_during_training(tmp.path(), "-INT");
    assert_eq!(status.code(), Some(130), "{status:?}");
    let run = run_dir(&tmp.path().join("results"), "together");
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"status\": \"interrupted\""),
        "{manifest}"
    );

    // SIGKILL leaves no chance to write: the manifest still says running,
    // and readers see that no process writes the run any more.
    let tmp = tempfile::tempdir().unwrap();
    let status = interrupt_during_training(tmp.path(), "-KILL");
    assert_eq!(status.code(), None);
    let run = run_dir(&tmp.path().join("results"), "together");
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"running\""), "{manifest}");
    let out = tmp.path().join("report");
    lossbench()
        .arg("report")
        .arg(&run)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| status | interrupted"), "{md}");
}

#[test]
fn a_report_directory_that_cannot_be_written_stops_the_run_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), SUITE);
    let blocker = tmp.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let reports = blocker.join("reports");
    lossbench()
        .args(["run", "--device", "cpu", "--results"])
        .arg(tmp.path().join("results"))
        .arg("--reports")
        .arg(&reports)
        .arg(&suite)
        .assert()
        .code(3)
        .stdout(contains("clean accuracy").not())
        .stderr(contains("cannot write into the report directory"))
        .stderr(contains(reports.display().to_string()));
}

#[test]
fn report_never_builds_its_path_from_manifest_names() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), &SUITE.replace("center, lsoftmax, lgm", "lgm"));
    run_command(tmp.path(), &suite).assert().success();
    let run = run_dir(&tmp.path().join("results"), "together");
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    let reports = tmp.path().join("inside/reports");
    for (field, value) in [
        ("suite_name", "../../escaped"),
        ("suite_name", "/tmp/lossbench-escaped"),
        ("run_id", "../../../escaped"),
    ] {
        let mut json: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        json[field] = value.into();
        std::fs::write(run.join("manifest.json"), json.to_string()).unwrap();
        lossbench()
            .arg("report")
            .arg(&run)
            .arg("--reports")
            .arg(&reports)
            .assert()
            .code(2)
            .stderr(contains(field))
            .stderr(contains("--out"));
    }
    assert!(!tmp.path().join("escaped").exists());
    assert!(!Path::new("/tmp/lossbench-escaped").exists());
    assert!(walk(&tmp.path().join("inside")).is_empty());
}

#[test]
fn compare_never_writes_over_what_it_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), &SUITE.replace("center, lsoftmax, lgm", "lgm"));
    run_command(tmp.path(), &suite).assert().success();
    let run = run_dir(&tmp.path().join("results"), "together");
    let metrics = std::fs::read(run.join("metrics.csv")).unwrap();
    let elsewhere = tmp.path().join("out.json");
    for (option, path, why) in [
        (
            "--json",
            run.join("metrics.csv"),
            "inside the baseline's run directory",
        ),
        (
            "--markdown",
            run.join("manifest.json"),
            "a file the comparison reads",
        ),
        ("--junit", run.join("new.xml"), "run directory"),
    ] {
        lossbench()
            .arg("compare")
            .arg(&run)
            .arg(run.join("metrics.csv"))
            .arg(option)
            .arg(&path)
            .assert()
            .code(2)
            .stderr(contains(option))
            .stderr(contains(why));
    }
    // Two outputs into one file.
    lossbench()
        .arg("compare")
        .arg(&run)
        .arg(&run)
        .arg("--json")
        .arg(&elsewhere)
        .arg("--junit")
        .arg(&elsewhere)
        .assert()
        .code(2)
        .stderr(contains("--json writes there too"));
    assert_eq!(std::fs::read(run.join("metrics.csv")).unwrap(), metrics);
    assert!(!run.join("new.xml").exists() && !elsewhere.exists());
}

#[test]
fn a_libtorch_error_fails_its_job_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path(), &SUITE.replace("center, lsoftmax, lgm", "lgm"));
    let out = run_command(tmp.path(), &suite)
        .env("LOSSBENCH_INJECT_TORCH_ERROR", "softmax")
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    // The job's error is libtorch's message, once, without the C++ stack
    // or a panic banner.
    assert!(stderr.contains("softmax seed 0: FAILED"), "{stderr}");
    assert!(
        stderr.contains("shape '[5]' is invalid for input of size 6"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("frame #") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(stdout.contains("lgm seed 0: clean accuracy"), "{stdout}");
    let run = run_dir(&tmp.path().join("results"), "together");
    let jobs = csv_rows(&run, "jobs");
    let status = |loss: &str| jobs.iter().find(|j| j[3] == loss).unwrap()[6].clone();
    assert_eq!(status("softmax"), "failed");
    assert_eq!(status("lgm"), "done");
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"failed\""), "{manifest}");
    assert_eq!(metric_rows_by_job(&run).len(), 1);
    let report = std::fs::read_to_string(
        tmp.path()
            .join("reports/together")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("report.md"),
    )
    .unwrap();
    assert!(
        report.contains("is invalid for input of size 6"),
        "{report}"
    );
}
