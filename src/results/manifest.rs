//! `manifest.json`: what a run was (the resolved suite, versions, device, git
//! commit) and how it went (timings, job counts, status). Written at the start
//! of a run and after every job, so an interrupted run still says what it was.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store::write_atomic;
use crate::{Error, Result};

/// The file name of the manifest inside a run directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The description of one run, stored as pretty JSON in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub suite_name: String,
    /// The suite file as given on the command line.
    pub suite_file: String,
    pub run_id: String,
    /// The resolved suite (every default filled in).
    pub suite: serde_json::Value,
    pub lossbench_version: String,
    pub tch_version: String,
    pub libtorch_version: String,
    /// The device the jobs ran on: `cpu`, `cuda:0`, ...
    pub device: String,
    /// `None` outside a git checkout.
    pub git_commit: Option<String>,
    /// RFC 3339 timestamps.
    pub started_at: String,
    /// `None` while the run is in progress.
    pub finished_at: Option<String>,
    pub wall_seconds: f64,
    pub jobs_total: usize,
    pub jobs_done: usize,
    pub jobs_failed: usize,
    /// Jobs found finished in an earlier run and not recomputed.
    pub jobs_reused: usize,
    /// How the run stands.
    pub status: RunStatus,
}

/// How a run stands, as `manifest.json`'s `status` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// A process is writing into the run.
    Running,
    /// Every job is done.
    Done,
    /// Every job ran, and at least one failed (or an error stopped the run).
    Failed,
    /// The run was stopped before its jobs were through: by Ctrl-C or a
    /// termination signal (written then), or killed outright (read so: the
    /// manifest says `running` but no process writes into the run). A rerun
    /// of the suite continues it.
    Interrupted,
    /// The processes that ran so far finished their shares, but jobs of the
    /// run are not recorded yet: shards of it have not run (or were lost).
    /// `lossbench status` names them and the array indices to resubmit;
    /// the last shard to finish, or `lossbench merge`, writes the final
    /// status.
    Partial,
}

impl RunStatus {
    /// The name in `manifest.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Partial => "partial",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Manifest {
    /// The manifest's path inside the run directory `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

    /// Reads `<dir>/manifest.json`. A manifest that says `running` while no
    /// process writes into the run reads as [`RunStatus::Interrupted`]: its
    /// process died without a word (see [`super::lock`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read, [`Error::Results`] (with
    /// line and column) when it is not a valid manifest.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = Manifest::path(dir);
        if !path.is_file() {
            return Err(Error::Results {
                file: path,
                msg: format!(
                    "no such file, so '{}' is not a run directory",
                    dir.display()
                ),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::read(&path, e))?;
        let mut m: Manifest = serde_json::from_str(&text).map_err(|e| Error::Results {
            file: path,
            msg: e.to_string(),
        })?;
        if m.status == RunStatus::Running && !super::lock::is_active(dir) {
            m.status = RunStatus::Interrupted;
        }
        Ok(m)
    }

    /// Writes `<dir>/manifest.json` as pretty JSON, atomically.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let mut json = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        json.push('\n');
        write_atomic(&Manifest::path(dir), json.as_bytes())
    }
}
