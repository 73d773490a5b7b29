//! Runs written by older lossbench versions still read: a `train_log` from
//! before it carried the loss name and seed (its float `loss` column was the
//! epoch's training loss) reads in the current schema, renders the same
//! report, and is rewritten in the current schema when the run resumes.

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use super::{RunStore, RunTables};
use crate::results::schema::{JobRow, MetricRow, TrainLogRow};
use crate::results::Manifest;
use crate::Error;

/// `train_log.csv` as lossbench wrote it before `train_loss`: `loss` is the
/// epoch's training loss, and there is no `seed`. `job-gone` is a row that
/// `jobs` does not hold (a write killed before its commit point).
const OLD_CSV: &str = "\
job_id,epoch,loss,train_acc,lr,seconds,images_per_s
job-a,1,2.25,0.5,0.1,1.5,1000.0
job-a,2,1.125,0.75,0.1,1.25,1200.0
job-b,1,9.5,0.25,0.01,2.0,800.0
job-gone,1,0.5,0.5,0.1,1.0,10.0
";

fn job(id: &str, loss: &str, seed: u64) -> JobRow {
    JobRow {
        job_id: id.into(),
        dataset: "synthetic".into(),
        model: "mlp".into(),
        loss: loss.into(),
        seed,
        device: "cpu".into(),
        status: crate::results::JobStatus::Done,
        error: String::new(),
        notes: String::new(),
        n_train: 8,
        n_test: 4,
        train_seconds: 1.0,
        eval_seconds: 0.5,
        config: "{}".into(),
        row_counts: String::new(),
    }
}

fn jobs() -> [JobRow; 2] {
    [job("job-a", "softmax", 4), job("job-b", "lgm", 7)]
}

/// `OLD_CSV` in the current schema: loss and seed from `jobs()`, the float
/// column as `train_loss`, `job-gone` dropped.
fn upgraded() -> Vec<TrainLogRow> {
    let row = |j: &JobRow, epoch, train_loss, train_acc, lr, seconds, images_per_s| TrainLogRow {
        job_id: j.job_id.clone(),
        loss: j.loss.clone(),
        seed: j.seed,
        epoch,
        train_loss,
        train_acc,
        lr,
        seconds,
        images_per_s,
    };
    let [a, b] = jobs();
    vec![
        row(&a, 1, 2.25, 0.5, 0.1, 1.5, 1000.0),
        row(&a, 2, 1.125, 0.75, 0.1, 1.25, 1200.0),
        row(&b, 1, 9.5, 0.25, 0.01, 2.0, 800.0),
    ]
}

fn manifest() -> Manifest {
    serde_json::from_value(serde_json::json!({
        "suite_name": "old", "suite_file": "suites/old.yaml", "run_id": "r",
        "suite": {"name": "old"}, "lossbench_version": "0.1.0",
        "tch_version": "0.26.0", "libtorch_version": "2.13.0", "device": "cpu",
        "git_commit": null, "started_at": "2025-01-01T00:00:00Z",
        "finished_at": "2025-01-01T00:00:10Z", "wall_seconds": 10.0,
        "jobs_total": 2, "jobs_done": 2, "jobs_failed": 0, "jobs_reused": 0,
        "status": "done"
    }))
    .unwrap()
}

/// A run of `jobs()` whose tables hold `log` as their train log (and a
/// clean accuracy per job).
fn new_run(dir: &Path, log: &[TrainLogRow]) {
    let mut store = RunStore::open(dir).unwrap();
    for j in jobs() {
        let rows: Vec<TrainLogRow> = log
            .iter()
            .filter(|r| r.job_id == j.job_id)
            .cloned()
            .collect();
        let acc = MetricRow {
            job_id: j.job_id.clone(),
            dataset: j.dataset.clone(),
            model: j.model.clone(),
            loss: j.loss.clone(),
            seed: j.seed,
            attack: "none".into(),
            detector: "none".into(),
            subset: "clean".into(),
            metric: "clean_acc".into(),
            value: 0.5,
        };
        store.record_job(j, vec![acc], vec![], rows).unwrap();
    }
    store.write_manifest(&manifest()).unwrap();
}

/// A run of `jobs()` with `OLD_CSV` as its train log, as CSV and as the
/// parquet copy the old writer made of it (String, UInt64, Float64 columns),
/// and a jobs table without the `row_counts` column (added later).
fn old_run(dir: &Path) {
    new_run(dir, &[]);
    let jobs = dir.join("jobs.parquet");
    let mut df = ParquetReader::new(std::fs::File::open(&jobs).unwrap())
        .finish()
        .unwrap()
        .drop("row_counts")
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&jobs).unwrap())
        .finish(&mut df)
        .unwrap();
    let csv = dir.join("train_log.csv");
    std::fs::write(&csv, OLD_CSV).unwrap();
    let f = |name: &str, dtype| Field::new(name.into(), dtype);
    let schema = Schema::from_iter([
        f("job_id", DataType::String),
        f("epoch", DataType::UInt64),
        f("loss", DataType::Float64),
        f("train_acc", DataType::Float64),
        f("lr", DataType::Float64),
        f("seconds", DataType::Float64),
        f("images_per_s", DataType::Float64),
    ]);
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .try_into_reader_with_file_path(Some(csv))
        .and_then(|r| r.finish())
        .unwrap();
    assert_eq!(df.height(), 4);
    let file = std::fs::File::create(dir.join("train_log.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
}

fn columns(path: &Path) -> Vec<(String, DataType)> {
    let df = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    df.columns()
        .iter()
        .map(|c| (c.name().to_string(), c.dtype().clone()))
        .collect()
}

#[test]
fn an_old_train_log_reads_with_loss_names_and_seeds_from_jobs() {
    let dir = tempfile::tempdir().unwrap();
    old_run(dir.path());
    let t = RunTables::read(dir.path()).unwrap();
    assert_eq!(t.train_log, upgraded());
    assert_eq!(t.jobs, jobs());
}

/// `lossbench report` on an old run draws what it draws from the same run
/// written today: every file of the report is the same.
#[test]
fn an_old_run_renders_the_same_report() {
    let (old, new) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    old_run(old.path());
    new_run(new.path(), &upgraded());
    let (old_out, new_out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    crate::report::render(old.path(), old_out.path()).unwrap();
    crate::report::render(new.path(), new_out.path()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(new_out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.contains(&"training.svg".to_owned()), "{names:?}");
    for name in &names {
        let read = |d: &Path| std::fs::read_to_string(d.join(name)).unwrap();
        assert!(
            read(old_out.path()) == read(new_out.path()),
            "{name} differs"
        );
    }
}

/// Resuming an old run rewrites its train log in the current schema, the old
/// rows upgraded.
#[test]
fn a_resumed_old_run_rewrites_the_train_log_in_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    old_run(dir.path());
    let mut store = RunStore::open(dir.path()).unwrap();
    let c = job("job-c", "center", 1);
    let mut c_log = upgraded()[..1].to_vec();
    c_log[0].job_id = c.job_id.clone();
    c_log[0].loss = c.loss.clone();
    c_log[0].seed = c.seed;
    store.record_job(c, vec![], vec![], c_log.clone()).unwrap();

    let t = RunTables::read(dir.path()).unwrap();
    assert_eq!(t.train_log, [upgraded(), c_log].concat());
    let want = [
        ("job_id", DataType::String),
        ("loss", DataType::String),
        ("seed", DataType::UInt64),
        ("epoch", DataType::UInt64),
        ("train_loss", DataType::Float64),
        ("train_acc", DataType::Float64),
        ("lr", DataType::Float64),
        ("seconds", DataType::Float64),
        ("images_per_s", DataType::Float64),
    ]
    .map(|(n, d)| (n.to_owned(), d));
    assert_eq!(columns(&dir.path().join("train_log.parquet")), want);
    let csv = std::fs::read_to_string(dir.path().join("train_log.csv")).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("job_id,loss,seed,epoch,train_loss,train_acc,lr,seconds,images_per_s")
    );
}

/// Only the old shape is upgraded: a float `loss` beside a `train_loss` is
/// a mistyped column, named in the error.
#[test]
fn a_float_loss_beside_train_loss_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    old_run(dir.path());
    let path = dir.path().join("train_log.parquet");
    let mut df = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    let train_loss = df.column("loss").unwrap().clone();
    df.with_column(train_loss.with_name("train_loss".into()))
        .unwrap();
    df.with_column(Column::new("seed".into(), vec![0u64; 4]))
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    match RunTables::read(dir.path()).unwrap_err() {
        Error::Results { file, msg } => {
            assert_eq!(file, path);
            assert!(msg.contains("column 'loss' has type f64"), "{msg}");
        }
        other => panic!("expected Error::Results, got {other:?}"),
    }
}
