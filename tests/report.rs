//! Result store (parquet + CSV round trips, resume, replacement, schema
//! errors), manifest, and the rendered report: `report.md` as an insta
//! snapshot (`tests/snapshots/report__*.snap`), every plot checked for its
//! title, axis labels and legend entries (SVG text), `index.html` for being
//! self-contained. `tests/report_browser.rs` opens the page in Chromium.

use std::path::Path;

use lossbench::report::render;
use lossbench::results::{
    ExampleRow, FeatureRow, JobRow, Manifest, MetricRow, RocRow, RunStore, RunTables, ScoreRow,
    TrainLogRow,
};
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
        status: lossbench::results::JobStatus::parse(status).expect("a job status"),
        error: if status == "done" {
            String::new()
        } else {
            "loss diverged (NaN) at epoch 3".into()
        },
        notes: if loss == "softmax" {
            "detector 'lgm-likelihood' skipped: needs an lgm head".into()
        } else {
            String::new()
        },
        n_train: 512,
        n_test: 128,
        train_seconds: 1.25,
        eval_seconds: 0.5,
        config: r#"{"loss":"x"}"#.into(),
        row_counts: String::new(),
    }
}

/// `j` as the store records it: with the count of its rows in `t`.
fn recorded(j: &JobRow, t: &RunTables) -> JobRow {
    let mut j = j.clone();
    j.row_counts = serde_json::to_string(&t.row_counts(&j.job_id)).unwrap();
    j
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
            loss: j.loss.clone(),
            seed: j.seed,
            epoch,
            train_loss: 1.0 / epoch as f64,
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
        status: lossbench::results::RunStatus::Done,
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
    // A seed other than 0, so a seed column lost on the way reads wrong.
    let a = job("job-a", "softmax", 3, "done");
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
    assert_eq!(back.jobs, vec![recorded(&a, &back)]);
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
    assert_eq!(back.jobs, vec![recorded(&a, &back)]);
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
    assert_eq!(store.finished("job-a"), Some(&recorded(&a, store.tables())));
    assert_eq!(store.finished("job-b"), None);
    let m = vec![metric(&b, "none", "none", "clean", "clean_acc", 0.8)];
    store.record_job(b.clone(), m, vec![], log(&b, 2)).unwrap();

    let back = RunTables::read(dir.path()).unwrap();
    assert_eq!(back.jobs, vec![recorded(&a, &back), recorded(&b, &back)]);
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
    assert_eq!(
        store.finished("job-a"),
        Some(&recorded(&a2, store.tables()))
    );

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

/// A run directory holding one finished job and nothing else.
fn one_job_run() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    RunStore::open(dir.path())
        .unwrap()
        .record_job(job("job-a", "softmax", 0, "done"), vec![], vec![], vec![])
        .unwrap();
    dir
}

#[test]
fn missing_or_mistyped_columns_are_named() {
    let dir = one_job_run();

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

const FGSM: &str = "fgsm(eps=0.1)";
const BIM: [&str; 2] = [
    "bim(eps=0.1,a=0.01,T=10,stop=first)",
    "bim(eps=0.2,a=0.01,T=10,stop=first)",
];

/// The feature, score and example rows of one job: softmax has 3-D features
/// (the plot goes through PCA), lgm 2-D (drawn as they are).
fn job_samples(j: &JobRow, shift: f64) -> (Vec<FeatureRow>, Vec<ScoreRow>, Vec<ExampleRow>) {
    let dims = if j.loss == "softmax" { 3 } else { 2 };
    let mut features = Vec::new();
    for sample in 0..8u64 {
        let label = sample % 2;
        for dim in 0..dims {
            features.push(FeatureRow {
                job_id: j.job_id.clone(),
                loss: j.loss.clone(),
                seed: j.seed,
                sample,
                label,
                pred: label,
                dim,
                value: (label as f64) * 4.0 + (sample * (dim + 1)) as f64 * 0.25 - shift,
            });
        }
    }
    let mut scores = Vec::new();
    for sample in 0..6u64 {
        let split = if sample < 2 { "fit" } else { "test" };
        for (kind, base) in [("clean", 0.1), ("adversarial", 0.6)] {
            scores.push(ScoreRow {
                job_id: j.job_id.clone(),
                loss: j.loss.clone(),
                seed: j.seed,
                attack: FGSM.into(),
                detector: "max-softmax".into(),
                sample,
                kind: kind.into(),
                success: u64::from(sample != 5),
                split: split.into(),
                score: base + 0.05 * sample as f64 + shift,
            });
        }
    }
    let mut examples = Vec::new();
    for (sample, pred_adv) in [(3u64, 0u64), (4, 1)] {
        for (kind, pixels) in [
            ("clean", "00408000"),
            ("adversarial", "1a5a9a1a"),
            ("perturbation", "a6a6a6a6"),
        ] {
            examples.push(ExampleRow {
                job_id: j.job_id.clone(),
                loss: j.loss.clone(),
                seed: j.seed,
                attack: FGSM.into(),
                sample,
                label: 1,
                pred_adv,
                kind: kind.into(),
                channels: 1,
                height: 2,
                width: 2,
                pixels: pixels.into(),
            });
        }
    }
    (features, scores, examples)
}

/// A run with two losses x two seeds, FGSM and two BIM budgets, one
/// detector, every table filled, and one failed job.
fn tiny_run(dir: &Path) {
    let mut store = RunStore::open(dir).unwrap();
    // (loss, seed, clean_acc, robust_acc, asr, auroc, aupr)
    let rows = [
        ("softmax", 0, 0.90, 0.30, 0.60, 0.70, 0.75),
        ("softmax", 1, 0.94, 0.40, 0.50, 0.80, 0.85),
        ("lgm", 0, 0.95, 0.50, 0.45, 0.90, 0.91),
        ("lgm", 1, 0.97, 0.60, 0.35, 0.96, 0.97),
    ];
    for (i, &(loss, seed, clean, robust, asr, auroc, aupr)) in rows.iter().enumerate() {
        let j = job(&format!("job-{i}"), loss, seed, "done");
        let mut m = vec![
            metric(&j, "none", "none", "clean", "clean_acc", clean),
            metric(&j, FGSM, "none", "all", "n_eval", 120.0 + seed as f64),
            metric(&j, FGSM, "none", "all", "robust_acc", robust),
            metric(&j, FGSM, "none", "all", "asr", asr),
            metric(
                &j,
                FGSM,
                "none",
                "successful",
                "l2_mean",
                1.5 + 0.25 * seed as f64,
            ),
            metric(&j, FGSM, "none", "all", "seconds", 2.0 + seed as f64),
            metric(
                &j,
                FGSM,
                "none",
                "all",
                "images_per_s",
                60.0 - 20.0 * seed as f64,
            ),
            metric(&j, FGSM, "max-softmax", "successful", "auroc", auroc),
            metric(&j, FGSM, "max-softmax", "successful", "aupr", aupr),
            metric(
                &j,
                FGSM,
                "max-softmax",
                "successful",
                "auroc_ci_low",
                auroc - 0.1,
            ),
            metric(
                &j,
                FGSM,
                "max-softmax",
                "successful",
                "auroc_ci_high",
                auroc + 0.02,
            ),
            metric(&j, FGSM, "max-softmax", "successful", "n_pairs", 40.0),
        ];
        // One seed without norms (no successful example): a cell with n=1.
        if loss == "lgm" && seed == 1 {
            m.retain(|r| r.metric != "l2_mean");
        }
        for (k, bim) in BIM.iter().enumerate() {
            let r = robust * 0.5 / (k + 1) as f64;
            m.push(metric(&j, bim, "none", "all", "robust_acc", r));
        }
        let r = roc(
            &j,
            FGSM,
            "max-softmax",
            &[
                (0.0, 0.0, f64::INFINITY),
                (0.2, auroc, 0.5),
                (1.0, 1.0, -1.0),
            ],
        );
        let (features, scores, examples) = job_samples(&j, i as f64);
        store
            .record(RunTables {
                jobs: vec![j.clone()],
                metrics: m,
                roc: r,
                train_log: log(&j, 2),
                features,
                scores,
                examples,
            })
            .unwrap();
    }
    store
        .record_job(job("job-x", "center", 0, "failed"), vec![], vec![], vec![])
        .unwrap();
    store.write_manifest(&manifest()).unwrap();
}

/// The report's text with the lossbench version masked, so that a version
/// bump leaves the snapshot alone.
fn masked(md: &str) -> String {
    md.replace(lossbench::VERSION, "[version]")
}

fn assert_svg_has(svg: &str, file: &str, wants: &[&str]) {
    assert!(svg.starts_with("<svg"), "{file} is not an SVG document");
    for want in wants {
        assert!(svg.contains(want), "missing {want:?} in {file}");
    }
}

#[test]
fn report_markdown_snapshot() {
    let run = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_run(run.path());
    let md_path = render(run.path(), &out.path().join("report")).unwrap();
    assert_eq!(md_path, out.path().join("report/report.md"));
    let md = std::fs::read_to_string(&md_path).unwrap();
    insta::assert_snapshot!("report_md", masked(&md));
}

#[test]
fn report_tables() {
    let run = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_run(run.path());
    let md = std::fs::read_to_string(render(run.path(), out.path()).unwrap()).unwrap();

    // Hand-computed: two seeds a, b give mean (a+b)/2 and sample std |a−b|/√2.
    //   softmax clean 0.90, 0.94 → 0.9200 ± 0.0283;  lgm 0.95, 0.97 → 0.9600 ± 0.0141
    //   softmax robust 0.30, 0.40 → 0.3500 ± 0.0707; asr 0.60, 0.50 → 0.5500 ± 0.0707
    //   lgm robust 0.50, 0.60 → 0.5500 ± 0.0707;     asr 0.45, 0.35 → 0.4000 ± 0.0707
    //   l2_mean 1.5, 1.75 → 1.6250 ± 0.1768 (lgm: seed 0 only, 1.5000 (n=1));
    //   n_eval 120, 121 → 120.5 ± 0.7
    //   softmax auroc 0.70, 0.80 → 0.7500 ± 0.0707;  aupr 0.75, 0.85 → 0.8000 ± 0.0707
    //   lgm auroc 0.90, 0.96 → 0.9300 ± 0.0424;      aupr 0.91, 0.97 → 0.9400 ± 0.0424
    //   CI: softmax [0.65, 0.77], lgm [0.83, 0.95]; n_pairs 40 in every seed → 40
    //   timing: seconds 2, 3 → 2.50; images_per_s 60, 40 → 50
    // softmax comes before lgm (fixed loss order), whatever the job order.
    let lines = [
        "| loss | seeds | clean_acc |",
        "| softmax | 2 | 0.9200 ± 0.0283 |",
        "| lgm | 2 | 0.9600 ± 0.0141 |",
        "| loss | attack | seeds | robust_acc | asr | l2_mean | n_eval |",
        "| softmax | fgsm(eps=0.1) | 2 | 0.3500 ± 0.0707 | 0.5500 ± 0.0707 | 1.6250 ± 0.1768 | 120.5 ± 0.7 |",
        "| lgm | fgsm(eps=0.1) | 2 | 0.5500 ± 0.0707 | 0.4000 ± 0.0707 | 1.5000 (n=1) | 120.5 ± 0.7 |",
        "| loss | attack | detector | seeds | auroc | aupr | auroc 95 % CI | n_pairs |",
        "| softmax | fgsm(eps=0.1) | max-softmax | 2 | 0.7500 ± 0.0707 | 0.8000 ± 0.0707 | [0.6500, 0.7700] | 40 |",
        "| lgm | fgsm(eps=0.1) | max-softmax | 2 | 0.9300 ± 0.0424 | 0.9400 ± 0.0424 | [0.8300, 0.9500] | 40 |",
        "| loss | attack | seconds | images_per_s |",
        "| softmax | fgsm(eps=0.1) | 2.50 | 50 |",
        "- `job-x` (synthetic / mlp / center, seed 0): failed: loss diverged (NaN) at epoch 3",
        "![ROC: fgsm(eps=0.1)](roc_fgsm_eps_0.1.svg)",
        "![Training curves](training.svg)",
        "![Robust accuracy vs ε: fgsm](robust_acc_fgsm.svg)",
        "![Robust accuracy vs ε: bim(a=0.01,T=10,stop=first)](robust_acc_bim_a_0.01_T_10_stop_first.svg)",
        "![Scores: max-softmax, fgsm(eps=0.1)](scores_max-softmax_fgsm_eps_0.1.svg)",
        "![Features: softmax (seed 0, PCA of 3-D)](features_softmax.svg)",
        "![Features: lgm (seed 0, 2-D)](features_lgm.svg)",
        "![Adversarial examples: fgsm(eps=0.1)](examples_fgsm_eps_0.1.svg)",
    ];
    let md_lines: Vec<&str> = md.lines().collect();
    // One dataset / model pair: in the header, not in the tables.
    assert!(
        md_lines.contains(&"| dataset / model | synthetic / mlp |"),
        "{md}"
    );
    for want in lines {
        assert!(md_lines.contains(&want), "missing line {want:?} in\n{md}");
    }
    assert!(md.contains("| loss | train_seconds | eval_seconds | train images_per_s |"));
    assert!(md.contains("| softmax | 1.2 | 0.5 | 2048 |"), "{md}");
    let pos = |s: &str| md.find(s).unwrap();
    assert!(pos("| softmax | 2 | 0.9200") < pos("| lgm | 2 | 0.9600"));
    // Timings stay out of the attack table; counts that agree print as integers.
    let attack_table = &md[pos("## Attacks")..pos("## Detection")];
    assert!(!attack_table.contains("seconds") && !attack_table.contains("images_per_s"));
    assert!(!md.contains("40.0000"), "counts without decimals");
}

#[test]
fn report_plots_are_labelled() {
    let run = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_run(run.path());
    render(run.path(), out.path()).unwrap();
    let read = |f: &'static str| {
        let svg =
            std::fs::read_to_string(out.path().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        (svg, f)
    };

    // ROC: title, axes, legend entries (lowest seed, named once), chance line.
    let (svg, f) = read("roc_fgsm_eps_0.1.svg");
    assert_svg_has(
        &svg,
        f,
        &[
            "ROC: fgsm(eps=0.1)",
            "false positive rate",
            "true positive rate",
            "loss / detector (seed 0)",
            "softmax / max-softmax",
            "lgm / max-softmax",
            "chance",
        ],
    );
    assert!(!svg.contains("seed 1"));
    // Loss colours: softmax the first palette colour, lgm the fourth, in every plot.
    let has = |svg: &str, hex: &str| svg.contains(hex) || svg.contains(&hex.to_lowercase());
    for f in [
        "roc_fgsm_eps_0.1.svg",
        "training.svg",
        "robust_acc_fgsm.svg",
    ] {
        let (svg, _) = read(f);
        assert!(has(&svg, "#1F77B4"), "softmax colour in {f}");
        assert!(has(&svg, "#D62728"), "lgm colour in {f}");
    }

    let (svg, f) = read("training.svg");
    assert_svg_has(
        &svg,
        f,
        &[
            "Training curves",
            "training loss",
            "training accuracy",
            "epoch",
            "train accuracy",
            "loss (seed)",
            "softmax (seed 0)",
            "softmax (seed 1)",
            "lgm (seed 1)",
        ],
    );

    for (f, title) in [
        ("robust_acc_fgsm.svg", "Robust accuracy vs ε: fgsm"),
        (
            "robust_acc_bim_a_0.01_T_10_stop_first.svg",
            "Robust accuracy vs ε: bim(a=0.01,T=10,stop=first)",
        ),
    ] {
        let (svg, f) = read(f);
        assert_svg_has(
            &svg,
            f,
            &[title, "ε (L∞ budget)", "robust accuracy", "softmax", "lgm"],
        );
    }

    let (svg, f) = read("scores_max-softmax_fgsm_eps_0.1.svg");
    assert_svg_has(
        &svg,
        f,
        &[
            "Scores: max-softmax, fgsm(eps=0.1)",
            "detector score",
            "fraction of group",
            "clean",
            "softmax: adversarial",
            "lgm: adversarial",
            // Test split, successful pairs only: samples 2, 3, 4.
            "softmax (seed 0, 3 pairs)",
        ],
    );

    let (svg, f) = read("features_softmax.svg");
    assert_svg_has(
        &svg,
        f,
        &[
            "Features: softmax (seed 0, PCA of 3-D)",
            "PC 1 (",
            "PC 2 (",
            "% of variance)",
            "true class",
            "class 0",
            "class 1",
        ],
    );
    let (svg, f) = read("features_lgm.svg");
    assert_svg_has(
        &svg,
        f,
        &[
            "Features: lgm (seed 0, 2-D)",
            "feature 0",
            "feature 1",
            "class 1",
        ],
    );

    let (svg, f) = read("examples_fgsm_eps_0.1.svg");
    assert_svg_has(
        &svg,
        f,
        &[
            "Adversarial examples: fgsm(eps=0.1)",
            "softmax (seed 0)",
            "lgm (seed 0)",
            "clean",
            "adversarial",
            "perturbation",
            "y=1",
            "pred 0",
            "pred 1",
        ],
    );
    // 2 losses x 2 samples x 3 kinds, each a PNG data URI.
    assert_eq!(svg.matches("href=\"data:image/png;base64,").count(), 12);
}

#[test]
fn index_html_is_self_contained() {
    let run = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_run(run.path());
    render(run.path(), out.path()).unwrap();
    let html = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    let svg_files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    assert_eq!(svg_files.len(), 8, "{svg_files:?}");
    // Every plot inline, and the page says how many to expect.
    assert_eq!(html.matches("<figure aria-label=").count(), svg_files.len());
    assert_eq!(html.matches("<svg ").count(), svg_files.len());
    assert!(html.contains(&format!("data-expected-plots=\"{}\"", svg_files.len())));
    assert!(html.contains("data-expected-images=\"12\""));
    // The same tables as the Markdown.
    for want in [
        "<h1>lossbench report: tiny</h1>",
        "<th class=\"num\">clean_acc</th>",
        "<td class=\"num\">0.9200 ± 0.0283</td>",
        "<th class=\"num\">auroc 95 % CI</th>",
        "<a href=\"#timing\">Timing</a>",
        "<code>job-x</code>",
    ] {
        assert!(html.contains(want), "missing {want:?} in index.html");
    }
    // Nothing to fetch: every src/href is a data URI or an anchor.
    for attr in [" src=\"", " href=\""] {
        for (i, _) in html.match_indices(attr) {
            let value = &html[i + attr.len()..];
            assert!(
                value.starts_with("data:") || value.starts_with('#'),
                "external reference: {}",
                &value[..value.len().min(60)]
            );
        }
    }
    assert!(!html.contains("<link") && !html.contains("@import"));
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
    // One seed: the value alone.
    assert!(md.contains("| softmax | 1 | 0.5000 |"), "{md}");
    assert!(md.contains("## Failed jobs\n\nNone."), "{md}");
    for missing in [
        "No ROC curves of adversarial examples recorded.",
        "No training log recorded.",
        "No attack with an ε recorded.",
        "No detector scores of adversarial examples recorded",
        "No features recorded.",
        "No adversarial examples recorded.",
    ] {
        assert!(md.contains(missing), "{missing:?} in\n{md}");
    }
    assert!(!run.path().read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".svg")));
    let html = std::fs::read_to_string(run.path().join("index.html")).unwrap();
    assert!(html.contains("data-expected-plots=\"0\""));
}

#[test]
fn lgm_rows_name_their_covariance_and_the_mixture_fit_has_a_section() {
    let run = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(run.path()).unwrap();
    let soft = job("soft", "softmax", 0, "done");
    let mut lgm = job("lgm0", "lgm", 0, "done");
    // The resolved loss as the runner writes it into `config`.
    lgm.config = serde_json::json!({
        "loss": {"lgm": {"alpha": 0.1, "lambda": 0.1, "covariance": "diagonal",
                         "log-var-floor": -6.0, "warmup-epochs": 0}},
    })
    .to_string();
    let mut lgm1 = lgm.clone();
    lgm1.job_id = "lgm1".into();
    lgm1.seed = 1;
    store
        .record_job(
            soft.clone(),
            vec![metric(&soft, "none", "none", "clean", "clean_acc", 0.5)],
            vec![],
            vec![],
        )
        .unwrap();
    for (j, d) in [(&lgm, 0.25), (&lgm1, 0.75)] {
        let m = vec![
            metric(j, "none", "none", "clean", "clean_acc", 0.75),
            metric(j, "none", "none", "train", "lgm_mean_dist", d),
            metric(j, "none", "none", "train", "lgm_mean_dist_max", 2.0 * d),
            metric(j, "none", "none", "train", "lgm_class_sep", 5.0),
            metric(j, "none", "none", "train", "lgm_mean_dist_rel", d / 5.0),
        ];
        store.record_job(j.clone(), m, vec![], vec![]).unwrap();
    }
    store.write_manifest(&manifest()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let md = std::fs::read_to_string(render(run.path(), out.path()).unwrap()).unwrap();
    for want in [
        "| softmax | 1 | 0.5000 |",
        "| lgm (covariance: diagonal) | 2 | 0.7500 ± 0.0000 |",
        "## L-GM mixture fit",
        "| loss | seeds | lgm_mean_dist | lgm_mean_dist_max | lgm_class_sep | lgm_mean_dist_rel |",
        "| lgm (covariance: diagonal) | 2 | 0.5000 ± 0.3536 | 1.0000 ± 0.7071 | 5.0000 ± 0.0000 | 0.1000 ± 0.0707 |",
    ] {
        assert!(md.lines().any(|l| l == want), "missing {want:?} in\n{md}");
    }
    // The HTML keeps lgm's colour (the fourth of the palette) for the longer label.
    let html = std::fs::read_to_string(out.path().join("index.html")).unwrap();
    assert!(
        html.contains("background:#d62728\"></span>lgm (covariance: diagonal)</td>"),
        "lgm's swatch"
    );

    // A run without L-GM has no such section.
    let plain = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(plain.path()).unwrap();
    store
        .record_job(
            soft.clone(),
            vec![metric(&soft, "none", "none", "clean", "clean_acc", 0.5)],
            vec![],
            vec![],
        )
        .unwrap();
    store.write_manifest(&manifest()).unwrap();
    let md = std::fs::read_to_string(render(plain.path(), plain.path()).unwrap()).unwrap();
    assert!(!md.contains("mixture fit"), "{md}");
}

#[test]
fn report_with_two_datasets_keeps_them_apart() {
    let run = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(run.path()).unwrap();
    let a = job("a", "softmax", 0, "done");
    let mut b = job("b", "softmax", 0, "done");
    b.dataset = "mnist".into();
    b.model = "lenetpp".into();
    for (j, acc) in [(&a, 0.5), (&b, 0.75)] {
        let m = vec![metric(j, "none", "none", "clean", "clean_acc", acc)];
        let r = roc(j, FGSM, "max-softmax", &[(0.0, 0.0, 1.0), (1.0, 1.0, 0.0)]);
        store.record_job(j.clone(), m, r, log(j, 2)).unwrap();
    }
    store.write_manifest(&manifest()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let md = std::fs::read_to_string(render(run.path(), out.path()).unwrap()).unwrap();
    for want in [
        "| dataset | model | loss | seeds | clean_acc |",
        "| synthetic | mlp | softmax | 1 | 0.5000 |",
        "| mnist | lenetpp | softmax | 1 | 0.7500 |",
        "![ROC: fgsm(eps=0.1), mnist / lenetpp](roc_mnist_lenetpp_fgsm_eps_0.1.svg)",
        "![Training curves, synthetic / mlp](training_synthetic_mlp.svg)",
    ] {
        assert!(md.lines().any(|l| l == want), "missing {want:?} in\n{md}");
    }
    assert!(!md.contains("| dataset / model |"));
    let svg = std::fs::read_to_string(out.path().join("training_mnist_lenetpp.svg")).unwrap();
    assert_svg_has(
        &svg,
        "training_mnist_lenetpp.svg",
        &["Training curves, mnist / lenetpp"],
    );
}

/// A run written before `jobs.notes` existed still reads, with empty notes;
/// any other missing jobs column is still an error.
#[test]
fn jobs_from_before_the_notes_column_read_with_empty_notes() {
    let dir = one_job_run();
    let path = dir.path().join("jobs.parquet");
    let read = || {
        ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap()
    };
    write_parquet(&path, read().drop("notes").unwrap());
    let t = RunTables::read(dir.path()).unwrap();
    assert_eq!(t.jobs.len(), 1);
    assert_eq!(t.jobs[0].notes, "");
    assert_eq!(t.jobs[0].job_id, "job-a");

    write_parquet(&path, read().drop("error").unwrap());
    let (_, msg) = results_err(RunTables::read(dir.path()).unwrap_err());
    assert!(msg.contains("missing column 'error'"), "{msg}");
}

/// The width attribute of an SVG document's root element.
fn svg_width(svg: &str) -> u32 {
    let at = svg.find("width=\"").expect("a width") + 7;
    svg[at..].split('"').next().unwrap().parse().unwrap()
}

/// A ROC plot with many curves moves its legend out of the chart into a strip
/// on the right, so that it hides no curve; every entry is still there.
#[test]
fn roc_legend_moves_beside_the_chart_when_long() {
    let run = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_run(run.path());
    render(run.path(), out.path()).unwrap();
    let few = std::fs::read_to_string(out.path().join("roc_fgsm_eps_0.1.svg")).unwrap();

    let j = job("job-y", "center", 0, "done");
    let detectors = ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"];
    let roc_rows = detectors
        .iter()
        .flat_map(|d| {
            roc(
                &j,
                FGSM,
                d,
                &[(0.0, 0.0, 1.0), (0.3, 0.8, 0.5), (1.0, 1.0, 0.0)],
            )
        })
        .collect();
    RunStore::open(run.path())
        .unwrap()
        .record(RunTables {
            jobs: vec![j],
            roc: roc_rows,
            ..RunTables::default()
        })
        .unwrap();
    render(run.path(), out.path()).unwrap();
    let many = std::fs::read_to_string(out.path().join("roc_fgsm_eps_0.1.svg")).unwrap();
    let labels: Vec<String> = detectors.iter().map(|d| format!("center / {d}")).collect();
    let mut wants: Vec<&str> = labels.iter().map(String::as_str).collect();
    wants.extend(["softmax / max-softmax", "lgm / max-softmax", "chance"]);
    assert_svg_has(&many, "roc_fgsm_eps_0.1.svg", &wants);
    assert!(
        svg_width(&many) > svg_width(&few) + 100,
        "legend strip: {} vs {}",
        svg_width(&many),
        svg_width(&few)
    );
}
