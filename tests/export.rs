//! Weights out (`lossbench::train::export`): every backbone with every head,
//! exported, loaded by the Python module `python/lossbench_models.py` in the
//! venv (tests/reference/export_check.py, run at test time), gives the
//! logits and features lossbench gives, and the weights file reads back into
//! a lossbench net of the same spec.

use crate::common;

use std::collections::HashMap;

use lossbench::suite::spec::{CenterParams, LgmParams, LsoftmaxParams};
use lossbench::suite::{Covariance, LossSpec, ModelKind, ModelSpec};
use lossbench::train::export::{self, ExportMeta};
use lossbench::train::Net;
use tch::{Device, Kind, Tensor};

/// Largest |lossbench − PyTorch| allowed, relative to the largest |value|
/// of the output (at least 1). Both sides run the same libtorch kernels in
/// float32 on one thread; what could differ is the order of a reduction (a
/// convolution's algorithm, a matmul's blocking, another libtorch build), a
/// few float32 ulps (1.2e-7 each) on values of order 1-10; 1e-5 leaves room
/// for ~100 of them and is far below any real difference (a missing layer, a
/// wrong name, dropout left on moves outputs by 1e-2 or more). Measured
/// here: 0 on every output (bit-identical), printed by the test.
const REL_TOL: f64 = 1e-5;

const SHAPE: [usize; 3] = [3, 8, 8];
const CLASSES: usize = 5;

fn losses() -> Vec<(&'static str, LossSpec)> {
    let lgm = |covariance| {
        LossSpec::Lgm(LgmParams {
            covariance,
            log_var_floor: -0.5,
            ..Default::default()
        })
    };
    vec![
        ("softmax", LossSpec::Softmax),
        ("center", LossSpec::Center(CenterParams::default())),
        ("lsoftmax", LossSpec::Lsoftmax(LsoftmaxParams::default())),
        ("lgm-identity", lgm(Covariance::Identity)),
        ("lgm-isotropic", lgm(Covariance::Isotropic)),
        ("lgm-diagonal", lgm(Covariance::Diagonal)),
    ]
}

fn backbones() -> Vec<ModelKind> {
    vec![
        ModelKind::Mlp,
        ModelKind::SmallCnn,
        ModelKind::Lenetpp,
        ModelKind::Resnet20,
    ]
}

fn spec(kind: ModelKind) -> ModelSpec {
    ModelSpec {
        kind,
        feature_dim: 6,
        // Dropout must be off in both evaluations.
        dropout: 0.3,
        ..ModelSpec::default()
    }
}

/// A net whose every tensor is away from its initial value (batch-norm
/// running statistics, L-GM variances below the floor and above it,
/// centres), so that a tensor left out or misnamed shows.
fn net(kind: ModelKind, loss: &LossSpec) -> Net {
    let net = Net::new(
        Device::Cpu,
        &spec(kind),
        loss,
        SHAPE,
        CLASSES,
        (&[0.4, 0.5, 0.6], &[0.2, 0.25, 0.3]),
    );
    tch::no_grad(|| {
        for (name, v) in net.vs.variables() {
            if name.starts_with("norm.") {
                continue;
            }
            let r = Tensor::randn(v.size(), (Kind::Float, Device::Cpu));
            let new = if name.ends_with("running_var") {
                r.abs() + 0.5
            } else if name.ends_with("log_var") {
                r
            } else if name.ends_with("prelu") {
                r * 0.1 + 0.25
            } else {
                // Weights at about He scale, so activations stay of order 1.
                let fan_in: i64 = v.size().iter().skip(1).product::<i64>().max(1);
                r * (2.0 / fan_in as f64).sqrt()
            };
            v.shallow_clone().copy_(&new);
        }
    });
    net
}

fn max_abs(a: &Tensor, b: &Tensor) -> (f64, f64) {
    let diff = (a - b).abs().max().double_value(&[]);
    let scale = a.abs().max().double_value(&[]).max(1.0);
    (diff, scale)
}

#[test]
fn every_backbone_and_head_gives_the_same_logits_and_features_in_pytorch() {
    tch::set_num_threads(1);
    tch::manual_seed(16);
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::rand([4, 3, 8, 8], (Kind::Float, Device::Cpu));
    Tensor::write_safetensors(&[("x", &x)], dir.path().join("input.safetensors")).unwrap();
    let mut expected = HashMap::new();
    for kind in backbones() {
        for (name, loss) in losses() {
            let net = net(kind, &loss);
            let stem = format!("{}-{name}", kind.name());
            let meta = ExportMeta::new(&spec(kind), &loss, name, SHAPE, CLASSES);
            let (weights, json) = export::export(&net, &meta, dir.path(), &stem).unwrap();
            // The description names the weights and every tensor in them.
            let back: ExportMeta =
                serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            let stored = Tensor::read_safetensors(&weights).unwrap();
            let mut names: Vec<String> = stored.iter().map(|(n, _)| n.clone()).collect();
            names.sort();
            assert_eq!(back.parameters, names);
            assert_eq!(back.weights, format!("{stem}.safetensors"));
            // Every variable is there under its var-store name, and the
            // file loads back into a fresh net of the same spec.
            let fresh = Net::new(
                Device::Cpu,
                &spec(kind),
                &loss,
                SHAPE,
                CLASSES,
                (&[0.0; 3], &[1.0; 3]),
            );
            tch::no_grad(|| fresh.vs.read_safetensors(&weights)).unwrap();
            let (l, f) = tch::no_grad(|| (net.logits(&x), net.features(&x, false)));
            let (l2, f2) = tch::no_grad(|| (fresh.logits(&x), fresh.features(&x, false)));
            assert!(l.equal(&l2) && f.equal(&f2), "{stem}: read back");
            expected.insert(stem, (l, f));
        }
    }
    let printed = common::run_python("export_check.py", &[dir.path().as_os_str()]);
    assert_eq!(printed.trim(), format!("{} models", expected.len()));
    let mut worst = (-1.0f64, String::new());
    for (stem, (logits, features)) in &expected {
        let got: HashMap<String, Tensor> =
            Tensor::read_safetensors(dir.path().join(format!("{stem}.torch.safetensors")))
                .unwrap()
                .into_iter()
                .collect();
        for (what, mine, theirs) in [
            ("logits", logits, &got["logits"]),
            ("features", features, &got["features"]),
        ] {
            assert_eq!(mine.size(), theirs.size(), "{stem} {what}");
            let (diff, scale) = max_abs(mine, theirs);
            assert!(
                diff <= REL_TOL * scale,
                "{stem} {what}: max |diff| {diff:e} at scale {scale}"
            );
            if diff / scale > worst.0 {
                worst = (
                    diff / scale,
                    format!("{stem} {what}: {diff:e} at scale {scale:.2}"),
                );
            }
        }
    }
    println!("largest relative difference: {:e} ({})", worst.0, worst.1);
}
