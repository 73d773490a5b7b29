//! End to end: the real binary on the synthetic dataset in a temp dir.
//! `cli`: the commands and their exit codes on bad input; `runs`: a suite's
//! results, report and reuse; `jobs`: how jobs are evaluated and fail;
//! `reliability`: concurrent runs, resume, interruption, confined paths;
//! `logs`: what `RUST_LOG` shows on stderr; `ood`: abnormal inputs; `shards`: a run split into
//! shards, killed, rerun and merged; `slurm`: the same through a real
//! Slurm (scripts/slurm-local.sh).

mod cli;
mod interrupt;
mod jobs;
mod logs;
mod ood;
mod reliability;
mod runs;
mod shards;
mod slurm;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub(crate) fn lossbench() -> Command {
    let mut cmd = Command::cargo_bin("lossbench").unwrap();
    cmd.env("LOSSBENCH_DATA", "/nonexistent-lossbench-data");
    cmd
}

/// The single run directory under `results/<suite>/`.
pub(crate) fn run_dir(results: &Path, suite: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(results.join(suite))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// Every file under `dir`, for failure messages.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p)
            } else {
                vec![p]
            }
        })
        .collect()
}

/// `lossbench run --device cpu` of `suite`, results under `results`,
/// reports under `<dir>/reports`.
pub(crate) fn run_cpu(dir: &Path, results: &Path, suite: &Path) -> Command {
    let mut cmd = lossbench();
    cmd.args(["run", "--device", "cpu", "--results"])
        .arg(results)
        .arg("--reports")
        .arg(dir.join("reports"))
        .arg(suite);
    cmd
}

/// Writes `text` as `<dir>/<name>.yaml` and runs it; the command's output.
fn run_suite_text(
    dir: &Path,
    results: &Path,
    name: &str,
    text: &str,
) -> assert_cmd::assert::Assert {
    let suite = dir.join(format!("{name}.yaml"));
    std::fs::write(&suite, text).unwrap();
    run_cpu(dir, results, &suite).assert()
}

/// Reads a CSV table of a run directory as rows of fields.
fn csv_rows(dir: &Path, table: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join(format!("{table}.csv")))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}
