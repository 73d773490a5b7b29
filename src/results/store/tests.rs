//! The commit point of a table write (see the module doc): a write killed
//! between any two renames leaves the earlier jobs whole and the new job
//! neither finished nor visible.

use super::{RunStore, RunTables};
use crate::results::schema::{
    ExampleRow, FeatureRow, JobRow, JobStatus, MetricRow, RocRow, ScoreRow, TrainLogRow,
};
use crate::Error;

/// One row in every table for job `id` (its job row counting them, as
/// recorded); `value` tells two jobs' rows apart.
fn rows(id: &str, value: f64) -> RunTables {
    let s = |v: &str| v.to_string();
    let mut t = RunTables {
        jobs: vec![JobRow {
            job_id: s(id),
            dataset: s("synthetic"),
            model: s("mlp"),
            loss: s("softmax"),
            seed: 0,
            device: s("cpu"),
            status: JobStatus::Done,
            error: String::new(),
            notes: String::new(),
            n_train: 8,
            n_test: 4,
            train_seconds: value,
            eval_seconds: value,
            config: s("{}"),
            row_counts: String::new(),
        }],
        metrics: vec![MetricRow {
            job_id: s(id),
            dataset: s("synthetic"),
            model: s("mlp"),
            loss: s("softmax"),
            seed: 0,
            attack: s("none"),
            detector: s("none"),
            subset: s("clean"),
            metric: s("clean_acc"),
            value,
        }],
        roc: vec![RocRow {
            job_id: s(id),
            loss: s("softmax"),
            seed: 0,
            attack: s("fgsm eps=0.1"),
            detector: s("max-softmax"),
            subset: s("all"),
            fpr: 0.0,
            tpr: value,
            threshold: 1.0,
        }],
        train_log: vec![TrainLogRow {
            job_id: s(id),
            loss: s("softmax"),
            seed: 0,
            epoch: 1,
            train_loss: value,
            train_acc: value,
            lr: 0.01,
            seconds: 1.0,
            images_per_s: 8.0,
        }],
        features: vec![FeatureRow {
            job_id: s(id),
            loss: s("softmax"),
            seed: 0,
            sample: 0,
            label: 1,
            pred: 1,
            dim: 0,
            value,
        }],
        scores: vec![ScoreRow {
            job_id: s(id),
            loss: s("softmax"),
            seed: 0,
            attack: s("fgsm eps=0.1"),
            detector: s("max-softmax"),
            sample: 0,
            kind: s("clean"),
            success: 1,
            split: s("test"),
            score: value,
        }],
        examples: vec![ExampleRow {
            job_id: s(id),
            loss: s("softmax"),
            seed: 0,
            attack: s("fgsm eps=0.1"),
            sample: 0,
            label: 1,
            pred_adv: 2,
            kind: s("clean"),
            channels: 1,
            height: 1,
            width: 1,
            pixels: s("ff"),
        }],
    };
    // As `record` fills it in.
    t.jobs[0].row_counts = serde_json::to_string(&t.row_counts(id)).unwrap();
    t
}

/// The rows of job `id` in every table.
fn only(t: &RunTables, id: &str) -> RunTables {
    let mut t = t.clone();
    t.jobs.retain(|r| r.job_id == id);
    t.metrics.retain(|r| r.job_id == id);
    t.roc.retain(|r| r.job_id == id);
    t.train_log.retain(|r| r.job_id == id);
    t.features.retain(|r| r.job_id == id);
    t.scores.retain(|r| r.job_id == id);
    t.examples.retain(|r| r.job_id == id);
    t
}

#[test]
fn a_write_killed_between_renames_leaves_the_new_job_unfinished_and_unseen() {
    // One write replaces both files of every table, `jobs.parquet` last.
    let mut files = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    RunStore::open(dir.path())
        .unwrap()
        .record_with(rows("a", 0.9), &mut |path| {
            files.push(path.file_name().unwrap().to_string_lossy().into_owned());
            Ok(())
        })
        .unwrap();
    assert_eq!(files.len(), 14, "{files:?}");
    assert_eq!(files.last().unwrap(), "jobs.parquet", "{files:?}");

    // Job b's write killed after `k` renames, for every k.
    for k in 0..=files.len() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = RunStore::open(dir.path()).unwrap();
        store.record(rows("a", 0.9)).unwrap();
        let mut renamed = 0;
        let written = store.record_with(rows("b", 0.7), &mut |path| {
            if renamed == k {
                return Err(Error::Usage(format!("killed before {}", path.display())));
            }
            renamed += 1;
            Ok(())
        });
        assert_eq!(written.is_ok(), k == files.len(), "{k}: {written:?}");

        let back = RunStore::open(dir.path()).unwrap();
        let seen = back.tables();
        assert_eq!(only(seen, "a"), rows("a", 0.9), "killed after {k} renames");
        if k < files.len() {
            assert_eq!(back.finished("b"), None, "killed after {k} renames");
            assert_eq!(only(seen, "b"), RunTables::default(), "killed after {k}");
        } else {
            assert_eq!(back.finished("b"), Some(&rows("b", 0.7).jobs[0]));
            assert_eq!(only(seen, "b"), rows("b", 0.7));
        }
    }
}

/// A job that failed in an earlier run and is retried: a write of the retry
/// killed before its commit point leaves the failed job row, and its new
/// rows must not count beside it.
#[test]
fn a_killed_retry_of_a_failed_job_shows_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(dir.path()).unwrap();
    store.record(rows("a", 0.9)).unwrap();
    let mut failed = rows("b", 0.0).jobs;
    failed[0].status = JobStatus::Failed;
    failed[0].row_counts = serde_json::to_string(&RunTables::default().row_counts("b")).unwrap();
    failed[0].error = "loss diverged".into();
    store
        .record(RunTables {
            jobs: failed.clone(),
            ..RunTables::default()
        })
        .unwrap();
    // The retry's write is killed just before `jobs.parquet`.
    let written = store.record_with(rows("b", 0.7), &mut |path| {
        if path.ends_with("jobs.parquet") {
            return Err(Error::Usage("killed".into()));
        }
        Ok(())
    });
    assert!(written.is_err());

    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(only(&back, "a"), rows("a", 0.9));
    let b = only(&back, "b");
    assert_eq!(b.jobs, failed, "the failed row stays");
    assert!(
        b.metrics.is_empty() && b.train_log.is_empty() && b.scores.is_empty(),
        "{b:?}"
    );
    let done = RunTables::committed_jobs(dir.path()).unwrap().unwrap();
    assert_eq!(done, ["a".to_string()].into_iter().collect());
    assert!(RunTables::committed_jobs(&dir.path().join("nowhere"))
        .unwrap()
        .is_none());
}

/// The run directory with jobs `a` and `b` recorded.
fn two_jobs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(dir.path()).unwrap();
    store.record(rows("a", 0.9)).unwrap();
    store.record(rows("b", 0.7)).unwrap();
    dir
}

#[test]
fn a_done_job_whose_rows_are_gone_is_not_finished() {
    let dir = two_jobs();
    std::fs::remove_file(dir.path().join("metrics.parquet")).unwrap();
    let store = RunStore::open(dir.path()).unwrap();
    for id in ["a", "b"] {
        assert_eq!(store.finished(id), None, "{id}");
        let job = store.job(id).unwrap();
        assert_eq!(job.status, JobStatus::Incomplete);
        assert!(
            job.error.contains("metrics has 0 of its 1 rows"),
            "{}",
            job.error
        );
    }
    // Its other rows do not count either (they would be double after the
    // job is recomputed).
    assert!(store.tables().roc.is_empty() && store.tables().scores.is_empty());
}

#[test]
fn a_table_that_lost_one_jobs_rows_marks_only_that_job() {
    let dir = two_jobs();
    // The scores table as it was before `b` was recorded.
    let mut t = RunTables::read(dir.path()).unwrap();
    t.scores.retain(|r| r.job_id == "a");
    let mut staged = Vec::new();
    super::stage_table(dir.path(), &t.scores, &mut staged).unwrap();
    for (tmp, path) in staged {
        std::fs::rename(tmp, path).unwrap();
    }
    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(only(&back, "a"), rows("a", 0.9));
    let b = &only(&back, "b").jobs[0];
    assert_eq!(b.status, JobStatus::Incomplete);
    assert!(
        b.error.contains("scores has 0 of its 1 rows"),
        "{}",
        b.error
    );
}

#[test]
fn an_unreadable_table_is_refused_by_readers_and_set_aside_by_a_resume() {
    let dir = two_jobs();
    let metrics = dir.path().join("metrics.parquet");
    std::fs::write(&metrics, b"PAR1 not really parquet").unwrap();
    match RunTables::read(dir.path()).unwrap_err() {
        Error::Results { file, .. } => assert_eq!(file, metrics),
        other => panic!("expected Error::Results, got {other:?}"),
    }
    let store = RunStore::open(dir.path()).unwrap();
    assert_eq!(store.recovered().len(), 1, "{:?}", store.recovered());
    assert!(store.recovered()[0].contains("metrics.parquet.unreadable"));
    assert!(dir.path().join("metrics.parquet.unreadable").is_file());
    assert!(dir.path().join("metrics.csv.unreadable").is_file());
    assert_eq!(store.finished("a"), None);
    assert_eq!(store.finished("b"), None);
}

#[test]
fn writers_in_one_directory_keep_each_others_jobs() {
    let dir = tempfile::tempdir().unwrap();
    // A temp file of a writer that died mid-write.
    let stale = dir.path().join("metrics.parquet.999999-0.tmp");
    std::fs::write(&stale, b"half").unwrap();
    std::thread::scope(|s| {
        for w in 0..4 {
            let dir = dir.path();
            s.spawn(move || {
                let mut store = RunStore::open(dir).unwrap();
                for j in 0..6 {
                    store
                        .record(rows(&format!("w{w}j{j}"), f64::from(w * 10 + j)))
                        .unwrap();
                }
            });
        }
    });
    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(back.jobs.len(), 24);
    for w in 0..4 {
        for j in 0..6 {
            let id = format!("w{w}j{j}");
            assert_eq!(only(&back, &id), rows(&id, f64::from(w * 10 + j)), "{id}");
        }
    }
    assert!(!stale.exists());
    let temps: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}
