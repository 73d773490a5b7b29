//! `lossbench slurm --submit` on a real Slurm: `suites/ci.yaml` as a 4-task
//! array and its merge job give the metrics of a single process, value for
//! value (timing aside); a task killed midway shows in `status`, and
//! resubmitting its index alone merges to the same result.
//!
//! The cluster is the one `sinfo` answers for; when none does, the tests
//! start one with `scripts/slurm-local.sh start` (root, Debian), as `make
//! test` does before them. `LOSSBENCH_SKIP_SLURM=1` skips them, on a
//! machine where that cannot work. They run one at a time (they share the
//! cluster's CPUs) and print their wall times (`--nocapture`).

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::shards::metrics_without_timing;
use super::{lossbench, run_dir};

/// One test at a time on the cluster.
static CLUSTER: Mutex<()> = Mutex::new(());

fn ci_suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/ci.yaml")
}

fn answers() -> bool {
    Process::new("sinfo")
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether a cluster answers, starting the local one if none does.
fn cluster() -> bool {
    if std::env::var("LOSSBENCH_SKIP_SLURM").is_ok_and(|v| v == "1") {
        eprintln!("LOSSBENCH_SKIP_SLURM=1: the Slurm tests are skipped");
        return false;
    }
    if answers() {
        return true;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm-local.sh");
    let out = Process::new(&script).arg("start").output().unwrap();
    assert!(
        out.status.success() && answers(),
        "no Slurm cluster answers and '{} start' could not start one (it needs root and \
         Debian's slurm-wlm and munge); set LOSSBENCH_SKIP_SLURM=1 to skip these tests:\n{}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// The metrics of `suites/ci.yaml` run by one process, and its wall time.
fn reference() -> &'static (std::collections::BTreeMap<String, u64>, f64) {
    static REF: OnceLock<(std::collections::BTreeMap<String, u64>, f64)> = OnceLock::new();
    REF.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let t = Instant::now();
        lossbench()
            .args(["run", "--device", "cpu", "--results"])
            .arg(tmp.path().join("results"))
            .arg("--reports")
            .arg(tmp.path().join("reports"))
            .arg(ci_suite())
            .assert()
            .success();
        let secs = t.elapsed().as_secs_f64();
        (
            metrics_without_timing(&run_dir(&tmp.path().join("results"), "ci")),
            secs,
        )
    })
}

/// `lossbench slurm suites/ci.yaml --shards 4 --submit` into `root`; the
/// array's and the merge's job ids.
fn submit(root: &Path, env: &[(&str, &str)]) -> (String, String) {
    let mut cmd = lossbench();
    cmd.args([
        "slurm",
        "--shards",
        "4",
        "--submit",
        "--device",
        "cpu",
        "--results",
    ])
    .arg(root.join("results"))
    .arg("--reports")
    .arg(root.join("reports"))
    .arg(ci_suite());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("submitted array job "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[3].to_owned(), words[7].to_owned())
}

/// Waits until Slurm's queue no longer holds job `id` (every task of an
/// array).
fn wait_gone(id: &str, limit: Duration) {
    let t = Instant::now();
    loop {
        let out = Process::new("squeue")
            .args(["-h", "-j", id, "-o", "%i %T"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // squeue fails on a job id it has forgotten: gone too.
        if !out.status.success() || text.trim().is_empty() {
            return;
        }
        assert!(t.elapsed() < limit, "job {id} still queued: {text}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn wait_for_file_line(path: &Path, needle: &str, limit: Duration) {
    let t = Instant::now();
    loop {
        if std::fs::read_to_string(path).is_ok_and(|s| s.contains(needle)) {
            return;
        }
        assert!(
            t.elapsed() < limit,
            "'{}' never said {needle:?}: {:?}",
            path.display(),
            std::fs::read_to_string(path)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const LIMIT: Duration = Duration::from_secs(900);

#[test]
fn a_four_task_array_and_its_merge_job_give_the_single_process_metrics() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !cluster() {
        return;
    }
    let (reference, single_secs) = reference();
    let tmp = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (array, merge) = submit(tmp.path(), &[]);
    wait_gone(&array, LIMIT);
    let array_secs = t.elapsed().as_secs_f64();
    wait_gone(&merge, LIMIT);
    let run = run_dir(&tmp.path().join("results"), "ci");
    let logs = run.join("slurm/logs");
    let merge_log = std::fs::read_to_string(logs.join(format!("merge-{merge}.out")))
        .unwrap_or_else(|e| panic!("the merge job left no log ({e}): {:?}", super::walk(&logs)));
    eprintln!("--- merge job's log ---\n{merge_log}---");
    assert!(
        merge_log.contains("4 done, 0 failed, 0 missing"),
        "{merge_log}"
    );
    assert!(merge_log.contains("status: done"), "{merge_log}");
    for i in 0..4 {
        let log = std::fs::read_to_string(logs.join(format!("run-{array}_{i}.out"))).unwrap();
        assert!(
            log.contains(&format!("(shard {i}/4: 1 of the run's 4)")),
            "task {i}: {log}"
        );
    }
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"done\""), "{manifest}");
    assert!(tmp
        .path()
        .join("reports/ci")
        .join(run.file_name().unwrap())
        .join("report.md")
        .is_file());
    assert_eq!(&metrics_without_timing(&run), reference);
    eprintln!(
        "suites/ci.yaml: one process {single_secs:.1} s; 4-task Slurm array (submit to last \
         task) {array_secs:.1} s, merge done after {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

#[test]
fn a_task_killed_midway_is_named_by_status_resubmitted_alone_and_merged() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !cluster() {
        return;
    }
    let (reference, _) = reference();
    let tmp = tempfile::tempdir().unwrap();
    let t = Instant::now();
    // The tasks log their job boundaries, so the test knows when task 1's
    // job is under way.
    let (array, merge) = submit(tmp.path(), &[("RUST_LOG", "lossbench=info")]);
    let run_parent = tmp.path().join("results/ci");
    let t_wait = Instant::now();
    let run = loop {
        if let Some(d) = std::fs::read_dir(&run_parent).ok().and_then(|d| {
            d.flatten()
                .map(|e| e.path())
                .find(|p| p.join("slurm/logs").is_dir())
        }) {
            break d;
        }
        assert!(t_wait.elapsed() < LIMIT);
        std::thread::sleep(Duration::from_millis(100));
    };
    let log1 = run.join(format!("slurm/logs/run-{array}_1.out"));
    wait_for_file_line(&log1, "job started", LIMIT);
    let out = Process::new("scancel")
        .arg(format!("{array}_1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    wait_gone(&array, LIMIT);
    wait_gone(&merge, LIMIT);
    let log = std::fs::read_to_string(&log1).unwrap();
    assert!(
        !log.contains("clean accuracy"),
        "task 1 finished its job: {log}"
    );
    assert!(
        !run.join(format!("slurm/logs/merge-{merge}.out")).exists(),
        "the merge job ran although a task failed"
    );

    let out = lossbench().arg("status").arg(&run).output().unwrap();
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("--- lossbench status ---\n{status}---");
    assert!(out.status.success(), "{status}");
    assert!(status.contains("3 done, 0 failed, 1 missing"), "{status}");
    assert!(status.contains(", shard 1)"), "{status}");
    assert!(status.contains("resubmit: --array=1\n"), "{status}");
    let script = run.join("slurm/run.sbatch");
    assert!(
        status.contains(&format!("sbatch --array=1 {}", script.display())),
        "{status}"
    );

    let out = Process::new("sbatch")
        .args(["--parsable", "--array=1"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let again = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    wait_gone(&again, LIMIT);
    let log = std::fs::read_to_string(run.join(format!("slurm/logs/run-{again}_1.out"))).unwrap();
    assert!(log.contains("clean accuracy"), "{log}");

    let out = lossbench()
        .arg("merge")
        .arg(&run)
        .arg("--reports")
        .arg(tmp.path().join("reports"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("--- lossbench merge ---\n{text}---");
    assert!(out.status.success(), "{text}{out:?}");
    assert!(text.contains("4 done, 0 failed, 0 missing"), "{text}");
    assert_eq!(&metrics_without_timing(&run), reference);
    eprintln!(
        "killed task resubmitted and merged: {:.1} s in all",
        t.elapsed().as_secs_f64()
    );
}
