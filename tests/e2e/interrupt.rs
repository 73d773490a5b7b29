//! An interrupted run keeps every finished job, and a rerun continues
//! from there: the binary is killed (SIGKILL, no chance to clean up) once
//! its first job has finished, then run again.

use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};

use super::{csv_rows, run_dir};

const SUITE: &str = "name: interrupt
data:
  dataset: synthetic
  synthetic: {seed: 3, classes: 4, train: 2048, test: 96, side: 12}
model:
  mlp: {feature-dim: 8}
train: {epochs: 2, batch-size: 32, optimizer: adam, lr: 0.003}
losses: [softmax, center, lgm]
seeds: [0]
attacks:
  - fgsm: {eps: [0.2]}
detectors: [max-softmax]
";

#[test]
fn a_killed_run_keeps_its_finished_jobs_and_a_rerun_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let suite = tmp.path().join("interrupt.yaml");
    std::fs::write(&suite, SUITE).unwrap();
    let command = || {
        let mut c = Process::new(env!("CARGO_BIN_EXE_lossbench"));
        c.args(["run", "--device", "cpu", "--results"])
            .arg(&results)
            .arg("--reports")
            .arg(tmp.path().join("reports"))
            .arg(&suite)
            .env("LOSSBENCH_DATA", "/nonexistent-lossbench-data");
        c
    };

    // First run: killed as soon as it reports its first finished job.
    let mut child = command()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let first_done = line.starts_with("[1/3]") && line.contains(": clean accuracy");
        seen.push(line);
        if first_done {
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert!(
        seen.iter().any(|l| l.starts_with("[1/3] softmax")),
        "the first job never finished: {seen:?}"
    );

    // What the killed run left: the first job, whole, and nothing after it
    // that the jobs table does not vouch for.
    // (Read as lossbench reads it: the jobs table is the commit point.)
    let dir = run_dir(&results, "interrupt");
    let tables = lossbench::results::RunTables::read(&dir).unwrap();
    let done: Vec<&str> = tables.jobs.iter().map(|r| r.job_id.as_str()).collect();
    assert!(!done.is_empty() && done.len() < 3, "{done:?}");
    assert_eq!(tables.jobs[0].loss, "softmax");
    assert!(tables
        .metrics
        .iter()
        .all(|r| done.contains(&r.job_id.as_str())));
    assert!(tables
        .metrics
        .iter()
        .any(|r| r.job_id == done[0] && r.metric == "clean_acc"));

    // Second run: reuses what was finished, runs the rest, ends complete.
    let out = command().output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("[1/3] softmax") && stdout.contains("reusing"),
        "{stdout}"
    );
    assert_eq!(
        run_dir(&results, "interrupt"),
        dir,
        "the rerun continues the same run"
    );
    let jobs = csv_rows(&dir, "jobs");
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    assert!(jobs.iter().all(|r| r[6] == "done"), "{jobs:?}");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"done\""), "{manifest}");
}
