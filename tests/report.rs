//! Result store (parquet + CSV round trips, resume, replacement, schema
//! errors), manifest, and the rendered report (markdown tables, SVG text).

use std::path::Path;

use lossbench::report::render;
use lossbench::results::{JobRow, Manifest, MetricRow, RocRow, RunStore, RunTables, TrainLogRow};
use lossbench::Error;
use polars::prelude::*;

fn job(id: &str, loss: &str, seed: u64, status: &str) -> JobRow {
    JobRow {
        job_id: id.into(),
        dataset: "synthetic".into(),
        model: "mlp".into(),
        loss: loss.into(),
        seed,
        device: "cpu".into(),
        status: status.into(),
        error: if status == "done" {
            String::new()
        } else {
            "loss diverged (NaN) at epoch 3".into()
        },
        n_train: 512,
        n_test: 128,
        train_seconds: 1.25,
        eval_seconds: 0.5,
        config: r#"{"loss":"x"}"#.into(),
    }
}

fn metric(
    j: &JobRow,
    attack: &str,
    detector: &str,
    subset: &str,
    name: &str,
    value: f64,
) -> MetricRow {
    MetricRow {
        job_id: j.job_id.clone(),
        dataset: j.dataset.clone(),
        model: j.model.clone(),
        loss: j.loss.clone(),
        seed: j.seed,
        attack: attack.into(),
        detector: detector.into(),
        subset: subset.into(),
        metric: name.into(),
        value,
    }
}

fn roc(j: &JobRow, attack: &str, detector: &str, pts: &[(f64, f64, f64)]) -> Vec<RocRow> {
    pts.iter()
        .map(|&(fpr, tpr, threshold)| RocRow {
            job_id: j.job_id.clone(),
            loss: j.loss.clone(),
            seed: j.seed,
            attack: attack.into(),
            detector: detector.into(),
            subset: "successful".into(),
            fpr,
            tpr,
            threshold,
        })
        .collect()
}

fn log(j: &JobRow, epochs: u64) -> Vec<TrainLogRow> {
    (1..=epochs)
        .map(|epoch| TrainLogRow {
            job_id: j.job_id.clone(),
            epoch,
            loss: 1.0 / epoch as f64,
            train_acc: 0.5 + 0.1 * epoch as f64,
            lr: 0.1,
            seconds: 0.25,
            images_per_s: 2048.0,
        })
        .collect()
}

fn manifest() -> Manifest {
    Manifest {
        suite_name: "tiny".into(),
        suite_file: "suites/tiny.yaml".into(),
        run_id: "20250101-000000".into(),
        suite: serde_json::json!({"name": "tiny", "seeds": [0, 1]}),
        lossbench_version: lossbench::VERSION.into(),
        tch_version: "0.26.0".into(),
        libtorch_version: "2.13.0".into(),
        device: "cpu".into(),
        git_commit: Some("abc1234".into()),
        started_at: "2025-01-01T00:00:00Z".into(),
        finished_at: Some("2025-01-01T00:01:02Z".into()),
        wall_seconds: 62.5,
        jobs_total: 5,
        jobs_done: 4,
        jobs_failed: 1,
        jobs_reused: 2,
        status: "done".into(),
    }
}

fn results_err(e: Error) -> (std::path::PathBuf, String) {
    match e {
        Error::Results { file, msg } => (file, msg),
        other => panic!("expected Error::Results, got {other:?}"),
    }
}

#[test]
fn every_table_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("job-a", "softmax", 0, "done");
    let metrics = vec![
        metric(&a, "none", "none", "clean", "clean_acc", 0.9375),
        metric(
            &a,
            "fgsm(eps=0.1)",
            "max-softmax",
            "successful",
            "auroc",
            0.8125,
        ),
    ];
    let curve = roc(
        &a,
        "fgsm(eps=0.1)",
        "max-softmax",
        &[
            (0.0, 0.0, f64::INFINITY),
            (0.25, 0.75, -1.5),
            (1.0, 1.0, f64::NEG_INFINITY),
        ],
    );
    let mut store = RunStore::open(dir.path()).unwrap();
    assert!(store.tables().jobs.is_empty());
    store
        .record_job(a.clone(), metrics.clone(), curve.clone(), log(&a, 3))
        .unwrap();

    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(&back, store.tables());
    assert_eq!(back.jobs, vec![a.clone()]);
    assert_eq!(back.metrics, metrics);
    assert_eq!(back.roc, curve); // ±inf thresholds survive parquet
    assert_eq!(back.train_log, log(&a, 3));
    for name in ["jobs", "metrics", "roc", "train_log"] {
        assert!(
            dir.path().join(format!("{name}.parquet")).is_file(),
            "{name}"
        );
        assert!(dir.path().join(format!("{name}.csv")).is_file(), "{name}");
        assert!(
            !dir.path().join(format!("{name}.parquet.tmp")).exists(),
            "{name}"
        );
    }
}

/// Columns are named after the struct fields, in declaration order (serde
/// serialises fields in that order too), with the documented types.
#[test]
fn columns_follow_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("job-a", "softmax", 0, "done");
    let mut store = RunStore::open(dir.path()).unwrap();
    store
        .record_job(
            a.clone(),
            vec![metric(&a, "none", "none", "clean", "clean_acc", 0.5)],
            roc(&a, "fgsm", "kd", &[(0.0, 0.0, 1.0)]),
            log(&a, 1),
        )
        .unwrap();
    let t = store.tables();
    let cases = [
        ("jobs", serde_json::to_value(&t.jobs[0]).unwrap()),
        ("metrics", serde_json::to_value(&t.metrics[0]).unwrap()),
        ("roc", serde_json::to_value(&t.roc[0]).unwrap()),
        ("train_log", serde_json::to_value(&t.train_log[0]).unwrap()),
    ];
    let json_rows = [
        serde_json::to_string(&t.jobs[0]).unwrap(),
        serde_json::to_string(&t.metrics[0]).unwrap(),
        serde_json::to_string(&t.roc[0]).unwrap(),
        serde_json::to_string(&t.train_log[0]).unwrap(),
    ];
    for ((name, value), json) in cases.iter().zip(&json_rows) {
        let file = std::fs::File::open(dir.path().join(format!("{name}.parquet"))).unwrap();
        let df = ParquetReader::new(file).finish().unwrap();
        let cols: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        // Field order as serde writes it.
        let mut fields: Vec<(usize, String)> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (json.find(&format!("\"{k}\":")).unwrap(), k.clone()))
            .collect();
        fields.sort();
        let fields: Vec<String> = fields.into_iter().map(|(_, k)| k).collect();
        assert_eq!(cols, fields, "{name}");
        let csv = std::fs::read_to_string(dir.path().join(format!("{name}.csv"))).unwrap();
        assert_eq!(
            csv.lines().next().unwrap(),
            fields.join(","),
            "{name}.csv header"
        );
    }
    let file = std::fs::File::open(dir.path().join("jobs.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    assert_eq!(df.column("seed").unwrap().dtype(), &DataType::UInt64);
    assert_eq!(df.column("n_test").unwrap().dtype(), &DataType::UInt64);
    assert_eq!(
        df.column("train_seconds").unwrap().dtype(),
        &DataType::Float64
    );
}

#[test]
fn empty_tables_keep_their_schema() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("job-a", "lgm", 1, "failed");
    let mut store = RunStore::open(dir.path()).unwrap();
    store.record_job(a.clone(), vec![], vec![], vec![]).unwrap();
    let file = std::fs::File::open(dir.path().join("metrics.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    assert_eq!(df.height(), 0);
    assert_eq!(df.width(), 10);
    assert_eq!(df.column("value").unwrap().dtype(), &DataType::Float64);
    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(back.jobs, vec![a]);
    assert!(back.metrics.is_empty() && back.roc.is_empty() && back.train_log.is_empty());
}

#[test]
fn resume_keeps_earlier_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("job-a", "softmax", 0, "done");
    let b = job("job-b", "center", 0, "done");
    {
        let mut store = RunStore::open(dir.path()).unwrap();
        let m = vec![metric(&a, "none", "none", "clean", "clean_acc", 0.9)];
        store.record_job(a.clone(), m, vec![], log(&a, 2)).unwrap();
    }
    let mut store = RunStore::open(dir.path()).unwrap();
    assert_eq!(store.finished("job-a"), Some(&a));
    assert_eq!(store.finished("job-b"), None);
    let m = vec![metric(&b, "none", "none", "clean", "clean_acc", 0.8)];
    store.record_job(b.clone(), m, vec![], log(&b, 2)).unwrap();

    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(back.jobs, vec![a.clone(), b.clone()]);
    assert_eq!(back.metrics.len(), 2);
    assert_eq!(back.train_log.len(), 4);
    assert_eq!(store.dir(), dir.path());
}

#[test]
fn recording_a_job_again_replaces_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("job-a", "softmax", 0, "failed");
    let b = job("job-b", "softmax", 1, "done");
    let mut store = RunStore::open(dir.path()).unwrap();
    store
        .record_job(
            a.clone(),
            vec![metric(&a, "none", "none", "clean", "clean_acc", 0.1)],
            vec![],
            log(&a, 5),
        )
        .unwrap();
    store
        .record_job(
            b.clone(),
            vec![metric(&b, "none", "none", "clean", "clean_acc", 0.7)],
            vec![],
            log(&b, 1),
        )
        .unwrap();
    assert_eq!(
        store.finished("job-a"),
        None,
        "failed jobs are not finished"
    );

    let a2 = job("job-a", "softmax", 0, "done");
    let m2 = vec![metric(&a2, "none", "none", "clean", "clean_acc", 0.9)];
    store
        .record_job(a2.clone(), m2.clone(), vec![], log(&a2, 2))
        .unwrap();
    assert_eq!(store.finished("job-a"), Some(&a2));

    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(back.jobs.iter().filter(|j| j.job_id == "job-a").count(), 1);
    let a_metrics: Vec<_> = back
        .metrics
        .iter()
        .filter(|m| m.job_id == "job-a")
        .collect();
    assert_eq!(a_metrics, m2.iter().collect::<Vec<_>>());
    assert_eq!(
        back.train_log
            .iter()
            .filter(|r| r.job_id == "job-a")
            .count(),
        2
    );
    assert_eq!(
        back.train_log
            .iter()
            .filter(|r| r.job_id == "job-b")
            .count(),
        1
    );
}

#[test]
fn rows_of_another_job_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("job-a", "softmax", 0, "done");
    let b = job("job-b", "softmax", 1, "done");
    let mut store = RunStore::open(dir.path()).unwrap();
    let err = store
        .record_job(
            a,
            vec![metric(&b, "none", "none", "clean", "clean_acc", 0.7)],
            vec![],
            vec![],
        )
        .unwrap_err();
    assert!(err.to_string().contains("job-b"), "{err}");
    assert!(store.tables().jobs.is_empty());
}

fn write_parquet(path: &Path, mut df: DataFrame) {
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
}

#[test]
fn missing_or_mistyped_columns_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = job("job-a", "softmax", 0, "done");
    RunStore::open(dir.path())
        .unwrap()
        .record_job(a, vec![], vec![], vec![])
        .unwrap();

    // metrics.parquet without `value`.
    let path = dir.path().join("metrics.parquet");
    let mut cols: Vec<Column> = ["job_id", "dataset", "model", "loss"]
        .iter()
        .map(|c| Column::new((*c).into(), ["x"]))
        .collect();
    cols.push(Column::new("seed".into(), [0u64]));
    for c in ["attack", "detector", "subset", "metric"] {
        cols.push(Column::new(c.into(), ["x"]));
    }
    write_parquet(&path, DataFrame::new_infer_height(cols.clone()).unwrap());
    let (file, msg) = results_err(RunTables::read(dir.path()).unwrap_err());
    assert_eq!(file, path);
    assert!(msg.contains("missing column 'value'"), "{msg}");

    // `value` as a string.
    cols.push(Column::new("value".into(), ["0.5"]));
    write_parquet(&path, DataFrame::new_infer_height(cols).unwrap());
    let (_, msg) = results_err(RunTables::read(dir.path()).unwrap_err());
    assert!(
        msg.contains("column 'value'") && msg.contains("expected f64"),
        "{msg}"
    );
    let full = RunTables::read(dir.path()).unwrap_err().to_string();
    assert!(full.contains("metrics.parquet"), "{full}");
}

#[test]
fn a_directory_without_jobs_is_not_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let (file, msg) = results_err(RunTables::read(dir.path()).unwrap_err());
    assert_eq!(file, dir.path().join("jobs.parquet"));
    assert!(msg.contains("not a run directory"), "{msg}");
    // render reports the same error rather than an empty report.
    let out = tempfile::tempdir().unwrap();
    assert!(matches!(
        render(dir.path(), out.path()),
        Err(Error::Results { .. })
    ));
}

#[test]
fn manifest_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::open(&dir.path().join("nested/run")).unwrap();
    let m = manifest();
    store.write_manifest(&m).unwrap();
    assert_eq!(Manifest::read(store.dir()).unwrap(), m);
    let text = std::fs::read_to_string(store.dir().join("manifest.json")).unwrap();
    assert!(
        text.contains("\n  \"run_id\": \"20250101-000000\""),
        "pretty JSON: {text}"
    );

    std::fs::write(store.dir().join("manifest.json"), "{\"run_id\": 3}").unwrap();
    let (file, _) = results_err(Manifest::read(store.dir()).unwrap_err());
    assert_eq!(file, store.dir().join("manifest.json"));
}

/// A run with two losses x two seeds, one attack, one detector, one failed job.
fn tiny_run(dir: &Path) {
    let mut store = RunStore::open(dir).unwrap();
    let atk = "fgsm(eps=0.1)";
    // (loss, seed, clean_acc, robust_acc, asr, auroc, aupr)
    let rows = [
        ("softmax", 0, 0.90, 0.30, 0.60, 0.70, 0.75),
        ("softmax", 1, 0.94, 0.40, 0.50, 0.80, 0.85),
        ("lgm", 0, 0.95, 0.50, 0.45, 0.90, 0.91),
        ("lgm", 1, 0.97, 0.60, 0.35, 0.96, 0.97),
    ];
    for (i, &(loss, seed, clean, robust, asr, auroc, aupr)) in rows.iter().enumerate() {
        let j = job(&format!("job-{i}"), loss, seed, "done");
        let m = vec![
            metric(&j, "none", "none", "clean", "clean_acc", clean),
            metric(&j, atk, "none", "all", "robust_acc", robust),
            metric(&j, atk, "none", "all", "asr", asr),
            metric(&j, atk, "max-softmax", "successful", "auroc", auroc),
            metric(&j, atk, "max-softmax", "successful", "aupr", aupr),
        ];
        let r = roc(
            &j,
            atk,
            "max-softmax",
            &[
                (0.0, 0.0, f64::INFINITY),
                (0.2, auroc, 0.5),
                (1.0, 1.0, -1.0),
            ],
        );
        store.record_job(j.clone(), m, r, log(&j, 2)).unwrap();
    }
    store
        .record_job(job("job-x", "center", 0, "failed"), vec![], vec![], vec![])
        .unwrap();
    store.write_manifest(&manifest()).unwrap();
}

#[test]
fn report_tables_and_plot() {
    let run = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_run(run.path());
    let md_path = render(run.path(), &out.path().join("report")).unwrap();
    assert_eq!(md_path, out.path().join("report/report.md"));
    let md = std::fs::read_to_string(&md_path).unwrap();

    // Header.
    for want in [
        "# lossbench report: tiny",
        "| run id | 20250101-000000 |",
        "| device | cpu |",
        "| git commit | abc1234 |",
        "| wall time | 62.5 s |",
        "| jobs | 5 total: 4 done, 1 failed, 2 reused |",
    ] {
        assert!(md.contains(want), "missing {want:?} in\n{md}");
    }
    assert!(md.contains(&format!(
        "| lossbench | {} (tch 0.26.0, libtorch 2.13.0) |",
        lossbench::VERSION
    )));

    // Hand-computed: two seeds a, b give mean (a+b)/2 and sample std |a−b|/√2.
    //   softmax clean 0.90, 0.94 → 0.9200 ± 0.0283;  lgm 0.95, 0.97 → 0.9600 ± 0.0141
    //   softmax robust 0.30, 0.40 → 0.3500 ± 0.0707; asr 0.60, 0.50 → 0.5500 ± 0.0707
    //   lgm robust 0.50, 0.60 → 0.5500 ± 0.0707;     asr 0.45, 0.35 → 0.4000 ± 0.0707
    //   softmax auroc 0.70, 0.80 → 0.7500 ± 0.0707;  aupr 0.75, 0.85 → 0.8000 ± 0.0707
    //   lgm auroc 0.90, 0.96 → 0.9300 ± 0.0424;      aupr 0.91, 0.97 → 0.9400 ± 0.0424
    // softmax comes before lgm (fixed loss order), whatever the job order.
    let lines = [
        "| dataset | model | loss | clean_acc |",
        "| synthetic | mlp | softmax | 0.9200 ± 0.0283 (n=2) |",
        "| synthetic | mlp | lgm | 0.9600 ± 0.0141 (n=2) |",
        "| dataset | model | loss | attack | robust_acc | asr |",
        "| synthetic | mlp | softmax | fgsm(eps=0.1) | 0.3500 ± 0.0707 (n=2) | 0.5500 ± 0.0707 (n=2) |",
        "| synthetic | mlp | lgm | fgsm(eps=0.1) | 0.5500 ± 0.0707 (n=2) | 0.4000 ± 0.0707 (n=2) |",
        "| dataset | model | loss | attack | detector | auroc | aupr |",
        "| synthetic | mlp | softmax | fgsm(eps=0.1) | max-softmax | 0.7500 ± 0.0707 (n=2) | 0.8000 ± 0.0707 (n=2) |",
        "| synthetic | mlp | lgm | fgsm(eps=0.1) | max-softmax | 0.9300 ± 0.0424 (n=2) | 0.9400 ± 0.0424 (n=2) |",
        "- `job-x` (synthetic / mlp / center, seed 0): failed: loss diverged (NaN) at epoch 3",
        "![ROC, fgsm(eps=0.1)](roc_fgsm_eps_0.1.svg)",
    ];
    let md_lines: Vec<&str> = md.lines().collect();
    for want in lines {
        assert!(md_lines.contains(&want), "missing line {want:?} in\n{md}");
    }
    let pos = |s: &str| md.find(s).unwrap();
    assert!(pos("| softmax | 0.9200") < pos("| lgm | 0.9600"));

    // The plot: title, axes, legend entries (lowest seed), chance line.
    let svg = std::fs::read_to_string(out.path().join("report/roc_fgsm_eps_0.1.svg")).unwrap();
    for want in [
        "<svg",
        "ROC: fgsm(eps=0.1)",
        "false positive rate",
        "true positive rate",
        "softmax / max-softmax (seed 0)",
        "lgm / max-softmax (seed 0)",
        "chance",
    ] {
        assert!(svg.contains(want), "missing {want:?} in the SVG");
    }
    assert!(!svg.contains("(seed 1)"));
    // softmax is drawn in the first palette colour, lgm in the fourth.
    assert!(
        svg.contains("#1F77B4") || svg.contains("#1f77b4"),
        "softmax colour"
    );
    assert!(
        svg.contains("#D62728") || svg.contains("#d62728"),
        "lgm colour"
    );
}

#[test]
fn report_without_attacks_or_failures() {
    let run = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(run.path()).unwrap();
    let j = job("only", "softmax", 7, "done");
    let m = vec![metric(&j, "none", "none", "clean", "clean_acc", 0.5)];
    store.record_job(j, m, vec![], vec![]).unwrap();
    store.write_manifest(&manifest()).unwrap();
    let md = std::fs::read_to_string(render(run.path(), run.path()).unwrap()).unwrap();
    assert!(
        md.contains("| synthetic | mlp | softmax | 0.5000 ± 0.0000 (n=1) |"),
        "{md}"
    );
    assert!(md.contains("## Failed jobs\n\nNone."), "{md}");
    assert!(md.contains("No ROC curves recorded."), "{md}");
    assert!(!run.path().read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".svg")));
}
