//! One side of a comparison read from disk: its `metrics` rows and, when a
//! `manifest.json` lies beside them, the run's description and the suite's
//! regression tolerances.
//!
//! A side is given as a run directory (`metrics.parquet`, else
//! `metrics.csv`), a suite's results directory holding exactly one run, or a
//! metrics file (`.parquet` or `.csv`). The manifest is read loosely (as JSON,
//! only the fields compare uses), so a baseline committed by an older
//! lossbench still compares. Every failure here is bad input (exit code 2)
//! and names the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::SideInfo;
use crate::results::manifest::MANIFEST_FILE;
use crate::results::MetricRow;
use crate::{Error, Result};

/// The metric file names looked for in a run directory, in order.
const METRIC_FILES: [&str; 2] = ["metrics.parquet", "metrics.csv"];

/// The columns compare needs (`job_id` is not needed and not required).
const STRING_COLUMNS: [&str; 7] = [
    "dataset", "model", "loss", "attack", "detector", "subset", "metric",
];

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub info: SideInfo,
    /// The metrics file read.
    pub metrics_file: PathBuf,
    pub rows: Vec<MetricRow>,
    /// The suite's `regression:` tolerances from the manifest (empty without one).
    pub tolerances: BTreeMap<String, f64>,
    /// The manifest's resolved suite (its `suite` object), to tell whether
    /// the two runs ran the same suite; `None` without a manifest.
    pub suite: Option<serde_json::Value>,
    /// Every file this side was read from, and the run directory when the
    /// metrics file lies in one: outputs of the comparison must not replace
    /// any of them ([`super::export::check_outputs`]).
    pub read_from: Vec<PathBuf>,
    pub run_dir: Option<PathBuf>,
}

fn bad(file: &Path, msg: impl Into<String>) -> Error {
    Error::Results {
        file: file.to_path_buf(),
        msg: msg.into(),
    }
}

impl Input {
    /// Reads a side from `path` (see the module docs for what it may be).
    ///
    /// # Errors
    ///
    /// [`Error::Results`] naming the path when it is none of those, a table
    /// lacks a column or has a null or unparsable cell, the table is empty, or
    /// the manifest is not JSON or has non-numeric tolerances.
    pub fn load(path: &Path) -> Result<Input> {
        let metrics_file = locate(path)?;
        let mut rows = read_metrics(&metrics_file)?;
        let dir = metrics_file.parent().unwrap_or(Path::new("."));
        // In a run directory, only the rows of jobs the jobs table lists as
        // done count: the rest are a killed write's (the store's commit rule).
        let metrics_of_run = METRIC_FILES
            .iter()
            .any(|f| metrics_file.file_name() == Path::new(f).file_name());
        let mut read_from = vec![metrics_file.clone()];
        let jobs_file = dir.join("jobs.parquet");
        let run_dir = (metrics_of_run
            && (jobs_file.is_file() || dir.join(MANIFEST_FILE).is_file()))
        .then(|| dir.to_path_buf());
        if metrics_of_run && rows.iter().all(|r| !r.job_id.is_empty()) {
            if let Some(done) = crate::results::RunTables::committed_jobs(dir)? {
                rows.retain(|r| done.contains(&r.job_id));
                read_from.push(jobs_file);
            }
        }
        if rows.is_empty() {
            return Err(bad(&metrics_file, "no metric rows"));
        }
        let manifest = dir.join(MANIFEST_FILE);
        let mut info = SideInfo {
            label: path.display().to_string(),
            metrics_file: metrics_file.display().to_string(),
            ..SideInfo::default()
        };
        let (mut tolerances, mut suite) = (BTreeMap::new(), None);
        if manifest.is_file() {
            (tolerances, suite) = read_manifest(&manifest, &mut info)?;
            info.manifest = Some(manifest.display().to_string());
            read_from.push(manifest);
        }
        Ok(Input {
            info,
            metrics_file,
            rows,
            tolerances,
            suite,
            read_from,
            run_dir,
        })
    }

    /// A side built in memory (tests, other tools); `label` names it.
    pub fn from_rows(
        label: &str,
        rows: Vec<MetricRow>,
        tolerances: BTreeMap<String, f64>,
    ) -> Input {
        Input {
            info: SideInfo {
                label: label.to_owned(),
                metrics_file: label.to_owned(),
                ..SideInfo::default()
            },
            metrics_file: PathBuf::from(label),
            rows,
            tolerances,
            suite: None,
            read_from: Vec::new(),
            run_dir: None,
        }
    }
}

/// The metrics file of `path`.
fn locate(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return match path.extension().and_then(|e| e.to_str()) {
            Some("parquet" | "csv") => Ok(path.to_path_buf()),
            _ => Err(bad(
                path,
                "expected a .parquet or .csv metrics file, or a run directory",
            )),
        };
    }
    if !path.is_dir() {
        return Err(bad(path, "no such file or directory"));
    }
    if let Some(f) = METRIC_FILES
        .iter()
        .map(|f| path.join(f))
        .find(|f| f.is_file())
    {
        return Ok(f);
    }
    // A suite's results directory: `<results>/<suite>/` with one run in it.
    let entries = std::fs::read_dir(path).map_err(|e| bad(path, format!("cannot list: {e}")))?;
    let mut runs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(MANIFEST_FILE).is_file())
        .collect();
    runs.sort();
    match runs.as_slice() {
        [run] => match METRIC_FILES
            .iter()
            .map(|f| run.join(f))
            .find(|f| f.is_file())
        {
            Some(f) => Ok(f),
            None => Err(bad(
                run,
                "run directory without metrics.parquet or metrics.csv",
            )),
        },
        [] => Err(bad(
            path,
            "no metrics.parquet or metrics.csv here, and no run directory below",
        )),
        _ => Err(bad(
            path,
            format!(
                "{} run directories below ({}); name one",
                runs.len(),
                runs.iter()
                    .filter_map(|r| r.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Reads a metrics table from parquet or CSV. CSV columns are read as text
/// and parsed here, so a job id of digits stays a string.
fn read_metrics(path: &Path) -> Result<Vec<MetricRow>> {
    let csv = path.extension().is_some_and(|e| e == "csv");
    let df = if csv {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
            .map_err(|e| bad(path, format!("cannot read CSV: {e}")))?
    } else {
        let file = File::open(path).map_err(|e| bad(path, format!("cannot open: {e}")))?;
        ParquetReader::new(file)
            .finish()
            .map_err(|e| bad(path, format!("cannot read parquet: {e}")))?
    };
    let text = |name: &str| -> Result<Vec<String>> {
        let col = df
            .column(name)
            .map_err(|_| bad(path, format!("missing column '{name}'")))?;
        // Parquet written by other tools may hold numbers here (a job id of
        // digits); every key column is compared as text.
        let col = col
            .cast(&DataType::String)
            .map_err(|e| bad(path, format!("column '{name}': {e}")))?;
        let ca = col
            .str()
            .map_err(|e| bad(path, format!("column '{name}': {e}")))?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(str::to_owned)
                    .ok_or_else(|| bad(path, format!("column '{name}' is empty at row {}", i + 1)))
            })
            .collect()
    };
    let [dataset, model, loss, attack, detector, subset, metric] = STRING_COLUMNS.map(text);
    let (seed, value) = if csv {
        let parsed = |name: &str, what: &str| -> Result<Vec<String>> {
            text(name).map_err(|e| match e {
                Error::Results { msg, .. } => bad(path, format!("{msg} ({what})")),
                other => other,
            })
        };
        let seed = parsed("seed", "an unsigned integer")?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.trim().parse::<u64>().map_err(|_| {
                    bad(
                        path,
                        format!(
                            "column 'seed' row {}: '{s}' is not an unsigned integer",
                            i + 1
                        ),
                    )
                })
            })
            .collect::<Result<Vec<u64>>>()?;
        let value = parsed("value", "a number")?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.trim().parse::<f64>().map_err(|_| {
                    bad(
                        path,
                        format!("column 'value' row {}: '{s}' is not a number", i + 1),
                    )
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        (seed, value)
    } else {
        let column = |name: &str, want: DataType| -> Result<Column> {
            let col = df
                .column(name)
                .map_err(|_| bad(path, format!("missing column '{name}'")))?;
            col.cast(&want)
                .map_err(|e| bad(path, format!("column '{name}': {e}")))
        };
        let seed: Vec<u64> = column("seed", DataType::UInt64)?
            .u64()
            .map_err(|e| bad(path, e.to_string()))?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| bad(path, format!("column 'seed' is empty at row {}", i + 1)))
            })
            .collect::<Result<_>>()?;
        let value: Vec<f64> = column("value", DataType::Float64)?
            .f64()
            .map_err(|e| bad(path, e.to_string()))?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| bad(path, format!("column 'value' is empty at row {}", i + 1)))
            })
            .collect::<Result<_>>()?;
        (seed, value)
    };
    let job_id = if df.column("job_id").is_ok() {
        text("job_id")?
    } else {
        vec![String::new(); df.height()]
    };
    let (dataset, model, loss) = (dataset?, model?, loss?);
    let (attack, detector, subset, metric) = (attack?, detector?, subset?, metric?);
    Ok((0..df.height())
        .map(|i| MetricRow {
            job_id: job_id[i].clone(),
            dataset: dataset[i].clone(),
            model: model[i].clone(),
            loss: loss[i].clone(),
            seed: seed[i],
            attack: attack[i].clone(),
            detector: detector[i].clone(),
            subset: subset[i].clone(),
            metric: metric[i].clone(),
            value: value[i],
        })
        .collect())
}

/// The regression tolerances and the resolved suite of a manifest.
type ManifestSuite = (BTreeMap<String, f64>, Option<serde_json::Value>);

/// Fills `info` from the manifest and returns its regression tolerances and
/// its `suite` object.
fn read_manifest(path: &Path, info: &mut SideInfo) -> Result<ManifestSuite> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))?;
    let field = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    info.suite = field("suite_name");
    info.run_id = field("run_id");
    info.git_commit = field("git_commit");
    info.device = field("device");
    info.lossbench_version = field("lossbench_version");
    info.status = field("status");
    // A `running` run whose process is gone was interrupted (as
    // `Manifest::read` says it).
    if info.status.as_deref() == Some(crate::results::RunStatus::Running.as_str()) {
        if let Some(dir) = path.parent() {
            if !crate::results::lock::is_active(dir) {
                info.status = Some(crate::results::RunStatus::Interrupted.as_str().to_owned());
            }
        }
    }
    let suite = json.get("suite").cloned();
    let Some(tols) = json.pointer("/suite/regression/tolerances") else {
        return Ok((BTreeMap::new(), suite));
    };
    let obj = tols
        .as_object()
        .ok_or_else(|| bad(path, "suite.regression.tolerances is not a map"))?;
    let tolerances = obj
        .iter()
        .map(|(metric, v)| match v.as_f64() {
            Some(t) if t.is_finite() && t >= 0.0 => Ok((metric.clone(), t)),
            _ => Err(bad(
                path,
                format!("suite.regression.tolerances.{metric} = {v}: expected a number >= 0"),
            )),
        })
        .collect::<Result<_>>()?;
    Ok((tolerances, suite))
}
