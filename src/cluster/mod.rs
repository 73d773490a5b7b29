//! Past one machine: a run's jobs split into shards ([`shard`]), run as a
//! Slurm job array ([`slurm`]) whose tasks all write into one run directory
//! on a shared filesystem (the directory takes several writers at once:
//! [`crate::results::lock`]), then `lossbench status` (what is done, failed,
//! missing, and which array indices to resubmit) and `lossbench merge` (the
//! manifest's final status and the report, from what the shards wrote).
//!
//! Nothing here schedules anything: Slurm does. This room reads and writes
//! result files and knows nothing of tch.

pub mod shard;
pub mod slurm;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::results::{lock, JobStatus, Manifest, RunStatus, RunTables};
use crate::suite::Suite;
use crate::{Error, Result};

pub use shard::Shard;

/// The file, in a run directory, that records into how many shards the run
/// was last split (by a `run --shard`, or by `lossbench slurm`), so that
/// `status` can name the array indices to resubmit.
pub const SHARDING_FILE: &str = "sharding.json";

/// What [`SHARDING_FILE`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Sharding {
    shards: usize,
}

/// Records that the run in `run_dir` is split into `count` shards. Written
/// under the commit lock: a writer holding it removes the temp files it
/// finds, taking them for those of a writer that died.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be written.
pub fn record_shards(run_dir: &Path, count: usize) -> Result<()> {
    std::fs::create_dir_all(run_dir)
        .map_err(|e| Error::fs(crate::error::IoOp::CreateDir, run_dir, e))?;
    let json = serde_json::to_string(&Sharding { shards: count }).expect("serialises") + "\n";
    let _commit = lock::commit(run_dir)?;
    crate::results::store::write_atomic(&run_dir.join(SHARDING_FILE), json.as_bytes())
}

/// The number of shards recorded in `run_dir`, if any (an unreadable
/// record counts as none).
pub fn recorded_shards(run_dir: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(run_dir.join(SHARDING_FILE)).ok()?;
    serde_json::from_str::<Sharding>(&text)
        .ok()
        .map(|s| s.shards)
        .filter(|&n| n > 0)
}

/// One job of a run, as the run directory records it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobProgress {
    pub id: String,
    /// The loss's label and the seed, to name the job to a person.
    pub loss: String,
    pub seed: u64,
    /// The shard it belongs to, when the shard count is known.
    pub shard: Option<usize>,
    /// `None`: no process recorded it yet (missing).
    pub status: Option<JobStatus>,
    /// Why it failed (or is incomplete); empty otherwise.
    pub error: String,
}

impl JobProgress {
    /// Done, with all its rows.
    pub fn is_done(&self) -> bool {
        self.status == Some(JobStatus::Done)
    }

    /// Missing: never recorded, or recorded as done with rows lost
    /// (incomplete); either way a rerun computes it.
    pub fn is_missing(&self) -> bool {
        matches!(self.status, None | Some(JobStatus::Incomplete))
    }

    pub fn is_failed(&self) -> bool {
        self.status == Some(JobStatus::Failed)
    }

    fn describe(&self) -> String {
        let shard = self
            .shard
            .map(|s| format!(", shard {s}"))
            .unwrap_or_default();
        let why = if self.error.is_empty() {
            String::new()
        } else {
            format!(": {}", self.error)
        };
        format!("{} ({} seed {}{shard}){why}", self.id, self.loss, self.seed)
    }
}

/// Where a run stands: every job of its suite, and what the run directory
/// says of each.
#[derive(Debug, Clone)]
pub struct Progress {
    pub run_dir: PathBuf,
    pub manifest: Manifest,
    /// The shard count the indices refer to (`--shards`, else the recorded
    /// one); `None` for a run never sharded.
    pub shards: Option<usize>,
    /// The suite's jobs, in plan order.
    pub jobs: Vec<JobProgress>,
    /// Whether some process writes into the run now.
    pub active: bool,
}

impl Progress {
    /// Reads the run directory `run_dir`: its manifest, its suite's jobs and
    /// the `jobs` table under the commit rule.
    ///
    /// # Errors
    ///
    /// [`Error::Results`] when `run_dir` is not a run directory, was written
    /// by another lossbench version (job ids hash the version, so this one
    /// cannot tell which jobs are the run's), its manifest's suite does not
    /// give its run id, or its `jobs` table holds a job that is not one of
    /// the suite's (shards of another suite or version wrote into it).
    pub fn read(run_dir: &Path, shards: Option<usize>) -> Result<Progress> {
        let manifest = Manifest::read(run_dir)?;
        let manifest_file = Manifest::path(run_dir);
        if manifest.lossbench_version != crate::VERSION {
            return Err(Error::Results {
                file: manifest_file,
                msg: format!(
                    "the run was written by lossbench {}, and this is lossbench {}: job ids \
                     include the version, so shards of one run must all be run, merged and \
                     read by the same version",
                    manifest.lossbench_version,
                    crate::VERSION
                ),
            });
        }
        let suite: Suite =
            serde_json::from_value(manifest.suite.clone()).map_err(|e| Error::Results {
                file: manifest_file.clone(),
                msg: format!("its suite cannot be read back: {e}"),
            })?;
        let run_id = crate::runner::run_id(&suite);
        if run_id != manifest.run_id {
            return Err(Error::Results {
                file: manifest_file,
                msg: format!(
                    "its suite gives run id {run_id}, not the run_id {} it records: the \
                     manifest was edited or mixed from two runs",
                    manifest.run_id
                ),
            });
        }
        let planned = suite.jobs();
        let tables = RunTables::read(run_dir)?;
        let ids: std::collections::HashSet<&str> = planned.iter().map(|j| j.id.as_str()).collect();
        if let Some(stray) = tables
            .jobs
            .iter()
            .find(|r| !ids.contains(r.job_id.as_str()))
        {
            return Err(Error::Results {
                file: run_dir.join("jobs.parquet"),
                msg: format!(
                    "job {} ({} seed {}) is not a job of this run (suite '{}', run {}, \
                     lossbench {}): shards of another suite or lossbench version wrote into \
                     this directory; give each run its own",
                    stray.job_id,
                    stray.loss,
                    stray.seed,
                    manifest.suite_name,
                    manifest.run_id,
                    manifest.lossbench_version
                ),
            });
        }
        let shards = shards.or_else(|| recorded_shards(run_dir));
        let assigned = shards.map(|n| shard::assign(planned.iter().map(|j| j.id.as_str()), n));
        let jobs = planned
            .iter()
            .map(|job| {
                let row = tables.jobs.iter().find(|r| r.job_id == job.id);
                JobProgress {
                    id: job.id.clone(),
                    loss: job.config.loss.label().to_string(),
                    seed: job.config.seed,
                    shard: assigned.as_ref().map(|a| a[&job.id]),
                    status: row.map(|r| r.status),
                    error: row.map(|r| r.error.clone()).unwrap_or_default(),
                }
            })
            .collect();
        Ok(Progress {
            run_dir: run_dir.to_path_buf(),
            manifest,
            shards,
            jobs,
            active: lock::is_active(run_dir),
        })
    }

    pub fn done(&self) -> impl Iterator<Item = &JobProgress> {
        self.jobs.iter().filter(|j| j.is_done())
    }

    pub fn failed(&self) -> impl Iterator<Item = &JobProgress> {
        self.jobs.iter().filter(|j| j.is_failed())
    }

    pub fn missing(&self) -> impl Iterator<Item = &JobProgress> {
        self.jobs.iter().filter(|j| j.is_missing())
    }

    /// The shard (array) indices whose jobs are failed or missing: what to
    /// resubmit. Empty when the shard count is unknown.
    pub fn to_resubmit(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .jobs
            .iter()
            .filter(|j| !j.is_done())
            .filter_map(|j| j.shard)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The run's status from its jobs: done, failed (every job recorded,
    /// some failed), or, with jobs missing, partial (interrupted when the
    /// manifest says a process was stopped); running while a process
    /// writes into the run.
    pub fn status(&self) -> RunStatus {
        if self.active {
            RunStatus::Running
        } else if self.missing().next().is_some() {
            if self.manifest.status == RunStatus::Interrupted {
                RunStatus::Interrupted
            } else {
                RunStatus::Partial
            }
        } else if self.failed().next().is_some() {
            RunStatus::Failed
        } else {
            RunStatus::Done
        }
    }

    /// What `lossbench status` prints.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let m = &self.manifest;
        let (done, failed, missing) = (
            self.done().count(),
            self.failed().count(),
            self.missing().count(),
        );
        let mut s = String::new();
        let shards = self
            .shards
            .map(|n| format!(" in {n} shard(s)"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "run {} of suite '{}' (lossbench {}): {} job(s){shards}, {done} done, {failed} \
             failed, {missing} missing",
            m.run_id,
            m.suite_name,
            m.lossbench_version,
            self.jobs.len()
        );
        let _ = writeln!(s, "status: {}", self.status());
        if self.active {
            let _ = writeln!(
                s,
                "processes are writing into the run now: missing jobs may be in progress"
            );
        }
        for j in self.failed() {
            let _ = writeln!(s, "failed:  {}", j.describe());
        }
        for j in self.missing() {
            let _ = writeln!(s, "missing: {}", j.describe());
        }
        if done < self.jobs.len() {
            let resubmit = self.to_resubmit();
            if resubmit.is_empty() {
                let _ = writeln!(
                    s,
                    "rerun: lossbench run {} (it reuses every done job)",
                    crate::cluster::slurm::shell_quote(&m.suite_file)
                );
            } else {
                let array = shard::array_spec(resubmit);
                let _ = writeln!(s, "resubmit: --array={array}");
                let script = slurm::script_dir(&self.run_dir).join(slurm::RUN_SCRIPT);
                if script.is_file() {
                    let _ = writeln!(
                        s,
                        "  sbatch --array={array} {}",
                        slurm::shell_quote(&script.display().to_string())
                    );
                }
            }
        }
        s
    }
}

/// What `lossbench merge` did.
#[derive(Debug, Clone)]
pub struct Merged {
    pub progress: Progress,
    pub report: PathBuf,
}

/// `lossbench merge`: checks that every job the run directory holds is one
/// of its suite's (see [`Progress::read`]), sets the manifest's counts and
/// final status from the `jobs` table (under the commit lock, unless a
/// process still writes into the run), and renders the report into `out`.
/// Only jobs the `jobs` table records as done count (the commit rule of
/// [`crate::results::store`]). Running it again changes nothing.
///
/// # Errors
///
/// As [`Progress::read`], and [`Error::Io`] when the manifest or the
/// report cannot be written.
pub fn merge(run_dir: &Path, out: &Path) -> Result<Merged> {
    let progress = {
        let _commit = lock::commit(run_dir)?;
        let progress = Progress::read(run_dir, None)?;
        if !progress.active {
            let mut m = progress.manifest.clone();
            let status = progress.status();
            m.jobs_total = progress.jobs.len();
            m.jobs_done = progress.done().count();
            m.jobs_failed = progress.failed().count();
            if m.status != status || m.finished_at.is_none() {
                m.finished_at = Some(chrono::Utc::now().to_rfc3339());
            }
            m.status = status;
            if m != progress.manifest {
                m.write(run_dir)?;
            }
        }
        Progress::read(run_dir, None)?
    };
    let report = crate::report::render(run_dir, out)?;
    Ok(Merged { progress, report })
}
