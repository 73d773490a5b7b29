//! Backbone structure against PyTorch mirrors built layer by layer from the
//! model descriptions (`tests/reference/models_ref.py`): parameter names,
//! shapes and counts, tapped-activation widths, and the features of a forward
//! pass with the same deterministic weights. Plus He et al.'s ResNet
//! parameter counts by hand, and the normalisation layer inside the model.

use crate::common;
use lossbench::suite::spec::SgdParams;

use common::floats;
use lossbench::heads::Progress;
use lossbench::models::{self, Mode};
use lossbench::suite::{LossSpec, ModelKind, ModelSpec, OptimizerSpec};
use lossbench::train::{optim, Net};
use serde_json::Value;
use tch::{nn, Device, Kind, Tensor};

fn reference() -> Value {
    serde_json::from_str(include_str!("reference/models_ref.json")).unwrap()
}

fn spec(kind: ModelKind, feature_dim: usize) -> ModelSpec {
    ModelSpec {
        kind,
        feature_dim,
        dropout: 0.0,
        ..Default::default()
    }
}

/// Trainable variables, sorted by name.
fn trainable(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<_> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn count(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// The fill rule of models_ref.py: parameter j (sorted names), element i,
/// `sin(0.1 i + j) / sqrt(fan_in)` for 2+ dims, `0.5 + 0.25 sin(0.1 i + j)`
/// for 1 dim.
fn fill(vars: &[(String, Tensor)]) {
    tch::no_grad(|| {
        for (j, (_, p)) in vars.iter().enumerate() {
            let numel = p.numel() as i64;
            let s = (Tensor::arange(numel, (Kind::Double, Device::Cpu)) * 0.1 + j as f64).sin();
            let v = if p.dim() >= 2 {
                s / ((numel / p.size()[0]) as f64).sqrt()
            } else {
                s * 0.25 + 0.5
            };
            p.shallow_clone().copy_(&v.view(p.size().as_slice()));
        }
    });
}

#[test]
fn backbones_match_their_pytorch_mirrors() {
    let r = reference();
    let models = r["models"].as_array().unwrap();
    assert_eq!(models.len(), 6);
    for m in models {
        let name = m["kind"].as_str().unwrap();
        let kind: ModelKind = serde_json::from_value(m["kind"].clone()).unwrap();
        let shape: Vec<usize> = serde_json::from_value(m["shape"].clone()).unwrap();
        let shape = [shape[0], shape[1], shape[2]];
        let dim = m["feature_dim"].as_u64().unwrap() as i64;
        let mut vs = nn::VarStore::new(Device::Cpu);
        let net = models::backbone(&vs.root(), &spec(kind, dim as usize), shape);
        vs.set_kind(Kind::Double);
        let vars = trainable(&vs);
        let names: Vec<&String> = vars.iter().map(|(n, _)| n).collect();
        let want: Vec<String> = serde_json::from_value(m["names"].clone()).unwrap();
        let want: Vec<&String> = want.iter().collect();
        assert_eq!(names, want, "{name}: trainable parameter names");
        let shapes: Vec<Vec<i64>> = vars.iter().map(|(_, t)| t.size()).collect();
        let want: Vec<Vec<i64>> = serde_json::from_value(m["shapes"].clone()).unwrap();
        assert_eq!(shapes, want, "{name}: parameter shapes");
        assert_eq!(count(&vs), m["count"].as_i64().unwrap(), "{name}: count");

        fill(&vars);
        let [c, h, w] = shape.map(|v| v as i64);
        let x = ((Tensor::arange(2 * c * h * w, (Kind::Double, Device::Cpu)) * 0.37).sin() * 0.5
            + 0.5)
            .view([2, c, h, w]);
        let f = tch::no_grad(|| net.forward(&x, Mode::Train, None));
        assert_eq!(f.size(), vec![2, dim], "{name}: feature shape");
        let got = Vec::<f64>::try_from(&f.flatten(0, -1)).unwrap();
        let want = floats(&m["features"]);
        assert!(
            got.iter().any(|v| v.abs() > 1e-3),
            "{name}: features all ~0"
        );
        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - e).abs() <= 1e-9 * (1.0 + e.abs()),
                "{name}: feature {i} is {g}, the PyTorch mirror gives {e}"
            );
        }

        let acts = tch::no_grad(|| net.activations(&x));
        let widths: Vec<i64> = acts.iter().map(|a| a.size()[1]).collect();
        let mut want: Vec<i64> = serde_json::from_value(m["tap_widths"].clone()).unwrap();
        want.push(dim);
        assert_eq!(widths, want, "{name}: tapped activation widths");
    }
}

/// He et al. 2016, §4.2 / Table 6: CIFAR ResNet-20/32/56 have 0.27M, 0.46M
/// and 0.85M parameters with option-A shortcuts and a 10-way classifier.
/// Counted by hand for n blocks per stage and a feature layer of `d` units:
/// stem conv 3·16·9 + BN 2·16; stage 1: n blocks of two 16→16 convs + BNs;
/// stages 2, 3: a first block 16→32 (32→64) then n − 1 blocks 32→32 (64→64);
/// feature layer 64·d + d. Our feature layer replaces the 10-way classifier,
/// so with the default `feature_dim` 64 each model has 64·54 + 54 = 3,510
/// parameters more than He et al.'s (e.g. 273,232 for ResNet-20), before the
/// head's own.
#[test]
fn resnet_parameter_counts_match_he_et_al() {
    let by_hand = |n: i64, d: i64| {
        let conv = |cin: i64, cout: i64| cin * cout * 9;
        let bn = |c: i64| 2 * c;
        let block = |cin, cout| conv(cin, cout) + bn(cout) + conv(cout, cout) + bn(cout);
        conv(3, 16)
            + bn(16)
            + n * block(16, 16)
            + block(16, 32)
            + (n - 1) * block(32, 32)
            + block(32, 64)
            + (n - 1) * block(64, 64)
            + 64 * d
            + d
    };
    let kinds = [
        (ModelKind::Resnet20, 3, 269_722),
        (ModelKind::Resnet32, 5, 464_154),
        (ModelKind::Resnet56, 9, 853_018),
    ];
    for (kind, n, he) in kinds {
        assert_eq!(by_hand(n, 10), he, "{kind:?} by hand");
        for d in [10, 64] {
            let vs = nn::VarStore::new(Device::Cpu);
            let _net = models::backbone(&vs.root(), &spec(kind, d as usize), [3, 32, 32]);
            assert_eq!(count(&vs), by_hand(n, d), "{kind:?}, feature_dim {d}");
        }
    }
}

/// Normalisation is the model's first layer, from buffers that are saved with
/// the model but never trained: a model normalising with (mean, std) fed `x`
/// gives the features of the same weights with identity normalisation fed
/// `(x − mean) / std`, and an optimiser step with weight decay leaves the
/// buffers alone.
#[test]
fn normalisation_is_inside_the_model_and_not_trained() {
    let (mean, std) = ([0.4, 0.5, 0.6], [0.2, 0.25, 0.3]);
    let model = spec(ModelKind::SmallCnn, 8);
    let build = |m: &[f64], s: &[f64]| {
        Net::new(
            Device::Cpu,
            &model,
            &LossSpec::Softmax,
            [3, 8, 8],
            3,
            (m, s),
        )
    };
    let net = build(&mean, &std);
    let plain = build(&[0.0; 3], &[1.0; 3]);
    let vars = net.vs.variables();
    tch::no_grad(|| {
        for (name, t) in plain.vs.variables() {
            if !name.starts_with("norm.") {
                t.shallow_clone().copy_(&vars[&name]);
            }
        }
    });
    for (name, want) in [("norm.mean", &mean), ("norm.std", &std)] {
        let t = &vars[name];
        assert!(!t.requires_grad(), "{name} is trainable");
        let got = Vec::<f64>::try_from(&t.to_kind(Kind::Double).flatten(0, -1)).unwrap();
        assert!(
            got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-7),
            "{name}: {got:?}"
        );
    }
    let total: i64 = vars.values().map(|t| t.numel() as i64).sum();
    assert_eq!(
        count(&net.vs),
        total - 6,
        "only the 6 norm values are frozen"
    );

    tch::manual_seed(3);
    let x = Tensor::rand([4, 3, 8, 8], (Kind::Float, Device::Cpu));
    let m = Tensor::from_slice(&mean)
        .to_kind(Kind::Float)
        .view([1, 3, 1, 1]);
    let s = Tensor::from_slice(&std)
        .to_kind(Kind::Float)
        .view([1, 3, 1, 1]);
    let f = net.features(&x, false);
    let f_plain = plain.features(&((&x - m) / s), false);
    let gap = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]);
    assert!(
        gap(&f, &f_plain) < 1e-5,
        "normalised inside: {}",
        gap(&f, &f_plain)
    );
    assert!(
        gap(&f, &plain.features(&x, false)) > 1e-3,
        "normalisation has no effect"
    );

    let mut spec = common::train_spec(
        OptimizerSpec::Sgd(SgdParams {
            momentum: 0.9,
            nesterov: false,
            ..Default::default()
        }),
        0.5,
        1,
    );
    spec.weight_decay = 0.1;
    let mut opt = optim::optimizer(&net.vs, &spec).unwrap();
    let before: Vec<Tensor> = ["norm.mean", "norm.std", "small_cnn.conv1.weight"]
        .iter()
        .map(|n| vars[*n].copy())
        .collect();
    let y = Tensor::from_slice(&[0i64, 1, 2, 0]);
    opt.backward_step(
        &net.head
            .loss(&net.features(&x, true), &y, Progress::default()),
    );
    assert!(vars["norm.mean"].equal(&before[0]), "the mean moved");
    assert!(vars["norm.std"].equal(&before[1]), "the std moved");
    assert!(
        !vars["small_cnn.conv1.weight"].equal(&before[2]),
        "no step taken"
    );
}
