//! Training: augmentation, repeatability, divergence handling and
//! finite-difference gradient checks of every head on a tiny model.

use crate::common;
use lossbench::suite::spec::{CenterParams, LgmParams, LsoftmaxParams, SgdParams};

use common::{adam, train_spec};
use lossbench::data::{synthetic, SyntheticSpec};
use lossbench::heads::{Head, Progress};
use lossbench::suite::{Covariance, LossSpec, ModelKind, ModelSpec, OptimizerSpec};
use lossbench::train::{self, Net, Tensors};
use lossbench::Error;
use tch::{Device, Kind, Tensor};

/// libtorch's generator is global and tests run on parallel threads: every
/// test that seeds it holds this lock.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn all_losses() -> Vec<LossSpec> {
    vec![
        LossSpec::Softmax,
        LossSpec::Center(CenterParams {
            lambda: 0.1,
            alpha: 0.5,
            ..Default::default()
        }),
        LossSpec::Lsoftmax(LsoftmaxParams {
            m: 3,
            beta_base: 0.5,
            gamma: 0.0,
            power: 1.0,
            beta_min: 0.0,
            ..Default::default()
        }),
        LossSpec::Lgm(LgmParams {
            alpha: 0.3,
            lambda: 0.2,
            covariance: Covariance::Diagonal,
            log_var_floor: -6.0,
            warmup_epochs: 0,
            ..Default::default()
        }),
    ]
}

fn model(kind: ModelKind) -> ModelSpec {
    ModelSpec {
        kind,
        feature_dim: 3,
        dropout: 0.0,
        ..Default::default()
    }
}

fn tiny_data() -> (lossbench::data::Dataset, Tensors) {
    let ds = synthetic::generate(&SyntheticSpec {
        seed: 3,
        classes: 3,
        train: 96,
        test: 32,
        side: 8,
    })
    .unwrap();
    let t = Tensors::from_split(&ds.train, ds.shape, Device::Cpu);
    (ds, t)
}

#[test]
fn augment_crops_a_padded_window_and_maybe_flips() {
    let _rng = rng_lock();
    tch::manual_seed(7);
    let (n, c, h, w) = (16, 2, 5, 6);
    let x = Tensor::arange(n * c * h * w, (Kind::Float, Device::Cpu)).view([n, c, h, w]) + 1.0;
    let out = train::augment(&x);
    assert_eq!(out.size(), vec![n, c, h, w]);
    let padded = x.constant_pad_nd([4, 4, 4, 4]);
    let mut flipped = 0;
    let mut shifted = 0;
    for i in 0..n {
        let o = out.get(i);
        let found = (0..=8)
            .flat_map(|dy| (0..=8).map(move |dx| (dy, dx)))
            .find_map(|(dy, dx)| {
                let win = padded.get(i).narrow(1, dy, h).narrow(2, dx, w);
                if o.equal(&win) {
                    Some((dy, dx, false))
                } else if o.equal(&win.flip([2])) {
                    Some((dy, dx, true))
                } else {
                    None
                }
            });
        let (dy, dx, flip) = found.unwrap_or_else(|| panic!("sample {i} is no padded crop"));
        flipped += flip as usize;
        shifted += (dy != 4 || dx != 4) as usize;
    }
    assert!(flipped > 0 && flipped < n as usize, "flips: {flipped}/{n}");
    assert!(shifted > n as usize / 2, "shifted: {shifted}/{n}");
}

#[test]
fn the_same_seed_trains_to_identical_weights() {
    let _rng = rng_lock();
    let (ds, data) = tiny_data();
    let norm = train::channel_stats(&ds.train, 1);
    let run = |seed: i64| {
        tch::manual_seed(seed);
        let loss = all_losses()[3].clone();
        let net = Net::new(
            Device::Cpu,
            &model(ModelKind::SmallCnn),
            &loss,
            ds.shape,
            ds.classes,
            (&norm.0, &norm.1),
        );
        let mut spec = train_spec(adam(), 0.01, 2);
        spec.augment = true;
        let log = train::fit(&net, &data, &spec, "test").unwrap();
        let weights: Vec<f64> = {
            let vars = net.vs.variables();
            let mut names: Vec<_> = vars.keys().cloned().collect();
            names.sort();
            names
                .iter()
                .flat_map(|k| {
                    Vec::<f64>::try_from(&vars[k].to_kind(Kind::Double).flatten(0, -1)).unwrap()
                })
                .collect()
        };
        (log.iter().map(|e| e.loss).collect::<Vec<_>>(), weights)
    };
    let (log_a, w_a) = run(5);
    let (log_b, w_b) = run(5);
    let (_, w_c) = run(6);
    assert_eq!(log_a, log_b);
    assert_eq!(w_a, w_b, "same seed, different weights");
    assert_ne!(w_a, w_c, "different seeds, same weights");
}

#[test]
fn a_diverging_loss_stops_the_job_with_a_clear_error() {
    let _rng = rng_lock();
    let (ds, data) = tiny_data();
    tch::manual_seed(0);
    let net = Net::new(
        Device::Cpu,
        &model(ModelKind::Mlp),
        &LossSpec::Softmax,
        ds.shape,
        ds.classes,
        (&[0.5], &[0.25]),
    );
    let spec = train_spec(
        OptimizerSpec::Sgd(SgdParams {
            momentum: 0.9,
            nesterov: false,
            ..Default::default()
        }),
        1e30,
        3,
    );
    let err = train::fit(&net, &data, &spec, "[1/1] softmax seed 0").unwrap_err();
    assert!(matches!(err, Error::Job { .. }), "{err:?}");
    let msg = err.to_string();
    // 3 steps per epoch: the first update sends the weights to ~1e30, and the
    // check at the end of epoch 1 (step 3) sees the non-finite running loss.
    assert!(
        msg.contains("[1/1] softmax seed 0")
            && msg.contains("non-finite training loss")
            && msg.contains("detected at step 3 of 3 in epoch 1 ")
            && msg.contains("checked every 50 steps and at the end of each epoch"),
        "{msg}"
    );
}

/// Central differences on a tiny MLP in double precision: every head's
/// training loss gradient with respect to a sample of trainable parameters
/// (backbone and head) and to every entry of the features the head receives
/// agrees with autograd.
#[test]
fn finite_differences_agree_with_autograd_for_every_head() {
    let _rng = rng_lock();
    let (ds, data) = tiny_data();
    let x = data.x.narrow(0, 0, 12).to_kind(Kind::Double);
    let y = data.y.narrow(0, 0, 12);
    for loss in all_losses() {
        tch::manual_seed(11);
        let mut net = Net::new(
            Device::Cpu,
            &model(ModelKind::Mlp),
            &loss,
            ds.shape,
            ds.classes,
            (&[0.5], &[0.25]),
        );
        net.vs.set_kind(Kind::Double);
        // Give the L-GM log-variances non-trivial values.
        tch::no_grad(|| {
            for (name, v) in net.vs.variables() {
                if name.ends_with("log_var") {
                    v.shallow_clone().copy_(&(v.rand_like() * 0.6 - 0.3));
                }
            }
        });
        let at = Progress::default();
        let value = || net.head.loss(&net.features(&x, false), &y, at);
        let vars = net.vs.trainable_variables();
        let loss_t = value();
        let grads = Tensor::run_backward(&[loss_t], &vars, false, false);
        let h = 1e-6;
        let mut checked = 0;
        for (v, g) in vars.iter().zip(&grads) {
            let numel = v.numel() as i64;
            for k in [0, numel / 2, numel - 1] {
                let flat = v.view([-1]);
                let orig = flat.double_value(&[k]);
                let set = |val: f64| {
                    let _ = tch::no_grad(|| flat.get(k).fill_(val));
                };
                set(orig + h);
                let up = tch::no_grad(value).double_value(&[]);
                set(orig - h);
                let down = tch::no_grad(value).double_value(&[]);
                set(orig);
                let numeric = (up - down) / (2.0 * h);
                let analytic = g.view([-1]).double_value(&[k]);
                assert!(
                    (numeric - analytic).abs() <= 1e-5 * (1.0 + analytic.abs()),
                    "{}: d/d{v:?}[{k}] numeric {numeric} vs autograd {analytic}",
                    loss.name()
                );
                checked += 1;
            }
        }
        assert!(checked >= 15, "{}: only {checked} checks", loss.name());

        // The head's input: the features, as a leaf.
        let f = tch::no_grad(|| net.features(&x, false)).set_requires_grad(true);
        let grad_f = Tensor::run_backward(&[net.head.loss(&f, &y, at)], &[&f], false, false);
        let (flat, grad_f) = (f.view([-1]), grad_f[0].view([-1]));
        assert_eq!(flat.numel(), 12 * 3);
        for k in 0..flat.numel() as i64 {
            let orig = flat.double_value(&[k]);
            let at_value = |val: f64| {
                tch::no_grad(|| {
                    let _ = flat.get(k).fill_(val);
                    net.head.loss(&f, &y, at).double_value(&[])
                })
            };
            let numeric = (at_value(orig + h) - at_value(orig - h)) / (2.0 * h);
            let _ = at_value(orig);
            let analytic = grad_f.double_value(&[k]);
            assert!(
                (numeric - analytic).abs() <= 1e-5 * (1.0 + analytic.abs()),
                "{}: d/df[{k}] numeric {numeric} vs autograd {analytic}",
                loss.name()
            );
        }
    }
}

/// A head that keeps every [`Progress`] its loss is called with and
/// otherwise is the head it wraps.
#[derive(Debug)]
struct Recorder {
    inner: Box<dyn Head>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Progress>>>,
}

impl Head for Recorder {
    fn logits(&self, f: &Tensor) -> Tensor {
        self.inner.logits(f)
    }
    fn loss(&self, f: &Tensor, y: &Tensor, at: Progress) -> Tensor {
        self.seen.lock().unwrap().push(at);
        self.inner.loss(f, y, at)
    }
}

/// Stands in for the head while it moves into a [`Recorder`]; never called.
#[derive(Debug)]
struct Placeholder;

impl Head for Placeholder {
    fn logits(&self, _: &Tensor) -> Tensor {
        unreachable!("a placeholder")
    }
    fn loss(&self, _: &Tensor, _: &Tensor, _: Progress) -> Tensor {
        unreachable!("a placeholder")
    }
}

#[test]
fn the_loss_sees_the_step_the_epoch_and_the_runs_total_steps() {
    // 96 samples at batch 40, the last batch short: ⌈96 / 40⌉ = 3 steps
    // per epoch, 2 epochs = 6 steps, the total each step is told.
    let _rng = rng_lock();
    let (ds, data) = tiny_data();
    let norm = train::channel_stats(&ds.train, 1);
    tch::manual_seed(0);
    let mut net = Net::new(
        Device::Cpu,
        &model(ModelKind::Mlp),
        &LossSpec::Softmax,
        ds.shape,
        ds.classes,
        (&norm.0, &norm.1),
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let inner = std::mem::replace(&mut net.head, Box::new(Placeholder));
    net.head = Box::new(Recorder {
        inner,
        seen: seen.clone(),
    });
    let mut spec = train_spec(adam(), 0.01, 2);
    spec.batch_size = 40;
    assert_eq!(spec.total_steps(96), 6);
    train::fit(&net, &data, &spec, "test").unwrap();
    let seen = seen.lock().unwrap();
    let want: Vec<Progress> = (0..6u64)
        .map(|s| Progress {
            step: s,
            epoch: (s / 3) as f64 + (s % 3) as f64 / 3.0,
            total_steps: 6,
        })
        .collect();
    assert_eq!(*seen, want);
}
