//! Shards of one run without a cluster: `run --shard i/N` processes started
//! at once into one run directory, one killed midway, `status` naming its
//! job and shard, the shard run again, `merge` giving the metrics of a
//! single process value for value; merge's refusals and exit codes.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use lossbench::compare::direction::is_timing;
use lossbench::results::RunTables;

use super::{lossbench, run_dir};

/// Six jobs, slow enough (a second or more each) to be killed midway.
const SUITE: &str = "name: sharded
data:
  dataset: synthetic
  synthetic: {seed: 3, classes: 4, train: 2048, test: 256, side: 8}
model:
  mlp: {feature-dim: 8}
train: {epochs: 4, batch-size: 32, optimizer: adam, lr: 0.003}
losses: [softmax, center, lgm]
seeds: [0, 1]
attacks:
  - fgsm: {eps: [0.2]}
detectors: [max-softmax]
";

fn bin() -> String {
    std::env::var("CARGO_BIN_EXE_lossbench")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_lossbench").to_owned())
}

/// `lossbench run` of `suite` into `<root>/results` and `<root>/reports`.
fn run_process(root: &Path, suite: &Path, shard: Option<&str>) -> Process {
    let mut c = Process::new(bin());
    c.args(["run", "--device", "cpu", "--results"])
        .arg(root.join("results"))
        .arg("--reports")
        .arg(root.join("reports"))
        .arg(suite)
        .env("LOSSBENCH_DATA", "/nonexistent-lossbench-data")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("LOSSBENCH_SHARDS");
    if let Some(s) = shard {
        c.args(["--shard", s]);
    }
    c
}

/// Every metric row but the wall-clock ones, keyed by everything but the
/// value, with its value's bits: equal maps mean equal metrics, value for
/// value.
pub(super) fn metrics_without_timing(run: &Path) -> BTreeMap<String, u64> {
    let tables = RunTables::read(run).unwrap();
    let mut out = BTreeMap::new();
    for r in tables.metrics.iter().filter(|r| !is_timing(&r.metric)) {
        let key = format!(
            "{} {} {} {} {} {} {}",
            r.job_id, r.loss, r.seed, r.attack, r.detector, r.subset, r.metric
        );
        assert!(
            out.insert(key.clone(), r.value.to_bits()).is_none(),
            "{key}"
        );
    }
    out
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn status(run: &Path) -> String {
    let o = lossbench().arg("status").arg(run).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn merge(root: &Path, run: &Path) -> std::process::Output {
    lossbench()
        .arg("merge")
        .arg(run)
        .arg("--reports")
        .arg(root.join("reports"))
        .output()
        .unwrap()
}

fn write_suite(dir: &Path) -> PathBuf {
    let suite = dir.join("sharded.yaml");
    std::fs::write(&suite, SUITE).unwrap();
    suite
}

#[test]
fn shards_at_once_one_killed_and_rerun_merge_to_the_single_process_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = write_suite(tmp.path());
    let single = tmp.path().join("single");
    let sharded = tmp.path().join("sharded");

    let o = run_process(&single, &suite, None).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let reference = metrics_without_timing(&run_dir(&single.join("results"), "sharded"));
    assert_eq!(
        reference
            .keys()
            .map(|k| &k[..16])
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        6
    );

    // Three shards at once; shard 1 is killed (SIGKILL) once its first job
    // is under way.
    let mut children: Vec<_> = (0..3)
        .map(|i| {
            run_process(&sharded, &suite, Some(&format!("{i}/3")))
                .env("RUST_LOG", "lossbench=info")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut victim = children.remove(1);
    let mut log = String::new();
    for line in BufReader::new(victim.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("job started") {
            break;
        }
    }
    assert!(log.contains("job started"), "{log}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    victim.kill().unwrap();
    let killed = victim.wait().unwrap();
    assert!(!killed.success(), "the killed shard exited normally");
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("lossbench merge"), "{}", text(&o));
    }

    let run = run_dir(&sharded.join("results"), "sharded");
    // Its jobs are missing, and `status` says shard 1 is the one to rerun.
    let s = status(&run);
    assert!(
        s.contains("in 3 shard(s), 4 done, 0 failed, 2 missing"),
        "{s}"
    );
    assert_eq!(s.matches("missing: ").count(), 2, "{s}");
    assert!(s.contains(", shard 1)"), "{s}");
    assert!(s.contains("resubmit: --array=1\n"), "{s}");
    // Merging now lists the missing jobs and exits 4.
    let o = merge(&sharded, &run);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("2 of the run's 6 job(s) missing"),
        "{}",
        text(&o)
    );
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"partial\""), "{manifest}");

    // Shard 1 again, alone: it computes its two jobs and ends the run.
    let o = run_process(&sharded, &suite, Some("1/3")).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        text(&o).matches(": clean accuracy").count(),
        2,
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("status done"), "{}", text(&o));
    let s = status(&run);
    assert!(s.contains("6 done, 0 failed, 0 missing"), "{s}");
    assert!(!s.contains("resubmit"), "{s}");

    let o = merge(&sharded, &run);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(metrics_without_timing(&run), reference);
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"status\": \"done\""), "{manifest}");
    assert!(manifest.contains("\"jobs_done\": 6"), "{manifest}");
    let report = sharded
        .join("reports/sharded")
        .join(run.file_name().unwrap())
        .join("report.md");
    let first = std::fs::read_to_string(&report).unwrap();

    // Merge is idempotent: the same manifest, tables and report again.
    let tables = |run: &Path| {
        ["jobs", "metrics"].map(|t| std::fs::read(run.join(format!("{t}.parquet"))).unwrap())
    };
    let before = (tables(&run), manifest);
    let o = merge(&sharded, &run);
    assert!(o.status.success(), "{}", text(&o));
    let after = (
        tables(&run),
        std::fs::read_to_string(run.join("manifest.json")).unwrap(),
    );
    assert!(before == after, "a second merge changed the run");
    assert_eq!(std::fs::read_to_string(&report).unwrap(), first);
}

#[test]
fn merge_refuses_a_run_of_another_version_or_jobs_of_another_suite() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("small.yaml");
    let small = SUITE
        .replace("train: 2048", "train: 128")
        .replace("epochs: 4", "epochs: 1")
        .replace("[softmax, center, lgm]", "[softmax]")
        .replace("[0, 1]", "[0]");
    std::fs::write(&suite, &small).unwrap();
    let o = run_process(tmp.path(), &suite, None).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let run = run_dir(&tmp.path().join("results"), "sharded");

    // Jobs of another suite (another seed) copied into this run directory.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let other_suite = other.join("small.yaml");
    std::fs::write(&other_suite, small.replace("[0]", "[7]")).unwrap();
    let o = run_process(&other, &other_suite, None).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let other_run = run_dir(&other.join("results"), "sharded");
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    for f in std::fs::read_dir(&run).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            std::fs::copy(&f, mixed.join(f.file_name().unwrap())).unwrap();
        }
    }
    for t in ["jobs.parquet", "metrics.parquet"] {
        std::fs::copy(other_run.join(t), mixed.join(t)).unwrap();
    }
    for cmd in ["merge", "status"] {
        let o = lossbench().arg(cmd).arg(&mixed).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", text(&o));
        assert!(
            text(&o).contains("is not a job of this run (suite 'sharded'")
                && text(&o).contains("shards of another suite or lossbench version"),
            "{cmd}: {}",
            text(&o)
        );
    }

    // A manifest of another lossbench version.
    let path = run.join("manifest.json");
    let m = std::fs::read_to_string(&path).unwrap();
    let version = format!("\"lossbench_version\": \"{}\"", lossbench::VERSION);
    assert!(m.contains(&version), "{m}");
    std::fs::write(
        &path,
        m.replace(&version, "\"lossbench_version\": \"0.0.1\""),
    )
    .unwrap();
    let o = merge(tmp.path(), &run);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("written by lossbench 0.0.1, and this is lossbench"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_slurm_array_task_runs_its_shard_from_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("small.yaml");
    let small = SUITE
        .replace("train: 2048", "train: 128")
        .replace("epochs: 4", "epochs: 1");
    std::fs::write(&suite, small).unwrap();
    let o = run_process(tmp.path(), &suite, None)
        .env("SLURM_ARRAY_TASK_ID", "4")
        .env("SLURM_ARRAY_TASK_COUNT", "5")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("(shard 4/5: 1 of the run's 6)"),
        "{}",
        text(&o)
    );
    // A resubmitted index alone: the task count is 1, so it needs the
    // run's count.
    let o = run_process(tmp.path(), &suite, None)
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_COUNT", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("LOSSBENCH_SHARDS"), "{}", text(&o));
    let o = run_process(tmp.path(), &suite, None)
        .env("JOB_COMPLETION_INDEX", "0")
        .env("LOSSBENCH_SHARDS", "2")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("(shard 0/2: 3 of the run's 6)"),
        "{}",
        text(&o)
    );
    // --shard wins over the environment.
    let o = run_process(tmp.path(), &suite, Some("1/2"))
        .env("JOB_COMPLETION_INDEX", "0")
        .env("LOSSBENCH_SHARDS", "2")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("(shard 1/2: 3 of the run's 6)"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("status done"), "{}", text(&o));
}
