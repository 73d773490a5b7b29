//! The run directory on disk: every result table as `<table>.parquet` (the
//! copy lossbench reads back) and `<table>.csv` (for people and spreadsheets),
//! rewritten after each job so an interrupted run resumes.
//!
//! # Commit point
//!
//! Each file is replaced atomically (encoded to a temp file, synced, renamed
//! over the file), but one write replaces all of them, one rename at a time.
//! `jobs.parquet` is the commit point: it is renamed **last**, after every
//! other table is renamed and the directory synced, and the directory is
//! synced again after it. A process killed between two renames therefore
//! leaves `jobs` as it was before the write: the job being written is not
//! [finished](RunStore::finished), so a rerun records it again, and
//! [`RunTables::read`] drops the rows of any job that `jobs` does not hold,
//! so its half-written rows are never seen. Whoever adds a table stages it
//! before `jobs`.
//!
//! # Several writers
//!
//! Any number of processes may write into one run directory at once (two
//! runs of one suite, shards of a run). Each write happens under the run's
//! commit lock ([`super::lock`]): the writer re-reads the tables other
//! processes committed since its last write, adds its job's rows, and
//! replaces the files, so no writer loses another's jobs. Temp files are
//! named after the writing process, and a writer holding the lock removes
//! the temp files of writers that died.
//!
//! # Completeness
//!
//! Each job row records how many rows the job wrote into every other table
//! ([`RowCounts`]). A done job whose rows are not all there (a table file
//! deleted, replaced or truncated by hand) reads as
//! [`JobStatus::Incomplete`], so a rerun recomputes it instead of trusting
//! the `jobs` table. A table that cannot be read at all is moved aside (to
//! `<file>.unreadable`) when a run resumes, and the jobs it held are
//! recomputed; `lossbench report` refuses it with an error naming the file.
//!
//! Rows travel as the structs of [`super::schema`]; polars only appears at the
//! file boundary (`store/codec.rs`). Nothing here knows how the numbers were
//! computed.
//!
//! # Log
//!
//! Each commit logs (`RUST_LOG=info`) the job, its rows, how long it waited
//! for the commit lock and how long the whole write took: with several
//! writers, or on a slow disk, this is where a run's time goes. Reading the
//! tables again (at `debug`) says when another process had committed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;

mod codec;
#[cfg(test)]
mod compat_tests;
#[cfg(test)]
mod tests;

use codec::Table;

use super::lock;
use super::manifest::Manifest;
use super::schema::{
    ExampleRow, FeatureRow, JobRow, JobStatus, MetricRow, RocRow, RowCounts, ScoreRow, TrainLogRow,
};
use crate::error::IoOp;
use crate::{Error, Result};

/// Every table of one run, as rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunTables {
    pub jobs: Vec<JobRow>,
    pub metrics: Vec<MetricRow>,
    pub roc: Vec<RocRow>,
    pub train_log: Vec<TrainLogRow>,
    pub features: Vec<FeatureRow>,
    pub scores: Vec<ScoreRow>,
    pub examples: Vec<ExampleRow>,
}

impl RunTables {
    /// Reads the tables of the run directory `dir` from their parquet files.
    ///
    /// A missing table file reads as an empty table, except `jobs.parquet`:
    /// without it `dir` is a run that has finished no job yet (when its
    /// `manifest.json` is there: every table is empty) or not a run
    /// directory at all. A `train_log` written before
    /// it carried `loss` (the name) and `seed` reads with both taken from
    /// `jobs` (see [`TrainLogRow`]).
    ///
    /// # Errors
    ///
    /// [`Error::Results`] naming the file (and the column) when `jobs.parquet`
    /// is missing or a table cannot be read or lacks a column of the schema.
    pub fn read(dir: &Path) -> Result<RunTables> {
        RunTables::read_with(dir, &mut |_, e| Err(e))
    }

    /// [`RunTables::read`] for a writer that holds the commit lock: a table
    /// that cannot be read is moved aside to `<file>.unreadable` (what it
    /// says is kept for a person to look at) and read as empty, so the jobs
    /// it held are recomputed; each such move is described in `notes`.
    fn read_recovering(dir: &Path, notes: &mut Vec<String>) -> Result<RunTables> {
        RunTables::read_with(dir, &mut |file, e| {
            let Error::Results { .. } = e else {
                return Err(e);
            };
            let aside = set_aside(file)?;
            notes.push(format!(
                "{}; moved to '{}', and the jobs it held are computed again",
                crate::error::OneLine(&e),
                aside.display()
            ));
            Ok(())
        })
    }

    /// Reads every table; `unreadable` decides what an unreadable table
    /// file means: an error, or (when it returns `Ok`) an empty table.
    fn read_with(
        dir: &Path,
        unreadable: &mut dyn FnMut(&Path, Error) -> Result<()>,
    ) -> Result<RunTables> {
        let jobs_file = table_path::<JobRow>(dir, "parquet");
        if !jobs_file.is_file() {
            // A run that has not finished a job yet has its manifest only.
            if Manifest::path(dir).is_file() {
                return Ok(RunTables::default());
            }
            return Err(Error::Results {
                file: jobs_file,
                msg: "not a run directory (no jobs table and no manifest.json)".into(),
            });
        }
        let jobs: Vec<JobRow> = or_empty(dir, read_table(dir), unreadable)?;
        // Older runs' train_log takes its loss names and seeds from jobs.
        let train_log = or_empty(
            dir,
            read_table_with(dir, |df| codec::upgrade_train_log(df, &jobs)),
            unreadable,
        )?;
        let mut tables = RunTables {
            metrics: or_empty(dir, read_table(dir), unreadable)?,
            roc: or_empty(dir, read_table(dir), unreadable)?,
            train_log,
            features: or_empty(dir, read_table(dir), unreadable)?,
            scores: or_empty(dir, read_table(dir), unreadable)?,
            examples: or_empty(dir, read_table(dir), unreadable)?,
            jobs,
        };
        tables.drop_uncommitted();
        tables.mark_incomplete();
        tables.drop_uncommitted();
        Ok(tables)
    }

    /// The number of rows job `job_id` holds in each table but `jobs`.
    pub fn row_counts(&self, job_id: &str) -> RowCounts {
        fn count<T>(rows: &[T], id: impl Fn(&T) -> &str, job_id: &str) -> u64 {
            rows.iter().filter(|r| id(r) == job_id).count() as u64
        }
        RowCounts {
            metrics: count(&self.metrics, |r| &r.job_id, job_id),
            roc: count(&self.roc, |r| &r.job_id, job_id),
            train_log: count(&self.train_log, |r| &r.job_id, job_id),
            features: count(&self.features, |r| &r.job_id, job_id),
            scores: count(&self.scores, |r| &r.job_id, job_id),
            examples: count(&self.examples, |r| &r.job_id, job_id),
        }
    }

    /// Demotes every done job whose rows are not all present to
    /// [`JobStatus::Incomplete`], saying in its `error` which rows are
    /// missing. A job row without recorded counts (a run written before
    /// they existed) needs at least its `metrics` rows.
    fn mark_incomplete(&mut self) {
        let mut missing = Vec::new();
        for job in self.jobs.iter().filter(|j| j.status == JobStatus::Done) {
            let have = self.row_counts(&job.job_id);
            let gaps: Vec<String> = if job.row_counts.is_empty() {
                if have.metrics == 0 {
                    vec!["metrics has none of its rows".to_owned()]
                } else {
                    Vec::new()
                }
            } else {
                match serde_json::from_str::<RowCounts>(&job.row_counts) {
                    Ok(want) => want
                        .tables()
                        .into_iter()
                        .zip(have.tables())
                        .filter(|((_, w), (_, h))| w != h)
                        .map(|((table, w), (_, h))| format!("{table} has {h} of its {w} rows"))
                        .collect(),
                    Err(e) => vec![format!("its row_counts cannot be read ({e})")],
                }
            };
            if !gaps.is_empty() {
                missing.push((job.job_id.clone(), gaps.join(", ")));
            }
        }
        for (id, gaps) in missing {
            for job in self.jobs.iter_mut().filter(|j| j.job_id == id) {
                job.status = JobStatus::Incomplete;
                job.error =
                    format!("recorded as done, but {gaps}; a rerun of the suite computes it again");
            }
        }
    }

    /// The ids of the jobs `dir`'s `jobs` table lists as `done`: the only
    /// jobs whose rows in the other tables count (see the module doc). `None`
    /// when `dir` has no `jobs.parquet` (not a run directory written by
    /// lossbench, e.g. a bare metrics file's folder).
    ///
    /// # Errors
    ///
    /// [`Error::Results`] naming the file when the jobs table cannot be read.
    pub fn committed_jobs(dir: &Path) -> Result<Option<std::collections::HashSet<String>>> {
        if !table_path::<JobRow>(dir, "parquet").is_file() {
            return Ok(None);
        }
        Ok(Some(done_ids(&RunTables::read(dir)?.jobs)))
    }

    /// Drops the rows of jobs that `jobs` does not list as done: what a write
    /// killed before its commit point left behind (see the module doc). A
    /// failed job records no rows but its job row, so a failed job's rows
    /// can only be a retry's killed write.
    fn drop_uncommitted(&mut self) {
        let ids = done_ids(&self.jobs);
        self.metrics.retain(|r| ids.contains(&r.job_id));
        self.roc.retain(|r| ids.contains(&r.job_id));
        self.train_log.retain(|r| ids.contains(&r.job_id));
        self.features.retain(|r| ids.contains(&r.job_id));
        self.scores.retain(|r| ids.contains(&r.job_id));
        self.examples.retain(|r| ids.contains(&r.job_id));
    }

    /// Writes every table as parquet and CSV, each through a temp file and a
    /// rename, `jobs.parquet` last (the commit point of the module doc).
    /// `before_rename` sees each file about to be replaced; an error from it
    /// stops the write there, as a crash would (the tests interrupt a write
    /// at every point with it).
    fn write(&self, dir: &Path, before_rename: &mut dyn FnMut(&Path) -> Result<()>) -> Result<()> {
        let mut staged = Vec::new();
        stage_table(dir, &self.metrics, &mut staged)?;
        stage_table(dir, &self.roc, &mut staged)?;
        stage_table(dir, &self.train_log, &mut staged)?;
        stage_table(dir, &self.features, &mut staged)?;
        stage_table(dir, &self.scores, &mut staged)?;
        stage_table(dir, &self.examples, &mut staged)?;
        let data_files = staged.len();
        stage_table(dir, &self.jobs, &mut staged)?;
        // Renames only once everything is encoded: a failure while encoding
        // leaves the old files whole. Then the data, synced, before `jobs`.
        let commit = staged.split_off(data_files);
        let mut replace = |staged: &[(PathBuf, PathBuf)]| -> Result<()> {
            for (tmp, path) in staged {
                before_rename(path)?;
                std::fs::rename(tmp, path).map_err(|e| Error::fs(IoOp::Replace, path, e))?;
            }
            sync_dir(dir)
        };
        replace(&staged)?;
        replace(&commit)
    }

    /// Drops every row of `job_id` from every table.
    fn remove_job(&mut self, job_id: &str) {
        self.jobs.retain(|r| r.job_id != job_id);
        self.metrics.retain(|r| r.job_id != job_id);
        self.roc.retain(|r| r.job_id != job_id);
        self.train_log.retain(|r| r.job_id != job_id);
        self.features.retain(|r| r.job_id != job_id);
        self.scores.retain(|r| r.job_id != job_id);
        self.examples.retain(|r| r.job_id != job_id);
    }
}

/// A run directory open for writing: the tables as this process last saw
/// them, rewritten on disk (under the commit lock, merged with what other
/// processes committed) after every recorded job.
#[derive(Debug)]
pub struct RunStore {
    dir: PathBuf,
    tables: RunTables,
    /// The `jobs.parquet` this process last read or wrote: when it is still
    /// there at the next write, no other process committed in between and
    /// the tables need not be read again.
    seen: Option<FileStamp>,
    /// What was recovered while reading (tables moved aside).
    recovered: Vec<String>,
    /// Held while the store lives: the run is being written.
    _active: lock::Held,
}

impl RunStore {
    /// Opens (creating it if needed) the run directory `dir`, loading the
    /// tables already there so a rerun resumes after the last finished job.
    /// Tables that cannot be read are moved aside (see the module doc and
    /// [`RunStore::recovered`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the directory cannot be created or locked, or a
    /// table cannot be moved aside.
    pub fn open(dir: &Path) -> Result<RunStore> {
        std::fs::create_dir_all(dir).map_err(|e| Error::fs(IoOp::CreateDir, dir, e))?;
        let active = lock::active(dir)?;
        let mut store = RunStore {
            dir: dir.to_path_buf(),
            tables: RunTables::default(),
            seen: None,
            recovered: Vec::new(),
            _active: active,
        };
        let _commit = lock::commit(dir)?;
        store.reload()?;
        Ok(store)
    }

    /// Re-reads the tables if another process committed since this one last
    /// read or wrote them, and removes temp files left by dead writers. The
    /// caller holds the commit lock.
    fn reload(&mut self) -> Result<()> {
        remove_stale_temps(&self.dir)?;
        let jobs = table_path::<JobRow>(&self.dir, "parquet");
        let now = FileStamp::of(&jobs);
        if now.is_some() && now == self.seen {
            return Ok(());
        }
        self.tables = if now.is_some() {
            let t = Instant::now();
            let tables = RunTables::read_recovering(&self.dir, &mut self.recovered)?;
            tracing::debug!(
                dir = %self.dir.display(),
                jobs = tables.jobs.len(),
                ms = t.elapsed().as_millis() as u64,
                "tables read (new, or committed by another process)"
            );
            tables
        } else {
            RunTables::default()
        };
        self.seen = FileStamp::of(&jobs);
        Ok(())
    }

    /// Brings the tables up to date with what other processes committed.
    ///
    /// # Errors
    ///
    /// As [`RunStore::open`].
    pub fn refresh(&mut self) -> Result<()> {
        let _commit = lock::commit(&self.dir)?;
        self.reload()
    }

    /// What reading the run directory recovered from: one line per table
    /// that could not be read and was moved aside.
    pub fn recovered(&self) -> &[String] {
        &self.recovered
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tables as recorded so far.
    pub fn tables(&self) -> &RunTables {
        &self.tables
    }

    /// The job's row if it finished successfully with all its rows present.
    pub fn finished(&self, job_id: &str) -> Option<&JobRow> {
        self.tables
            .jobs
            .iter()
            .find(|r| r.job_id == job_id && r.status == JobStatus::Done)
    }

    /// The job's row, whatever its status.
    pub fn job(&self, job_id: &str) -> Option<&JobRow> {
        self.tables.jobs.iter().find(|r| r.job_id == job_id)
    }

    /// Replaces every row of `job.job_id` in every table, then rewrites all
    /// tables atomically. Shorthand for [`RunStore::record`] without features.
    ///
    /// # Errors
    ///
    /// As [`RunStore::record`].
    pub fn record_job(
        &mut self,
        job: JobRow,
        metrics: Vec<MetricRow>,
        roc: Vec<RocRow>,
        log: Vec<TrainLogRow>,
    ) -> Result<()> {
        self.record(RunTables {
            jobs: vec![job],
            metrics,
            roc,
            train_log: log,
            features: Vec::new(),
            scores: Vec::new(),
            examples: Vec::new(),
        })
    }

    /// Records the rows of one job (`rows.jobs` holds exactly its job row):
    /// under the commit lock, takes in what other processes committed,
    /// replaces every earlier row of that job in every table, counts its
    /// rows into its job row, then rewrites all tables atomically.
    ///
    /// # Errors
    ///
    /// [`Error::Job`] when `rows` does not hold exactly one job or a row
    /// belongs to another job (nothing is changed); [`Error::Io`] when a file
    /// cannot be written.
    pub fn record(&mut self, rows: RunTables) -> Result<()> {
        self.record_with(rows, &mut |_| Ok(()))
    }

    /// [`RunStore::record`], with [`RunTables::write`]'s `before_rename`.
    fn record_with(
        &mut self,
        mut rows: RunTables,
        before_rename: &mut dyn FnMut(&Path) -> Result<()>,
    ) -> Result<()> {
        let [job] = rows.jobs.as_slice() else {
            return Err(Error::Job {
                job: "?".into(),
                msg: format!("record needs exactly one job row, got {}", rows.jobs.len()),
            });
        };
        let id = job.job_id.clone();
        let stray = rows
            .metrics
            .iter()
            .map(|r| &r.job_id)
            .chain(rows.roc.iter().map(|r| &r.job_id))
            .chain(rows.train_log.iter().map(|r| &r.job_id))
            .chain(rows.features.iter().map(|r| &r.job_id))
            .chain(rows.scores.iter().map(|r| &r.job_id))
            .chain(rows.examples.iter().map(|r| &r.job_id))
            .find(|other| **other != id);
        if let Some(other) = stray {
            return Err(Error::Job {
                job: id,
                msg: format!("result row belongs to job {other}"),
            });
        }
        let counts = rows.row_counts(&id);
        rows.jobs[0].row_counts = serde_json::to_string(&counts).expect("counts serialise");
        let t = Instant::now();
        let _commit = lock::commit(&self.dir)?;
        let locked_ms = t.elapsed().as_millis() as u64;
        self.reload()?;
        self.tables.remove_job(&id);
        self.tables.jobs.extend(rows.jobs);
        self.tables.metrics.extend(rows.metrics);
        self.tables.roc.extend(rows.roc);
        self.tables.train_log.extend(rows.train_log);
        self.tables.features.extend(rows.features);
        self.tables.scores.extend(rows.scores);
        self.tables.examples.extend(rows.examples);
        // Whatever happens next, the files may differ from what was read.
        self.seen = None;
        self.tables.write(&self.dir, before_rename)?;
        self.seen = FileStamp::of(&table_path::<JobRow>(&self.dir, "parquet"));
        let job_rows: u64 = counts.tables().iter().map(|(_, n)| n).sum::<u64>() + 1;
        tracing::info!(
            job = %id,
            rows = job_rows,
            jobs = self.tables.jobs.len(),
            lock_ms = locked_ms,
            ms = t.elapsed().as_millis() as u64,
            "tables committed"
        );
        Ok(())
    }

    /// Writes `manifest.json` into the run directory (atomically).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let _commit = lock::commit(&self.dir)?;
        m.write(&self.dir)
    }

    /// Under the commit lock, takes in what other processes committed, lets
    /// `update` set `m` from the tables, and writes it. So of several
    /// processes ending at once (shards of a run), the last to write sees
    /// every job the others recorded, and its status is the run's.
    ///
    /// # Errors
    ///
    /// As [`RunStore::refresh`] and [`RunStore::write_manifest`].
    pub fn write_manifest_fresh(
        &mut self,
        m: &mut Manifest,
        update: impl FnOnce(&RunTables, &mut Manifest),
    ) -> Result<()> {
        let _commit = lock::commit(&self.dir)?;
        self.reload()?;
        update(&self.tables, m);
        m.write(&self.dir)
    }
}

/// The ids of the `done` jobs.
fn done_ids(jobs: &[JobRow]) -> std::collections::HashSet<String> {
    jobs.iter()
        .filter(|r| r.status == JobStatus::Done)
        .map(|r| r.job_id.clone())
        .collect()
}

/// The rows of table `T` in `dir`, or, when they could not be read and
/// `unreadable` accepts that for its file, no rows.
fn or_empty<T: Table>(
    dir: &Path,
    rows: Result<Vec<T>>,
    unreadable: &mut dyn FnMut(&Path, Error) -> Result<()>,
) -> Result<Vec<T>> {
    match rows {
        Ok(rows) => Ok(rows),
        Err(e) => unreadable(&table_path::<T>(dir, "parquet"), e).map(|()| Vec::new()),
    }
}

/// `path` with `suffix` appended to its file name (`a.ot` → `a.ot.corrupt`).
pub(crate) fn appended(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Moves an unreadable table file (and its CSV twin, which was written from
/// the same rows) aside to `<file>.unreadable`, replacing an older one.
fn set_aside(file: &Path) -> Result<PathBuf> {
    let aside = appended(file, ".unreadable");
    std::fs::rename(file, &aside).map_err(|e| Error::fs(IoOp::MoveAside, file, e))?;
    let csv = file.with_extension("csv");
    if csv.is_file() {
        std::fs::rename(&csv, appended(&csv, ".unreadable"))
            .map_err(|e| Error::fs(IoOp::MoveAside, &csv, e))?;
    }
    Ok(aside)
}

/// Which file a path names now: a table file is replaced by a rename, so a
/// new commit shows as another inode (or size or time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Some(FileStamp {
            inode,
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

/// The suffix of every temp file lossbench writes in a run directory.
const TEMP_SUFFIX: &str = ".tmp";

/// Removes the temp files in `dir`. Called under the commit lock: every
/// writer holds it while its temp files exist, so any found then belong to
/// a writer that died.
fn remove_stale_temps(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::fs(IoOp::List, dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() && path.to_string_lossy().ends_with(TEMP_SUFFIX) {
            // Another cleaner may have been first; what is gone is gone.
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temp file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let mut f = File::create(&tmp).map_err(|e| Error::fs(IoOp::Create, &tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::fs(IoOp::Write, &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::fs(IoOp::Replace, path, e))?;
    path.parent().map_or(Ok(()), sync_dir)
}

/// Makes the renames inside `dir` durable (a rename lives in the directory).
fn sync_dir(dir: &Path) -> Result<()> {
    // Windows cannot open a directory as a file; its renames are not synced.
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::fs(IoOp::SyncDir, dir, e))?;
    }
    Ok(())
}

/// A temp file beside `path` that no other process or thread uses:
/// `<path>.<pid>-<n>.tmp`.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    appended(path, &format!(".{}-{n}{TEMP_SUFFIX}", std::process::id()))
}

fn table_path<T: Table>(dir: &Path, ext: &str) -> PathBuf {
    dir.join(format!("{}.{ext}", T::NAME))
}

/// Encodes `rows` as `<table>.parquet.tmp` and `<table>.csv.tmp`, and notes
/// which temp file replaces which file.
fn stage_table<T: Table>(
    dir: &Path,
    rows: &[T],
    staged: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<()> {
    let mut df =
        T::to_frame(rows).map_err(|e| polars_write_error(&table_path::<T>(dir, "parquet"), e))?;
    // The CSV first: the parquet copy is the one lossbench reads back.
    for ext in ["csv", "parquet"] {
        let path = table_path::<T>(dir, ext);
        let tmp = tmp_path(&path);
        let file = File::create(&tmp).map_err(|e| Error::fs(IoOp::Create, &tmp, e))?;
        let written = if ext == "parquet" {
            ParquetWriter::new(&file).finish(&mut df).map(drop)
        } else {
            CsvWriter::new(&file).finish(&mut df)
        };
        written.map_err(|e| polars_write_error(&tmp, e))?;
        file.sync_all()
            .map_err(|e| Error::fs(IoOp::Write, &tmp, e))?;
        staged.push((tmp, path));
    }
    Ok(())
}

/// A polars failure while writing is a runtime I/O failure on that file.
fn polars_write_error(path: &Path, e: PolarsError) -> Error {
    Error::fs(IoOp::Write, path, std::io::Error::other(e))
}

/// Reads `<table>.parquet`; a missing file is an empty table.
fn read_table<T: Table>(dir: &Path) -> Result<Vec<T>> {
    read_table_with(dir, Ok)
}

/// [`read_table`], with `upgrade` turning the frame as read (possibly from
/// an older run) into one of the current schema.
fn read_table_with<T: Table>(
    dir: &Path,
    upgrade: impl FnOnce(DataFrame) -> std::result::Result<DataFrame, String>,
) -> Result<Vec<T>> {
    let path = table_path::<T>(dir, "parquet");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let results = |msg: String| Error::Results {
        file: path.clone(),
        msg,
    };
    let file = File::open(&path).map_err(|e| Error::fs(IoOp::Read("cannot open"), &path, e))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| results(format!("cannot read parquet: {e}")))?;
    T::from_frame(&upgrade(df).map_err(results)?).map_err(results)
}
