//! The file format of the result tables: each row struct as a polars
//! DataFrame built column by column (column names = field names, in order;
//! `String` → String, `u64` → UInt64, `f64` → Float64) and back, with errors
//! that name the offending column.

use polars::prelude::*;

use super::super::schema::{
    ExampleRow, FeatureRow, JobRow, JobStatus, MetricRow, RocRow, ScoreRow, TrainLogRow,
};

/// A row struct that is stored as one table.
pub(super) trait Table: Sized {
    /// The file stem: `jobs`, `metrics`, `roc`, `train_log`.
    const NAME: &'static str;
    fn to_frame(rows: &[Self]) -> PolarsResult<DataFrame>;
    /// Rows from a frame; the error message names the offending column.
    fn from_frame(df: &DataFrame) -> std::result::Result<Vec<Self>, String>;
}

/// A field type and its polars column type.
trait Cell: Sized {
    fn column(name: &str, values: Vec<Self>) -> Column;
    fn read(df: &DataFrame, name: &str) -> std::result::Result<Vec<Self>, String>;
}

/// Looks up `name` and checks its type; the message names the column.
fn typed_column<'a>(
    df: &'a DataFrame,
    name: &str,
    want: &DataType,
) -> std::result::Result<&'a Column, String> {
    let col = df
        .column(name)
        .map_err(|_| format!("missing column '{name}'"))?;
    if col.dtype() != want {
        return Err(format!(
            "column '{name}' has type {}, expected {want}",
            col.dtype()
        ));
    }
    Ok(col)
}

/// Text columns that runs written before they existed lack: `jobs.notes`,
/// `jobs.row_counts`.
const ADDED_TEXT_COLUMNS: &[&str] = &["notes", "row_counts"];

fn null_error(name: &str, row: usize) -> String {
    format!("column '{name}' has a null at row {row}")
}

impl Cell for String {
    fn column(name: &str, values: Vec<Self>) -> Column {
        Column::new(name.into(), values)
    }
    fn read(df: &DataFrame, name: &str) -> std::result::Result<Vec<Self>, String> {
        // Columns added after the first release read as empty from older runs.
        if ADDED_TEXT_COLUMNS.contains(&name) && df.column(name).is_err() {
            return Ok(vec![String::new(); df.height()]);
        }
        let col = typed_column(df, name, &DataType::String)?;
        let ca = col.str().map_err(|e| format!("column '{name}': {e}"))?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| v.map(str::to_owned).ok_or_else(|| null_error(name, i)))
            .collect()
    }
}

/// A job status is stored as its name (`done`, `failed`, ...).
impl Cell for JobStatus {
    fn column(name: &str, values: Vec<Self>) -> Column {
        let names: Vec<&str> = values.iter().map(|s| s.as_str()).collect();
        Column::new(name.into(), names)
    }
    fn read(df: &DataFrame, name: &str) -> std::result::Result<Vec<Self>, String> {
        String::read(df, name)?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                JobStatus::parse(s).ok_or_else(|| {
                    let known: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
                    format!(
                        "column '{name}' row {i}: unknown status '{s}' (expected one of {})",
                        known.join(", ")
                    )
                })
            })
            .collect()
    }
}

impl Cell for u64 {
    fn column(name: &str, values: Vec<Self>) -> Column {
        Column::new(name.into(), values)
    }
    fn read(df: &DataFrame, name: &str) -> std::result::Result<Vec<Self>, String> {
        let col = typed_column(df, name, &DataType::UInt64)?;
        let ca = col.u64().map_err(|e| format!("column '{name}': {e}"))?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| null_error(name, i)))
            .collect()
    }
}

impl Cell for f64 {
    fn column(name: &str, values: Vec<Self>) -> Column {
        Column::new(name.into(), values)
    }
    fn read(df: &DataFrame, name: &str) -> std::result::Result<Vec<Self>, String> {
        let col = typed_column(df, name, &DataType::Float64)?;
        let ca = col.f64().map_err(|e| format!("column '{name}': {e}"))?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| null_error(name, i)))
            .collect()
    }
}

/// Implements [`Table`] for a row struct from its field list, which must be
/// complete (the struct literal in `from_frame` checks that) and in the
/// struct's order (the column order of the files).
macro_rules! table {
    ($row:ident, $name:literal, [$($field:ident),+ $(,)?]) => {
        impl Table for $row {
            const NAME: &'static str = $name;

            fn to_frame(rows: &[Self]) -> PolarsResult<DataFrame> {
                DataFrame::new_infer_height(vec![$(
                    Cell::column(
                        stringify!($field),
                        rows.iter().map(|r| r.$field.clone()).collect(),
                    )
                ),+])
            }

            fn from_frame(df: &DataFrame) -> std::result::Result<Vec<Self>, String> {
                $(let mut $field = Cell::read(df, stringify!($field))?.into_iter();)+
                (0..df.height())
                    .map(|_| {
                        Ok($row {
                            $($field: $field.next().expect("columns have the frame's height"),)+
                        })
                    })
                    .collect()
            }
        }
    };
}

table!(
    JobRow,
    "jobs",
    [
        job_id,
        dataset,
        model,
        loss,
        seed,
        device,
        status,
        error,
        notes,
        n_train,
        n_test,
        train_seconds,
        eval_seconds,
        config,
        row_counts,
    ]
);
table!(
    MetricRow,
    "metrics",
    [job_id, dataset, model, loss, seed, attack, detector, subset, metric, value]
);
table!(
    RocRow,
    "roc",
    [job_id, loss, seed, attack, detector, subset, fpr, tpr, threshold]
);
table!(
    ExampleRow,
    "examples",
    [job_id, loss, seed, attack, sample, label, pred_adv, kind, channels, height, width, pixels]
);
table!(
    ScoreRow,
    "scores",
    [job_id, loss, seed, attack, detector, sample, kind, success, split, score]
);
table!(
    FeatureRow,
    "features",
    [job_id, loss, seed, sample, label, pred, dim, value]
);
table!(
    TrainLogRow,
    "train_log",
    [
        job_id,
        loss,
        seed,
        epoch,
        train_loss,
        train_acc,
        lr,
        seconds,
        images_per_s
    ]
);

/// A `train_log` frame as the current schema has it. Runs written before
/// `loss` named the loss hold the epoch's training loss in a float `loss`
/// column and have no `train_loss` or `seed`: that column is renamed
/// `train_loss`, and `loss` and `seed` are taken from the job's row in
/// `jobs`. A row of a job that `jobs` lacks gets an empty loss and seed 0;
/// the reader drops such rows anyway (uncommitted). Any other frame is
/// returned as it is, for [`Table::from_frame`] to check.
pub(super) fn upgrade_train_log(
    df: DataFrame,
    jobs: &[JobRow],
) -> std::result::Result<DataFrame, String> {
    let old = df.column("train_loss").is_err()
        && df
            .column("loss")
            .is_ok_and(|c| c.dtype() == &DataType::Float64);
    if !old {
        return Ok(df);
    }
    let by_id: std::collections::HashMap<&str, &JobRow> =
        jobs.iter().map(|j| (j.job_id.as_str(), j)).collect();
    let ids = String::read(&df, "job_id")?;
    let (loss, seed): (Vec<String>, Vec<u64>) = ids
        .iter()
        .map(|id| {
            by_id
                .get(id.as_str())
                .map_or((String::new(), 0), |j| (j.loss.clone(), j.seed))
        })
        .unzip();
    let mut df = df;
    df.rename("loss", "train_loss".into())
        .map_err(|e| format!("column 'loss': {e}"))?;
    for (name, col) in [
        ("loss", String::column("loss", loss)),
        ("seed", u64::column("seed", seed)),
    ] {
        df.with_column(col)
            .map_err(|e| format!("column '{name}': {e}"))?;
    }
    Ok(df)
}
