//! Models in (`model: torchscript`, `lossbench::models::ExternalModel`): a
//! small PyTorch classifier exported to TorchScript in the venv at test time
//! (tests/reference/external_ref.py), attacked by lossbench's FGSM and PGD
//! and by torchattacks' on the same file and inputs; the files and suites
//! lossbench must refuse; and the round trip: a lossbench-trained model,
//! exported, traced by `python/lossbench_models.py trace` and evaluated as
//! an external model, gives the results of the original.

// FGSM / PGD outputs are compared with torchattacks' as in tests/attacks.rs:
// equal to 1e-6 except where the input gradient is ~0 and its sign depends
// on summation order (at most 0.1 % of the pixels). Both sides run the same
// TorchScript graph on the same libtorch, and torchattacks' mean over the
// batch of 64 is lossbench's sum scaled by 2^-6, exactly. Measured: none
// differ.
use crate::attacks::assert_matches_reference;
use crate::common;
use crate::e2e::{lossbench, run_cpu, run_dir};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lossbench::attacks::{Attack, Fgsm, Pgd};
use lossbench::models::ExternalModel;
use lossbench::suite::{Norm, Suite};
use lossbench::train::Net;
use lossbench::Error;
use serde_json::Value;
use tch::{Device, Tensor};

const SHAPE: [usize; 3] = [1, 8, 8];
const CLASSES: usize = 4;

/// The reference directory, written once per test process.
fn fixture() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("external_ref");
        let _ = std::fs::remove_dir_all(&dir);
        common::run_python("external_ref.py", &[dir.as_os_str()]);
        dir
    })
}

fn load(file: &str) -> lossbench::Result<ExternalModel> {
    let path = fixture().join(file);
    let bytes = std::fs::read(&path).unwrap();
    ExternalModel::load(&bytes, &path, Device::Cpu, SHAPE, CLASSES)
}

fn net(file: &str) -> Net {
    Net::external(load(file).unwrap(), Device::Cpu, CLASSES)
}

#[test]
fn fgsm_and_pgd_on_a_torchscript_model_match_torchattacks() {
    tch::set_num_threads(1);
    let dir = fixture();
    let tensors: BTreeMap<String, Tensor> = Tensor::read_safetensors(dir.join("ref.safetensors"))
        .unwrap()
        .into_iter()
        .collect();
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ref.json")).unwrap()).unwrap();
    let (x, y) = (&tensors["x"], &tensors["y"]);
    // The traced logits-only module, and the scripted one of the same
    // weights that also returns features: the same attacks on both.
    let traced = net("logits.pt");
    let scripted = net("both.pt");
    assert!(!traced.has_features() && scripted.has_features());
    let (l1, l2) = tch::no_grad(|| (traced.logits(x), scripted.logits(x)));
    assert!(l1.equal(&l2), "the two exports give other logits");
    assert_eq!(scripted.features(x, false).size(), [64, 16]);
    let mut report = Vec::new();
    for (name, net) in [("traced", &traced), ("scripted", &scripted)] {
        for case in meta["fgsm"].as_array().unwrap() {
            let eps = case["eps"].as_f64().unwrap();
            let got = Fgsm { eps }.run(net, x, y);
            let want = &tensors[case["tensor"].as_str().unwrap()];
            let off = assert_matches_reference(&format!("{name} fgsm eps={eps}"), &got.x_adv, want);
            report.push(format!("{name} fgsm eps={eps}: {off} pixels differ"));
        }
        assert!(!meta["pgd"].as_array().unwrap().is_empty());
        for case in meta["pgd"].as_array().unwrap() {
            let pgd = Pgd {
                eps: case["eps"].as_f64().unwrap(),
                norm: Norm::Linf,
                step_size: case["alpha"].as_f64().unwrap(),
                steps: case["steps"].as_u64().unwrap() as usize,
                random_start: false,
                restarts: 1,
            };
            let got = pgd.run(net, x, y);
            let want = &tensors[case["tensor"].as_str().unwrap()];
            let off =
                assert_matches_reference(&format!("{name} {}", pgd.label()), &got.x_adv, want);
            report.push(format!("{name} {}: {off} pixels differ", pgd.label()));
        }
    }
    eprintln!("{}", report.join("\n"));
}

/// `file` is refused with an [`Error::Model`] (exit code 2) whose message
/// holds `says`.
fn refused(file: &str, says: &str) {
    match load(file) {
        Err(e @ Error::Model { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(says), "{file}: {msg}");
            assert!(
                msg.contains(file),
                "{file}: the message names the file: {msg}"
            );
            assert_eq!(e.exit_code(), 2);
            eprintln!("{msg}");
        }
        Err(e) => panic!("{file}: expected Error::Model, got {e:?}"),
        Ok(_) => panic!("{file}: loaded"),
    }
}

#[test]
fn files_that_are_not_a_fitting_torchscript_model_are_refused() {
    tch::set_num_threads(1);
    std::fs::write(fixture().join("noise.pt"), b"not a model at all").unwrap();
    refused("noise.pt", "not a TorchScript module");
    // torch.save of the weights: a zip archive, but no code.
    refused("state_dict.pt", "not a TorchScript module");
    refused("rgb.pt", "images [N, C, H, W] = [N, 1, 8, 8]");
    refused("seven.pt", "its logits must be [N, 4]");
    refused(
        "flat.pt",
        "its features (the second output) must be [N, D], got [2, 2, 2]",
    );
}

const SUITE: &str = "name: ext\ndata: {dataset: synthetic, synthetic: {side: 8}}\n\
                     model: {torchscript: {path: PATH}}\nlosses: [external]\nseeds: [0]\n\
                     attacks: [fgsm]\ndetectors: [max-softmax]\n";

/// Loads `text` (with `PATH` replaced by `path`) as `<dir>/suite.yaml`.
fn load_suite(dir: &Path, path: &str, text: &str) -> lossbench::Result<Suite> {
    let file = dir.join("suite.yaml");
    std::fs::write(&file, text.replace("PATH", path)).unwrap();
    Suite::load(&file)
}

fn suite_error(r: lossbench::Result<Suite>, field: &str, says: &str) {
    match r {
        Err(e @ Error::Suite { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(field) && msg.contains(says), "{msg}");
            assert_eq!(e.exit_code(), 2);
        }
        other => panic!("expected a suite error on {field}, got {other:?}"),
    }
}

#[test]
fn suites_name_a_model_file_inside_their_directory_and_pin_its_content() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("suites");
    std::fs::create_dir_all(dir.join("models")).unwrap();
    let model = dir.join("models/m.pt");
    std::fs::write(&model, b"model bytes").unwrap();
    let suite = load_suite(&dir, "models/m.pt", SUITE).unwrap();
    // The digest is filled in from the file, and pins it.
    let digest = lossbench::suite::sha256_hex(b"model bytes");
    assert_eq!(suite.model.sha256.as_deref(), Some(digest.as_str()));
    let jobs = suite.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].config.loss.label(), "external");
    std::fs::write(&model, b"other bytes").unwrap();
    let other = load_suite(&dir, "models/m.pt", SUITE).unwrap();
    assert_ne!(other.jobs()[0].id, jobs[0].id, "a new file, a new job");
    let pinned = SUITE.replace("PATH}", &format!("PATH, sha256: {digest}}}"));
    suite_error(
        load_suite(&dir, "models/m.pt", &pinned),
        "model.torchscript.sha256",
        "has SHA-256",
    );
    suite_error(
        load_suite(&dir, "models/gone.pt", SUITE),
        "model.torchscript.path",
        "not found",
    );
    // Out of the suite's directory: by `..`, absolutely, or by a link.
    std::fs::write(tmp.path().join("outside.pt"), b"x").unwrap();
    suite_error(
        load_suite(&dir, "../outside.pt", SUITE),
        "model.torchscript.path",
        "relative path inside",
    );
    let abs = tmp.path().join("outside.pt");
    suite_error(
        load_suite(&dir, abs.to_str().unwrap(), SUITE),
        "model.torchscript.path",
        "relative path inside",
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&abs, dir.join("models/link.pt")).unwrap();
        suite_error(
            load_suite(&dir, "models/link.pt", SUITE),
            "model.torchscript.path",
            "leads outside",
        );
    }
    // What an external model does not take, and the loss it needs.
    let with = |from: &str, to: &str| SUITE.replace(from, to);
    suite_error(
        load_suite(&dir, "models/m.pt", &with("PATH}", "PATH, dropout: 0.5}")),
        "model.torchscript.dropout",
        "not used by an external model",
    );
    suite_error(
        load_suite(&dir, "models/m.pt", &with("[external]", "[softmax]")),
        "losses",
        "losses: [external]",
    );
    suite_error(
        load_suite(
            &dir,
            "models/m.pt",
            &with("{torchscript: {path: PATH}}", "{mlp: {path: x.pt}}"),
        ),
        "model.mlp.path",
        "for `torchscript` models only",
    );
    suite_error(
        load_suite(
            &dir,
            "models/m.pt",
            &with("{torchscript: {path: PATH}}", "mlp"),
        ),
        "losses[0]",
        "loss of an external model only",
    );
    suite_error(
        load_suite(&dir, "models/m.pt", &with("{path: PATH}", "{}")),
        "model.torchscript",
        "needs `path`",
    );
}

/// The metrics of a run: (attack, detector, subset, metric) -> value, the
/// timings left out.
fn metrics(run: &Path) -> BTreeMap<(String, String, String, String), f64> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let head = fields(lines.next().unwrap());
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (a, d, s, m, v) = (
        col("attack"),
        col("detector"),
        col("subset"),
        col("metric"),
        col("value"),
    );
    lines
        .map(fields)
        .filter(|r| !["seconds", "images_per_s"].contains(&r[m].as_str()))
        .map(|r| {
            (
                (r[a].clone(), r[d].clone(), r[s].clone(), r[m].clone()),
                r[v].parse().unwrap(),
            )
        })
        .collect()
}

/// The fields of a CSV line (quoted fields hold commas; no quote inside).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// The attacks and detectors of both runs: every attack lossbench has, the
/// detectors that work on logits and features.
const EVAL: &str = "attacks:\n  - {fgsm: {eps: [0.05, 0.1]}}\n  - {bim: {eps: 0.05, steps: 4}}\n  \
                    - {pgd: {eps: 0.1, steps: 4, random-start: false}}\n  \
                    - {pgd: {eps: 0.5, norm: l2, steps: 4, restarts: 2}}\n  \
                    - {cw-l2: {steps: 15, search-steps: 2}}\n  - {deepfool: {max-iter: 10}}\n\
                    detectors: [max-softmax, mahalanobis, {kd: {sigma: 1.0}}, {lid: {k: 10, batch: 50}}, lgm-likelihood]\n";

#[test]
fn a_lossbench_model_exported_traced_and_evaluated_as_external_gives_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, results) = (tmp.path(), tmp.path().join("results"));
    let data = "data: {dataset: synthetic, synthetic: {side: 8, train: 256, test: 128}}\n";
    let run = |name: &str, text: String| {
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, text).unwrap();
        let out = run_cpu(dir, &results, &file)
            .env("OMP_NUM_THREADS", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{name}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (run_dir(&results, name), stdout)
    };
    let (original, _) = run(
        "original",
        format!(
            "name: original\n{data}model: {{small-cnn: {{feature-dim: 8}}}}\ntrain: {{epochs: 2}}\n\
             losses: [softmax]\nseeds: [0]\n{EVAL}"
        ),
    );
    // The export beside the checkpoint, traced to TorchScript in the venv.
    let ckpt = results.join("original/checkpoints");
    let json: Vec<PathBuf> = std::fs::read_dir(&ckpt)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.to_string_lossy().ends_with(".train_log.json"))
        .collect();
    assert_eq!(json.len(), 1, "{json:?}");
    std::fs::create_dir_all(dir.join("models")).unwrap();
    let traced = dir.join("models/original.pt");
    // The README's commands.
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/lossbench_models.py");
    let arg = |s: &'static str| std::ffi::OsStr::new(s);
    let listed = common::run_python_file(
        &module,
        &[
            arg("list"),
            ckpt.as_os_str(),
            arg("--loss"),
            arg("softmax"),
            arg("--seed"),
            arg("0"),
        ],
    );
    assert!(
        listed.starts_with(&*json[0].to_string_lossy())
            && listed
                .trim_end()
                .ends_with("synthetic\tsmall-cnn\tsoftmax\tseed 0"),
        "{listed}"
    );
    common::run_python_file(
        &module,
        &[arg("trace"), json[0].as_os_str(), traced.as_os_str()],
    );
    let (external, printed) = run(
        "external",
        format!(
            "name: external\n{data}model: {{torchscript: {{path: models/original.pt}}}}\n\
             losses: [external]\nseeds: [0]\n{EVAL}"
        ),
    );
    assert!(
        printed.contains("TorchScript, logits and features"),
        "{printed}"
    );
    let (a, b) = (metrics(&original), metrics(&external));
    // LID's layers differ (the external model shows its features and logits,
    // not lossbench's intermediate layers); lgm-likelihood needs an L-GM head,
    // which neither has.
    let same = |k: &(String, String, String, String)| k.1 != "lid";
    let ka: Vec<_> = a.keys().filter(|k| same(k)).collect();
    let kb: Vec<_> = b.keys().filter(|k| same(k)).collect();
    assert_eq!(ka, kb, "the same metrics");
    assert!(
        b.keys().any(|k| k.1 == "lid" && k.3 == "auroc"),
        "lid runs on the external model"
    );
    let mut worst = (0.0f64, String::new());
    for k in ka {
        let (va, vb) = (a[k], b[k]);
        let d = (va - vb).abs();
        // lossbench runs its convolutions on channels-last memory on the
        // CPU (models::Conv), the traced module on the default layout: the
        // same arithmetic, summed in another order (about 1e-7 relative).
        assert!(d <= 1e-5 * va.abs().max(1.0), "{k:?}: {va} against {vb}");
        if d > worst.0 {
            worst = (d, format!("{k:?}"));
        }
    }
    assert!(a.keys().any(|k| k.0.starts_with("cw-l2") && k.3 == "asr"));
    eprintln!(
        "{} metrics compared; largest difference {:e} {}",
        a.len(),
        worst.0,
        worst.1
    );
    let jobs = std::fs::read_to_string(external.join("jobs.csv")).unwrap();
    assert!(jobs.contains("lgm-likelihood' skipped"), "{jobs}");

    // `lossbench export` writes the same files elsewhere, and says which
    // models are not trained (exit code 4).
    let exported = dir.join("exported");
    let export = |code: i32| {
        let out = lossbench()
            .arg("export")
            .arg(&original)
            .arg("--out")
            .arg(&exported)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{text}");
        text
    };
    export(0);
    let name = json[0].file_name().unwrap();
    let weights = json[0].with_extension("safetensors");
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(read(&exported.join(name)), read(&json[0]));
    assert_eq!(
        read(&exported.join(weights.file_name().unwrap())),
        read(&weights)
    );
    std::fs::remove_file(json[0].with_extension("ot")).unwrap();
    let text = export(4);
    assert!(text.contains("not trained yet: softmax seed 0"), "{text}");
}

#[test]
fn a_run_with_a_model_that_does_not_fit_exits_2_and_leaves_no_run_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::copy(fixture().join("seven.pt"), dir.join("seven.pt")).unwrap();
    let suite = dir.join("seven.yaml");
    std::fs::write(
        &suite,
        SUITE
            .replace("name: ext", "name: seven")
            .replace("PATH", "seven.pt"),
    )
    .unwrap();
    let results = dir.join("results");
    let out = run_cpu(dir, &results, &suite).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("seven.pt': its logits must be [N, 4]"),
        "{stderr}"
    );
    let runs = std::fs::read_dir(results.join("seven"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(runs, 0, "nothing written");
    // `validate` finds a missing file too.
    std::fs::remove_file(dir.join("seven.pt")).unwrap();
    let out = lossbench().arg("validate").arg(&suite).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("model.torchscript.path") && stderr.contains("not found"),
        "{stderr}"
    );
}

#[test]
fn a_logits_only_model_runs_and_skips_the_detectors_it_cannot_feed_with_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("m")).unwrap();
    std::fs::copy(fixture().join("logits.pt"), dir.join("m/logits.pt")).unwrap();
    let suite = dir.join("logits.yaml");
    std::fs::write(
        &suite,
        "name: logits\ndata: {dataset: synthetic, synthetic: {side: 8, train: 128, test: 64}}\n\
         model: {torchscript: {path: m/logits.pt}}\nlosses: [external]\nseeds: [0, 1]\n\
         attacks: [fgsm, {pgd: {steps: 3}}, {deepfool: {max-iter: 5}}]\n\
         detectors: [max-softmax, mahalanobis, kd, kd-bu, lid, lgm-likelihood]\n",
    )
    .unwrap();
    let results = dir.join("results");
    let out = run_cpu(dir, &results, &suite).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("logits only"), "{stdout}");
    let run = run_dir(&results, "logits");
    let jobs = std::fs::read_to_string(run.join("jobs.csv")).unwrap();
    for skipped in ["mahalanobis", "kd", "kd-bu", "lid"] {
        assert!(
            jobs.contains(&format!("detector '{skipped}' skipped: needs features")),
            "{skipped}: {jobs}"
        );
    }
    assert!(
        jobs.contains("detector 'lgm-likelihood' skipped: needs an lgm head"),
        "{jobs}"
    );
    let m = metrics(&run);
    for attack in ["fgsm(", "pgd(", "deepfool("] {
        let asr = m.keys().any(|k| k.0.starts_with(attack) && k.3 == "asr");
        assert!(asr, "{attack}: {:?}", m.keys());
    }
    assert!(m.keys().any(|k| k.1 == "max-softmax" && k.3 == "auroc"));
    assert!(!m.keys().any(|k| k.1 == "mahalanobis"));
    let features = std::fs::read_to_string(run.join("features.csv")).unwrap();
    assert_eq!(features.lines().count(), 1, "no feature rows: {features}");
    assert!(dir.join("reports/logits").is_dir());
}
