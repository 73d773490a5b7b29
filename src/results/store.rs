//! The run directory on disk: every result table as `<table>.parquet` (the
//! copy lossbench reads back) and `<table>.csv` (for people and spreadsheets),
//! rewritten after each job so an interrupted run resumes.
//!
//! # Commit point
//!
//! Each file is replaced atomically (encoded to `<file>.tmp`, synced, renamed
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
//! Rows travel as the structs of [`super::schema`]; polars only appears at the
//! file boundary (`store/codec.rs`). Nothing here knows how the numbers were
//! computed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

mod codec;
#[cfg(test)]
mod compat_tests;
#[cfg(test)]
mod tests;

use codec::Table;

use super::manifest::Manifest;
use super::schema::{ExampleRow, FeatureRow, JobRow, MetricRow, RocRow, ScoreRow, TrainLogRow};
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
    /// without it `dir` is not a run directory. A `train_log` written before
    /// it carried `loss` (the name) and `seed` reads with both taken from
    /// `jobs` (see [`TrainLogRow`]).
    ///
    /// # Errors
    ///
    /// [`Error::Results`] naming the file (and the column) when `jobs.parquet`
    /// is missing or a table cannot be read or lacks a column of the schema.
    pub fn read(dir: &Path) -> Result<RunTables> {
        let jobs = table_path::<JobRow>(dir, "parquet");
        if !jobs.is_file() {
            return Err(Error::Results {
                file: jobs,
                msg: "not a run directory (no jobs table)".into(),
            });
        }
        let jobs: Vec<JobRow> = read_table(dir)?;
        // Older runs' train_log takes its loss names and seeds from jobs.
        let train_log = read_table_with(dir, |df| codec::upgrade_train_log(df, &jobs))?;
        let mut tables = RunTables {
            jobs,
            metrics: read_table(dir)?,
            roc: read_table(dir)?,
            train_log,
            features: read_table(dir)?,
            scores: read_table(dir)?,
            examples: read_table(dir)?,
        };
        tables.drop_uncommitted();
        Ok(tables)
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
        let jobs: Vec<JobRow> = read_table(dir)?;
        Ok(Some(done_ids(&jobs)))
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
                std::fs::rename(tmp, path).map_err(|e| Error::io("cannot replace", path, e))?;
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

/// A run directory open for writing: the tables in memory, rewritten on disk
/// after every recorded job.
#[derive(Debug)]
pub struct RunStore {
    dir: PathBuf,
    tables: RunTables,
}

impl RunStore {
    /// Opens (creating it if needed) the run directory `dir`, loading the
    /// tables already there so a rerun resumes after the last finished job.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the directory cannot be created, [`Error::Results`]
    /// when existing tables cannot be read.
    pub fn open(dir: &Path) -> Result<RunStore> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create directory", dir, e))?;
        let tables = if table_path::<JobRow>(dir, "parquet").is_file() {
            RunTables::read(dir)?
        } else {
            RunTables::default()
        };
        Ok(RunStore {
            dir: dir.to_path_buf(),
            tables,
        })
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tables as recorded so far.
    pub fn tables(&self) -> &RunTables {
        &self.tables
    }

    /// The job's row if it finished successfully (`status == "done"`).
    pub fn finished(&self, job_id: &str) -> Option<&JobRow> {
        self.tables
            .jobs
            .iter()
            .find(|r| r.job_id == job_id && r.status == "done")
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
    /// replaces every earlier row of that job in every table, then rewrites
    /// all tables atomically.
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
        rows: RunTables,
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
        self.tables.remove_job(&id);
        self.tables.jobs.extend(rows.jobs);
        self.tables.metrics.extend(rows.metrics);
        self.tables.roc.extend(rows.roc);
        self.tables.train_log.extend(rows.train_log);
        self.tables.features.extend(rows.features);
        self.tables.scores.extend(rows.scores);
        self.tables.examples.extend(rows.examples);
        self.tables.write(&self.dir, before_rename)
    }

    /// Writes `manifest.json` into the run directory (atomically).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_manifest(&self, m: &Manifest) -> Result<()> {
        m.write(&self.dir)
    }
}

/// Writes `bytes` to `path` through `<path>.tmp` and a rename.
/// The ids of the `done` jobs.
fn done_ids(jobs: &[JobRow]) -> std::collections::HashSet<String> {
    jobs.iter()
        .filter(|r| r.status == "done")
        .map(|r| r.job_id.clone())
        .collect()
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let mut f = File::create(&tmp).map_err(|e| Error::io("cannot create", &tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("cannot write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("cannot replace", path, e))?;
    path.parent().map_or(Ok(()), sync_dir)
}

/// Makes the renames inside `dir` durable (a rename lives in the directory).
fn sync_dir(dir: &Path) -> Result<()> {
    // Windows cannot open a directory as a file; its renames are not synced.
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("cannot sync directory", dir, e))?;
    }
    Ok(())
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
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
        let file = File::create(&tmp).map_err(|e| Error::io("cannot create", &tmp, e))?;
        let written = if ext == "parquet" {
            ParquetWriter::new(&file).finish(&mut df).map(drop)
        } else {
            CsvWriter::new(&file).finish(&mut df)
        };
        written.map_err(|e| polars_write_error(&tmp, e))?;
        file.sync_all()
            .map_err(|e| Error::io("cannot write", &tmp, e))?;
        staged.push((tmp, path));
    }
    Ok(())
}

/// A polars failure while writing is a runtime I/O failure on that file.
fn polars_write_error(path: &Path, e: PolarsError) -> Error {
    Error::io("cannot write", path, std::io::Error::other(e.to_string()))
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
    let file = File::open(&path).map_err(|e| Error::io("cannot open", &path, e))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| results(format!("cannot read parquet: {e}")))?;
    T::from_frame(&upgrade(df).map_err(results)?).map_err(results)
}
