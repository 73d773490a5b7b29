//! Advisory file locks on a run directory, so that any number of lossbench
//! processes (two `run`s of one suite started at once, shards of one run on
//! a cluster) can write into it without corrupting it or each other.
//!
//! Three locks, all `flock`-style through `std::fs::File::lock` (released by
//! the kernel when the process dies, even by `SIGKILL`, so none is ever left
//! stale):
//!
//! - **commit** (`.commit.lock`, exclusive, held for milliseconds): one
//!   process at a time reads the tables, adds its job's rows and replaces
//!   the files, so no write is lost and no temp file is shared;
//! - **job** (`.locks/<job-id>.lock`, exclusive, held while the job runs): a
//!   second process does not compute a job another is computing; it takes
//!   another job and comes back to this one at the end;
//! - **active** (`.active.lock`, shared, held while a process writes into
//!   the run): a manifest that says `running` while no process holds it was
//!   left by a process that died (killed, out of power), and readers say
//!   `interrupted` instead.
//!
//! This room knows only paths and files; the lock names never come from file
//! contents (job ids are checked to be hex before they name a file).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::IoOp;
use crate::{Error, Result};

const COMMIT: &str = ".commit.lock";
const ACTIVE: &str = ".active.lock";
const JOBS: &str = ".locks";

/// A held lock; dropping it releases the lock (the file is closed).
#[derive(Debug)]
pub struct Held {
    _file: File,
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::fs(IoOp::OpenLock, path, e))
}

fn lock_error(path: &Path, e: std::io::Error) -> Error {
    Error::fs(IoOp::Lock, path, e)
}

/// Waits for the commit lock of the run directory `dir`.
///
/// # Errors
///
/// [`Error::Io`] when the lock file cannot be created or locked.
pub fn commit(dir: &Path) -> Result<Held> {
    let path = dir.join(COMMIT);
    let file = open(&path)?;
    file.lock().map_err(|e| lock_error(&path, e))?;
    Ok(Held { _file: file })
}

/// Marks the calling process as writing into `dir` until the guard drops.
///
/// # Errors
///
/// [`Error::Io`] when the lock file cannot be created or locked.
pub fn active(dir: &Path) -> Result<Held> {
    let path = dir.join(ACTIVE);
    let file = open(&path)?;
    file.lock_shared().map_err(|e| lock_error(&path, e))?;
    Ok(Held { _file: file })
}

/// Whether some process (this one included) is writing into `dir` now. A
/// directory that cannot be probed (no lock file, read-only) counts as not
/// active.
pub fn is_active(dir: &Path) -> bool {
    let path = dir.join(ACTIVE);
    let Ok(file) = File::open(&path) else {
        return false;
    };
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}

/// The lock file of job `job_id` in `dir`.
fn job_path(dir: &Path, job_id: &str) -> Result<PathBuf> {
    // Job ids are lossbench's hex hashes; anything else must not name a file.
    if job_id.is_empty() || !job_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Job {
            job: job_id.to_owned(),
            msg: "a job id must be hexadecimal".into(),
        });
    }
    let jobs = dir.join(JOBS);
    std::fs::create_dir_all(&jobs).map_err(|e| Error::fs(IoOp::CreateDir, &jobs, e))?;
    Ok(jobs.join(format!("{job_id}.lock")))
}

/// Claims job `job_id` if no other process is computing it: `None` when one
/// is.
///
/// # Errors
///
/// [`Error::Io`] when the lock file cannot be created or probed.
pub fn try_job(dir: &Path, job_id: &str) -> Result<Option<Held>> {
    let path = job_path(dir, job_id)?;
    let file = open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Held { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(lock_error(&path, e)),
    }
}

/// Waits until no other process computes job `job_id`, and claims it.
///
/// # Errors
///
/// [`Error::Io`] when the lock file cannot be created or locked.
pub fn job(dir: &Path, job_id: &str) -> Result<Held> {
    let path = job_path(dir, job_id)?;
    let file = open(&path)?;
    file.lock().map_err(|e| lock_error(&path, e))?;
    Ok(Held { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_job_is_not_claimed_twice_and_is_free_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = try_job(dir.path(), "ab12").unwrap().expect("free at first");
        assert!(try_job(dir.path(), "ab12").unwrap().is_none());
        assert!(try_job(dir.path(), "cd34").unwrap().is_some());
        drop(held);
        assert!(try_job(dir.path(), "ab12").unwrap().is_some());
    }

    #[test]
    fn job_ids_that_are_not_hex_never_name_a_file() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "../x", "a/b", "g1"] {
            assert!(try_job(dir.path(), bad).is_err(), "{bad:?}");
        }
        assert!(!dir.path().join("x.lock").exists());
    }

    #[test]
    fn active_while_a_guard_lives() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_active(dir.path()));
        let guard = active(dir.path()).unwrap();
        assert!(is_active(dir.path()));
        drop(guard);
        assert!(!is_active(dir.path()));
    }
}
