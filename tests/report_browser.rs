//! `index.html` in a real browser: renders a fixture run with every table
//! filled (four losses × two seeds, FGSM and BIM at two budgets, two
//! detectors, 10-class features in 2-D and 16-D, 28×28 example images) and
//! runs `scripts/check_report.sh` on it, which opens the page in headless
//! Chromium, fails if a plot or image is missing or the page reports an
//! error, and writes `screenshot.png` beside `index.html`.
//!
//! Skipped (with a note) when Chromium is not installed: `make test` installs
//! it through `scripts/setup.sh`. Set `LOSSBENCH_REPORT_BROWSER_OUT=<dir>` to
//! keep the rendered report and its screenshot there.

use std::path::{Path, PathBuf};
use std::process::Command;

use lossbench::report::render;
use lossbench::results::{
    ExampleRow, FeatureRow, JobRow, Manifest, MetricRow, RocRow, RunStore, RunTables, ScoreRow,
    TrainLogRow,
};

const LOSSES: [&str; 4] = ["softmax", "center", "lsoftmax", "lgm"];
const SEEDS: [u64; 2] = [0, 1];
const CLASSES: u64 = 10;

/// A deterministic stream of numbers in [0, 1) (splitmix64).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal: the sum of four uniforms, centred and scaled.
    fn normal(&mut self) -> f64 {
        ((0..4).map(|_| self.next()).sum::<f64>() - 2.0) * 1.7
    }
}

fn attacks() -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for eps in [0.1, 0.3] {
        out.push((format!("fgsm(eps={eps})"), eps));
    }
    for eps in [0.1, 0.3] {
        out.push((format!("bim(eps={eps},a=0.01,T=10,stop=first)"), eps * 1.6));
    }
    out
}

fn detectors(loss: &str) -> Vec<&'static str> {
    if loss == "lgm" {
        vec!["max-softmax", "lgm-likelihood"]
    } else {
        vec!["max-softmax"]
    }
}

/// Every row of one job.
fn job_tables(loss_idx: usize, seed: u64) -> RunTables {
    let loss = LOSSES[loss_idx];
    let mut noise = Noise(1000 * loss_idx as u64 + seed);
    let id = format!("{loss}-{seed}");
    let j = JobRow {
        job_id: id.clone(),
        dataset: "synthetic".into(),
        model: "lenetpp".into(),
        loss: loss.into(),
        seed,
        device: "cpu".into(),
        status: lossbench::results::JobStatus::Done,
        error: String::new(),
        notes: String::new(),
        n_train: 6000,
        n_test: 1000,
        train_seconds: 40.0 + 5.0 * noise.next(),
        eval_seconds: 3.0,
        config: "{}".into(),
        row_counts: String::new(),
    };
    let metric = |attack: &str, detector: &str, subset: &str, name: &str, value: f64| MetricRow {
        job_id: id.clone(),
        dataset: j.dataset.clone(),
        model: j.model.clone(),
        loss: loss.into(),
        seed,
        attack: attack.into(),
        detector: detector.into(),
        subset: subset.into(),
        metric: name.into(),
        value,
    };
    let strength = 0.6 + 0.1 * loss_idx as f64;
    let clean = 0.95 + 0.01 * noise.next();
    let mut metrics = vec![metric("none", "none", "clean", "clean_acc", clean)];
    let mut roc = Vec::new();
    let mut scores = Vec::new();
    let mut examples = Vec::new();
    for (attack, eps) in attacks() {
        let robust = clean * (-eps * 6.0 * (1.2 - 0.2 * loss_idx as f64)).exp();
        metrics.push(metric(&attack, "none", "all", "robust_acc", robust));
        metrics.push(metric(&attack, "none", "all", "asr", 1.0 - robust / clean));
        metrics.push(metric(&attack, "none", "all", "n_eval", 950.0));
        metrics.push(metric(&attack, "none", "successful", "l2_mean", eps * 20.0));
        metrics.push(metric(
            &attack,
            "none",
            "all",
            "seconds",
            1.5 + noise.next(),
        ));
        metrics.push(metric(
            &attack,
            "none",
            "all",
            "images_per_s",
            600.0 + 50.0 * noise.next(),
        ));
        for (d, detector) in detectors(loss).into_iter().enumerate() {
            let k = 1.0 + 4.0 * strength * eps * (1.0 + d as f64);
            let auroc = k / (k + 1.0);
            for (name, v) in [
                ("auroc", auroc),
                ("aupr", auroc - 0.02),
                ("fpr_at_95tpr", 1.0 - auroc / 2.0),
                ("det_acc", (1.0 + auroc) / 2.0 - 0.1),
                ("auroc_ci_low", auroc - 0.03),
                ("auroc_ci_high", (auroc + 0.03).min(1.0)),
                ("n_pairs", 60.0),
            ] {
                metrics.push(metric(&attack, detector, "successful", name, v));
            }
            for i in 0..=20 {
                let fpr = i as f64 / 20.0;
                roc.push(RocRow {
                    job_id: id.clone(),
                    loss: loss.into(),
                    seed,
                    attack: attack.clone(),
                    detector: detector.into(),
                    subset: "successful".into(),
                    fpr,
                    tpr: fpr.powf(1.0 / k),
                    threshold: 1.0 - fpr,
                });
            }
            for sample in 0..60u64 {
                let split = if sample < 48 { "fit" } else { "test" };
                let split = if sample % 3 == 0 { "test" } else { split };
                for (kind, mean) in [("clean", 0.0), ("adversarial", k.ln() * 1.5)] {
                    scores.push(ScoreRow {
                        job_id: id.clone(),
                        loss: loss.into(),
                        seed,
                        attack: attack.clone(),
                        detector: detector.into(),
                        sample,
                        kind: kind.into(),
                        success: u64::from(sample % 7 != 0),
                        split: split.into(),
                        score: mean + noise.normal(),
                    });
                }
            }
        }
        examples.extend(example_rows(&id, loss, seed, &attack, eps, &mut noise));
    }
    let train_log = (1..=5)
        .map(|epoch| TrainLogRow {
            job_id: id.clone(),
            loss: loss.into(),
            seed,
            epoch,
            train_loss: (2.3 + loss_idx as f64 * 3.0)
                / (epoch as f64).powf(1.5 + 0.2 * seed as f64),
            train_acc: 1.0 - 0.6 / epoch as f64 - 0.02 * loss_idx as f64,
            lr: 0.001,
            seconds: 8.0,
            images_per_s: 750.0,
        })
        .collect();
    RunTables {
        jobs: vec![j.clone()],
        metrics,
        roc,
        train_log,
        features: feature_rows(
            &id,
            loss,
            seed,
            if loss == "lgm" { 2 } else { 16 },
            &mut noise,
        ),
        scores,
        examples,
    }
}

/// 200 samples of 10 classes: clusters along rays in the first two
/// dimensions (the paper's picture), small noise in the others.
fn feature_rows(id: &str, loss: &str, seed: u64, dims: u64, noise: &mut Noise) -> Vec<FeatureRow> {
    let mut rows = Vec::new();
    for sample in 0..200u64 {
        let label = sample % CLASSES;
        let angle = std::f64::consts::TAU * label as f64 / CLASSES as f64;
        let radius = 2.0 + 6.0 * noise.next();
        for dim in 0..dims {
            let value = match dim {
                0 => radius * angle.cos() + 0.4 * noise.normal(),
                1 => radius * angle.sin() + 0.4 * noise.normal(),
                _ => 0.8 * noise.normal() + 0.5 * (label as f64 - 4.5) * (dim % 3) as f64,
            };
            rows.push(FeatureRow {
                job_id: id.into(),
                loss: loss.into(),
                seed,
                sample,
                label,
                pred: label,
                dim,
                value,
            });
        }
    }
    rows
}

/// Six 28×28 grey images per attack: a blob, its perturbed copy and the
/// perturbation around mid-grey.
fn example_rows(
    id: &str,
    loss: &str,
    seed: u64,
    attack: &str,
    eps: f64,
    noise: &mut Noise,
) -> Vec<ExampleRow> {
    let side = 28usize;
    let mut rows = Vec::new();
    for sample in 0..6u64 {
        let (cx, cy) = (8.0 + 12.0 * noise.next(), 8.0 + 12.0 * noise.next());
        let clean: Vec<f64> = (0..side * side)
            .map(|i| {
                let (x, y) = ((i % side) as f64, (i / side) as f64);
                (-((x - cx).powi(2) + (y - cy).powi(2)) / 30.0).exp()
            })
            .collect();
        let delta: Vec<f64> = (0..side * side)
            .map(|_| if noise.next() < 0.5 { -eps } else { eps })
            .collect();
        let adv: Vec<f64> = clean
            .iter()
            .zip(&delta)
            .map(|(c, d)| (c + d).clamp(0.0, 1.0))
            .collect();
        let pert: Vec<f64> = clean
            .iter()
            .zip(&adv)
            .map(|(c, a)| 0.5 + (a - c) / (2.0 * eps.max(1e-9)) * 0.5)
            .collect();
        let label = sample % CLASSES;
        let pred_adv = if sample < 4 {
            (label + 3) % CLASSES
        } else {
            label
        };
        for (kind, img) in [
            ("clean", &clean),
            ("adversarial", &adv),
            ("perturbation", &pert),
        ] {
            rows.push(ExampleRow {
                job_id: id.into(),
                loss: loss.into(),
                seed,
                attack: attack.into(),
                sample,
                label,
                pred_adv,
                kind: kind.into(),
                channels: 1,
                height: side as u64,
                width: side as u64,
                pixels: img
                    .iter()
                    .map(|v| format!("{:02x}", (v * 255.0).round().clamp(0.0, 255.0) as u8))
                    .collect(),
            });
        }
    }
    rows
}

fn fixture_run(dir: &Path) {
    let mut store = RunStore::open(dir).unwrap();
    for (l, _) in LOSSES.iter().enumerate() {
        for seed in SEEDS {
            store.record(job_tables(l, seed)).unwrap();
        }
    }
    let mut failed = job_tables(1, 2).jobs.remove(0);
    failed.job_id = "center-2".into();
    failed.seed = 2;
    failed.status = lossbench::results::JobStatus::Failed;
    failed.error = "loss diverged (NaN) at epoch 3".into();
    store.record_job(failed, vec![], vec![], vec![]).unwrap();
    store
        .write_manifest(&Manifest {
            suite_name: "browser".into(),
            suite_file: "suites/browser.yaml".into(),
            run_id: "20250101-000000".into(),
            suite: serde_json::json!({"name": "browser"}),
            lossbench_version: lossbench::VERSION.into(),
            tch_version: "0.26.0".into(),
            libtorch_version: "2.13.0".into(),
            device: "cpu".into(),
            git_commit: Some("abc1234".into()),
            started_at: "2025-01-01T00:00:00Z".into(),
            finished_at: Some("2025-01-01T00:10:00Z".into()),
            wall_seconds: 600.0,
            jobs_total: 9,
            jobs_done: 8,
            jobs_failed: 1,
            jobs_reused: 0,
            status: lossbench::results::RunStatus::Done,
        })
        .unwrap();
}

/// The Chromium binary, if installed.
fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let out = Command::new("sh")
        .args(["-c", "command -v chromium || command -v chromium-browser"])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}

/// Chromium, which `scripts/setup.sh` installs. A missing browser fails the
/// test (a CI without it would otherwise lose the check silently), unless
/// `LOSSBENCH_SKIP_BROWSER=1` says to skip it on purpose.
fn chromium(test: &str) -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() && std::env::var_os("LOSSBENCH_SKIP_BROWSER").is_some_and(|v| v == "1") {
        eprintln!("SKIPPED {test}: chromium is not installed and LOSSBENCH_SKIP_BROWSER=1");
        return None;
    }
    assert!(
        found.is_some(),
        "{test}: chromium is not installed; run scripts/setup.sh (it installs the Debian \
         package `chromium`), set CHROMIUM=/path/to/chromium, or set LOSSBENCH_SKIP_BROWSER=1 \
         to skip the browser check on purpose"
    );
    found
}

#[test]
fn index_html_loads_in_chromium() {
    let Some(chrome) = chromium("index_html_loads_in_chromium") else {
        return;
    };
    let run = tempfile::tempdir().unwrap();
    fixture_run(run.path());
    let tmp = tempfile::tempdir().unwrap();
    let out = match std::env::var_os("LOSSBENCH_REPORT_BROWSER_OUT") {
        Some(dir) => PathBuf::from(dir),
        None => tmp.path().join("report"),
    };
    render(run.path(), &out).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_report.sh");
    let result = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .env("CHROMIUM", &chrome)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "check_report.sh failed ({}):\n{stderr}",
        result.status
    );
    assert!(
        stderr.contains("plots: 23 of 23") && stderr.contains("images decoded: 288 of 288"),
        "{stderr}"
    );
    let shot = std::fs::read(out.join("screenshot.png")).unwrap();
    assert!(shot.starts_with(b"\x89PNG\r\n\x1a\n") && shot.len() > 10_000);
}

/// The check must fail when the page is broken: a plot emptied and an image
/// that does not decode.
#[test]
fn check_report_fails_on_a_broken_page() {
    let Some(chrome) = chromium("check_report_fails_on_a_broken_page") else {
        return;
    };
    let run = tempfile::tempdir().unwrap();
    fixture_run(run.path());
    let out = tempfile::tempdir().unwrap();
    render(run.path(), out.path()).unwrap();
    let path = out.path().join("index.html");
    let html = std::fs::read_to_string(&path).unwrap();
    let broken = html.replacen("data:image/png;base64,", "data:image/png;base64,AAAA", 1);
    let figure = broken.find("<figure aria-label=").unwrap();
    let first_svg = broken[figure..].find("<svg").unwrap() + figure;
    let end = broken[first_svg..].find("</svg>").unwrap() + first_svg + "</svg>".len();
    let broken = format!("{}<svg></svg>{}", &broken[..first_svg], &broken[end..]);
    std::fs::write(&path, broken).unwrap();

    let result = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_report.sh"))
        .arg(out.path())
        .env("CHROMIUM", &chrome)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("plot 1 is empty"), "{stderr}");
    assert!(stderr.contains("does not decode"), "{stderr}");
    // The screenshot is still taken, showing the failure banner.
    assert!(out.path().join("screenshot.png").is_file());
}
