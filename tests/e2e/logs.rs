//! Logs: `RUST_LOG` turns on the run's events on stderr (job boundaries
//! with the job's id, loss and seed, checkpoints, table commits); without it
//! nothing is logged; `LOSSBENCH_LOG` still works as the older name.

use std::path::Path;

use super::{csv_rows, lossbench, run_dir};

/// One loss, one seed, one epoch, one attack, one detector: the smallest
/// suite that trains, saves a checkpoint, attacks and commits.
const SUITE: &str = "name: logs
data:
  dataset: synthetic
  synthetic: {seed: 1, classes: 2, train: 64, test: 32, side: 8}
model: mlp
train: {epochs: 1, batch-size: 32}
losses: [softmax]
seeds: [0]
attacks:
  - fgsm: {eps: [EPS]}
detectors: [max-softmax]
";

/// Runs the suite (with `eps`) into `dir/results` with the log variable
/// `log` set to `info` (and the other one unset), or neither; returns
/// (stdout, stderr).
fn run(dir: &Path, eps: &str, log: Option<&str>) -> (String, String) {
    let suite = dir.join(format!("logs-{eps}.yaml"));
    std::fs::write(&suite, SUITE.replace("EPS", eps)).unwrap();
    let mut cmd = lossbench();
    cmd.env_remove("RUST_LOG").env_remove("LOSSBENCH_LOG");
    if let Some(var) = log {
        cmd.env(var, "info");
    }
    let out = cmd
        .args(["run", "--device", "cpu", "--results"])
        .arg(dir.join("results"))
        .arg("--reports")
        .arg(dir.join("reports"))
        .arg(&suite)
        .assert()
        .success();
    let out = out.get_output();
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    (text(&out.stdout), text(&out.stderr))
}

/// The stderr line holding `event`; panics naming the whole stderr if none.
fn line<'a>(stderr: &'a str, event: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains(event))
        .unwrap_or_else(|| panic!("no {event:?} line on stderr:\n{stderr}"))
}

#[test]
fn rust_log_shows_job_boundaries_on_stderr_and_nothing_is_logged_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (logged, quiet) = (tmp.path().join("logged"), tmp.path().join("quiet"));
    std::fs::create_dir_all(&logged).unwrap();
    std::fs::create_dir_all(&quiet).unwrap();

    let (stdout, stderr) = run(&logged, "0.1", Some("RUST_LOG"));
    let jobs = csv_rows(&run_dir(&logged.join("results"), "logs"), "jobs");
    let job_id = &jobs[0][0];
    for event in ["job started", "job done"] {
        let l = line(&stderr, event);
        assert!(
            l.contains("INFO")
                && l.contains(&format!("id={job_id}"))
                && l.contains("loss=softmax")
                && l.contains("seed=0"),
            "{l}"
        );
    }
    assert!(line(&stderr, "job done").contains("seconds="));
    assert!(line(&stderr, "checkpoint saved").contains("checkpoints/"));
    assert!(line(&stderr, "tables committed").contains("rows="));
    assert!(line(&stderr, "attack done").contains("fgsm(eps=0.1)"));
    // Logs never go to stdout, which stays the run's own output.
    assert!(!stdout.contains("job started"), "{stdout}");

    let (stdout, stderr) = run(&quiet, "0.1", None);
    assert!(stdout.contains("clean accuracy"), "{stdout}");
    assert!(
        !stderr.contains("job started") && !stderr.contains("INFO"),
        "logged without RUST_LOG:\n{stderr}"
    );

    // The older name still works; another attack reuses the trained model.
    let (_, stderr) = run(&logged, "0.2", Some("LOSSBENCH_LOG"));
    line(&stderr, "job started");
    assert!(line(&stderr, "checkpoint loaded").contains("checkpoints/"));
}
