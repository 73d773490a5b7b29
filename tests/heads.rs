//! Heads against hand derivations (docs/definitions.md §1). Values are small enough to check
//! on paper; the derivation is in each test's comment.

use lossbench::heads::{self, Head, LgmHead, Progress};
use lossbench::suite::spec::{CenterParams, LgmParams, LsoftmaxParams};
use lossbench::suite::{Covariance, LossSpec};
use tch::{nn, Device, Kind, Tensor};

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    let diff = (a - b).abs().max().double_value(&[]);
    assert!(
        diff <= tol,
        "max |a - b| = {diff} > {tol}\na = {a}\nb = {b}"
    );
}

fn lgm(alpha: f64, lambda: f64, covariance: Covariance) -> LossSpec {
    LossSpec::Lgm(LgmParams {
        alpha,
        lambda,
        covariance,
        log_var_floor: -6.0,
        warmup_epochs: 0,
        ..Default::default()
    })
}

/// Sets every variable whose name ends with `suffix` to `value`.
fn set(vs: &nn::VarStore, suffix: &str, value: &Tensor) {
    let vars = vs.variables();
    let (_, t) = vars
        .iter()
        .find(|(k, _)| k.ends_with(suffix))
        .unwrap_or_else(|| panic!("no variable *{suffix} in {:?}", vars.keys()));
    tch::no_grad(|| t.shallow_clone().copy_(value));
}

#[test]
fn lgm_identity_logits_are_negative_half_squared_distances() {
    // μ_0 = (0, 0), μ_1 = (1, 2); f = (1, 0):
    // d_0 = ½(1 + 0) = 0.5, d_1 = ½(0 + 4) = 2, so z = (−0.5, −2).
    let vs = nn::VarStore::new(Device::Cpu);
    let head = heads::build(&vs.root(), &lgm(0.0, 0.0, Covariance::Identity), 2, 2);
    set(
        &vs,
        "means",
        &Tensor::from_slice(&[0f32, 0., 1., 2.]).view([2, 2]),
    );
    let f = Tensor::from_slice(&[1f32, 0.]).view([1, 2]);
    close(
        &head.logits(&f),
        &Tensor::from_slice(&[-0.5f32, -2.]).view([1, 2]),
        1e-6,
    );
    // With α = λ = 0 the loss is plain CE over those logits:
    // −log(e^{−0.5} / (e^{−0.5} + e^{−2})) = log(1 + e^{−1.5}).
    let y = Tensor::from_slice(&[0i64]);
    let loss = head.loss(&f, &y, Progress::default()).double_value(&[]);
    assert!(
        (loss - (1.0 + (-1.5f64).exp()).ln()).abs() < 1e-6,
        "loss {loss}"
    );
    // log N(f; μ_0, I) = −0.5 − log 2π  (D = 2).
    let ll = head.log_likelihood(&f).unwrap();
    let want = -0.5 - (2.0 * std::f64::consts::PI).ln();
    assert!((ll.double_value(&[0, 0]) - want).abs() < 1e-5);
}

#[test]
fn lgm_margin_scales_the_true_class_distance_by_one_plus_alpha() {
    let alpha = 0.3;
    let vs = nn::VarStore::new(Device::Cpu);
    let spec = lgm(alpha, 0.0, Covariance::Identity);
    let head = heads::build(&vs.root(), &spec, 2, 3);
    let f = Tensor::from_slice(&[0.3f32, -1.2, 2.0, 0.5]).view([2, 2]);
    let y = Tensor::from_slice(&[2i64, 0]);
    // Inference logits: no margin. Training loss with margin α equals CE over
    // logits whose true-class entry is multiplied by (1 + α) (identity: logdet 0).
    let z = head.logits(&f);
    let onehot = y.one_hot(3).to_kind(Kind::Float);
    let z_margin = &z * (&onehot * alpha + 1.0);
    let want = z_margin.cross_entropy_for_logits(&y);
    let got = head.loss(&f, &y, Progress::default());
    close(&got, &want, 1e-6);
    // And the margin really reaches the gradient: α changes ∂L/∂f.
    let vs0 = nn::VarStore::new(Device::Cpu);
    let plain = heads::build(&vs0.root(), &lgm(0.0, 0.0, Covariance::Identity), 2, 3);
    tch::no_grad(|| {
        vs0.variables()["head.means"]
            .shallow_clone()
            .copy_(&vs.variables()["head.means"])
    });
    let grad = |h: &dyn heads::Head| {
        let fx = f.detach().set_requires_grad(true);
        let l = h.loss(&fx, &y, Progress::default());
        Tensor::run_backward(&[l], &[&fx], false, false)
            .pop()
            .unwrap()
    };
    let diff = (grad(head.as_ref()) - grad(plain.as_ref()))
        .abs()
        .max()
        .double_value(&[]);
    assert!(
        diff > 1e-4,
        "α did not change the gradient (max diff {diff})"
    );
}

#[test]
fn lgm_diagonal_distance_and_log_det() {
    // μ_0 = (0, 0), log σ² = (ln 4, 0) → Λ = diag(4, 1); f = (2, 1):
    // d_0 = ½(4/4 + 1/1) = 1, ½ log|Λ| = ½ ln 4, z_0 = −1 − ln 2.
    let vs = nn::VarStore::new(Device::Cpu);
    let head = heads::build(&vs.root(), &lgm(0.0, 0.0, Covariance::Diagonal), 2, 1);
    set(
        &vs,
        "means",
        &Tensor::zeros([1, 2], (Kind::Float, Device::Cpu)),
    );
    set(
        &vs,
        "log_var",
        &Tensor::from_slice(&[4f32.ln(), 0.]).view([1, 2]),
    );
    let f = Tensor::from_slice(&[2f32, 1.]).view([1, 2]);
    let z = head.logits(&f).double_value(&[0, 0]);
    assert!((z - (-1.0 - 2f64.ln())).abs() < 1e-6, "z {z}");
}

#[test]
fn lgm_likelihood_regulariser_adds_lambda_times_true_class_distance() {
    // α = 0, λ = 0.5, identity: L = CE(z, y) + 0.5 · mean_i d_{y_i}.
    let vs = nn::VarStore::new(Device::Cpu);
    let head = heads::build(&vs.root(), &lgm(0.0, 0.5, Covariance::Identity), 2, 2);
    set(
        &vs,
        "means",
        &Tensor::from_slice(&[0f32, 0., 1., 2.]).view([2, 2]),
    );
    let f = Tensor::from_slice(&[1f32, 0.]).view([1, 2]);
    let y = Tensor::from_slice(&[1i64]);
    // d = (0.5, 2); CE for class 1 = log(1 + e^{1.5}); plus 0.5 · 2.
    let want = (1.0 + 1.5f64.exp()).ln() + 1.0;
    let got = head.loss(&f, &y, Progress::default()).double_value(&[]);
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
}

fn lgm_params(alpha: f64, lambda: f64, warmup_epochs: usize) -> LgmParams {
    LgmParams {
        alpha,
        lambda,
        covariance: Covariance::Diagonal,
        log_var_floor: -6.0,
        warmup_epochs,
        ..Default::default()
    }
}

#[test]
fn lgm_warmup_ramps_alpha_and_lambda_linearly_by_epoch() {
    // α = 0.4, λ = 0.2, warm-up over 4 epochs: both scale by min(epoch / 4, 1),
    // whatever the step count; without warm-up they hold from the start.
    let vs = nn::VarStore::new(Device::Cpu);
    let head = LgmHead::new(&vs.root(), 2, 2, lgm_params(0.4, 0.2, 4));
    let cases = [
        (0.0, 0.0),
        (1.0, 0.25),
        (2.0, 0.5),
        (3.5, 0.875),
        (4.0, 1.0),
        (9.25, 1.0),
    ];
    for (epoch, ramp) in cases {
        for step in [0, 12_345] {
            let (a, l) = head.schedule(Progress {
                step,
                epoch,
                ..Default::default()
            });
            assert!(
                (a - 0.4 * ramp).abs() < 1e-12 && (l - 0.2 * ramp).abs() < 1e-12,
                "epoch {epoch}, step {step}: (α, λ) = ({a}, {l}), want ramp {ramp}"
            );
        }
    }
    let vs0 = nn::VarStore::new(Device::Cpu);
    let no_warmup = LgmHead::new(&vs0.root(), 2, 2, lgm_params(0.4, 0.2, 0));
    assert_eq!(no_warmup.schedule(Progress::default()), (0.4, 0.2));
}

#[test]
fn lgm_warmup_loss_equals_the_loss_with_the_ramped_values_set_directly() {
    // At epoch 1 of a 4-epoch warm-up with α = 0.4, λ = 0.2 the loss is that of
    // α = 0.1, λ = 0.05 without warm-up (same means and log-variances); at
    // epoch 0 it is the plain cross-entropy of the inference logits.
    let means = Tensor::from_slice(&[0f64, 0., 1., 2.]).view([2, 2]);
    let log_var = Tensor::from_slice(&[0.2f64, -0.3, 0.1, 0.4]).view([2, 2]);
    let build = |params| {
        let mut vs = nn::VarStore::new(Device::Cpu);
        vs.set_kind(Kind::Double);
        let head = LgmHead::new(&vs.root(), 2, 2, params);
        set(&vs, "means", &means);
        set(&vs, "log_var", &log_var);
        (vs, head)
    };
    let (_vs_w, warm) = build(lgm_params(0.4, 0.2, 4));
    let (_vs_r, ramped) = build(lgm_params(0.1, 0.05, 0));
    let (_vs_f, full) = build(lgm_params(0.4, 0.2, 0));
    let f = Tensor::from_slice(&[1f64, 0., 0.5, 1.5, -0.5, 0.5]).view([3, 2]);
    let y = Tensor::from_slice(&[0i64, 1, 1]);
    let loss = |h: &LgmHead, epoch| {
        h.loss(
            &f,
            &y,
            Progress {
                step: 7,
                epoch,
                ..Default::default()
            },
        )
        .double_value(&[])
    };
    let got = loss(&warm, 1.0);
    let want = loss(&ramped, 123.0);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let unramped = loss(&full, 1.0);
    assert!((got - unramped).abs() > 1e-3, "warm-up changed nothing");
    let plain = heads::cross_entropy(&warm.logits(&f), &y).double_value(&[]);
    let at_zero = loss(&warm, 0.0);
    assert!((at_zero - plain).abs() < 1e-12, "{at_zero} vs {plain}");
    assert!((loss(&warm, 4.0) - unramped).abs() < 1e-12);
}

#[test]
fn center_update_matches_hand_computation() {
    // α = 0.5, centres start at 0. Batch: f = (2, 0) and (4, 2), both class 1;
    // (0, 2) class 0. Δc_1 = Σ(c_1 − f_i) / (1 + n_1) = ((0,0)−(2,0) + (0,0)−(4,2)) / 3
    //        = (−2, −2/3);  c_1 ← 0 − 0.5 · (−2, −2/3) = (1, 1/3).
    // Δc_0 = (0 − (0, 2)) / 2 = (0, −1);  c_0 ← (0, 0.5).
    let vs = nn::VarStore::new(Device::Cpu);
    let head = heads::build(
        &vs.root(),
        &LossSpec::Center(CenterParams {
            lambda: 0.01,
            alpha: 0.5,
            ..Default::default()
        }),
        2,
        2,
    );
    let f = Tensor::from_slice(&[2f32, 0., 4., 2., 0., 2.]).view([3, 2]);
    let y = Tensor::from_slice(&[1i64, 1, 0]);
    head.after_step(&f, &y);
    let c = vs.variables()["head.centers"].shallow_clone();
    close(
        &c,
        &Tensor::from_slice(&[0f32, 0.5, 1., 1. / 3.]).view([2, 2]),
        1e-6,
    );
}

fn lsoftmax(m: u32, beta_base: f64) -> LossSpec {
    LossSpec::Lsoftmax(LsoftmaxParams {
        m,
        beta_base,
        gamma: 0.0,
        power: 1.0,
        beta_min: 0.0,
        ..Default::default()
    })
}

#[test]
fn lsoftmax_psi_is_continuous_and_decreasing_on_zero_to_pi() {
    // ψ(θ) = (−1)^k cos(mθ) − 2k must fall monotonically from 1 to 1 − 2m,
    // with no jump at the piece boundaries kπ/m.
    for m in 1..=4u32 {
        let theta = Tensor::linspace(
            0.0,
            std::f64::consts::PI,
            20001,
            (Kind::Double, Device::Cpu),
        );
        let psi = heads::lsoftmax_psi(&theta.cos(), m);
        let v: Vec<f64> = Vec::try_from(&psi).unwrap();
        assert!((v[0] - 1.0).abs() < 1e-9, "m={m}: ψ(0) = {}", v[0]);
        let end = 1.0 - 2.0 * m as f64;
        assert!(
            (v[v.len() - 1] - end).abs() < 1e-6,
            "m={m}: ψ(π) = {}",
            v[v.len() - 1]
        );
        let max_step = v.windows(2).map(|w| w[0] - w[1]).fold(f64::MIN, f64::max);
        let min_step = v.windows(2).map(|w| w[0] - w[1]).fold(f64::MAX, f64::min);
        assert!(
            min_step >= -1e-12,
            "m={m}: ψ increases somewhere ({min_step})"
        );
        // Continuity: no step larger than the steepest slope allows (|ψ'| ≤ m).
        let h = std::f64::consts::PI / 20000.0;
        assert!(max_step <= m as f64 * h * 1.01, "m={m}: jump of {max_step}");
    }
}

#[test]
fn lsoftmax_with_m_one_or_huge_beta_is_plain_softmax() {
    let f = Tensor::from_slice(&[0.3f64, -1.2, 2.0, 0.5, -0.7, 0.1]).view([3, 2]);
    let y = Tensor::from_slice(&[2i64, 0, 1]);
    for (m, beta) in [(1, 0.0), (4, 1e12)] {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let head = heads::build(&vs.root(), &lsoftmax(m, beta), 2, 3);
        vs.set_kind(Kind::Double);
        let plain = heads::cross_entropy(&head.logits(&f), &y);
        close(&head.loss(&f, &y, Progress::default()), &plain, 1e-9);
    }
    // And m = 2 with β = 0 does differ: the margin reaches the loss.
    let mut vs = nn::VarStore::new(Device::Cpu);
    let head = heads::build(&vs.root(), &lsoftmax(2, 0.0), 2, 3);
    vs.set_kind(Kind::Double);
    let plain = heads::cross_entropy(&head.logits(&f), &y).double_value(&[]);
    let margin = head.loss(&f, &y, Progress::default()).double_value(&[]);
    assert!(
        margin > plain + 1e-3,
        "margin loss {margin} vs plain {plain}"
    );
}

#[test]
fn lsoftmax_beta_anneals_to_its_floor() {
    let vs = nn::VarStore::new(Device::Cpu);
    let p = heads::LsoftmaxParams {
        m: 2,
        beta_base: 1000.0,
        gamma: 2.5e-5,
        power: 35.0,
        beta_min: 0.0,
        ..Default::default()
    };
    let head = heads::LsoftmaxHead::new(&vs.root(), 2, 3, p.clone());
    // β(0) = 1000; β(10^4) = 1000 · 1.25^(−35) ≈ 0.4056 (hand computation).
    assert!((head.beta(0, 0) - 1000.0).abs() < 1e-9);
    assert!((head.beta(10_000, 0) - 1000.0 * 1.25f64.powf(-35.0)).abs() < 1e-9);
    let floored = heads::LsoftmaxHead::new(
        &(vs.root() / "b"),
        2,
        3,
        heads::LsoftmaxParams { beta_min: 5.0, ..p },
    );
    assert!((floored.beta(10_000, 0) - 5.0).abs() < 1e-12);
}

#[test]
fn lsoftmax_absolute_schedule_reaches_one_at_step_8728_whatever_the_run() {
    // The authors' constants: β(s) < 1 ⇔ s > (1000^(1/35) − 1) / 2.5e-5.
    // By hand, 1000^(1/35) = e^(6.907755 / 35) = e^0.197364 = 1.218186, so
    // the bound is 0.218186 / 2.5e-5 = 8727.4 and the first step below 1 is
    // 8728, however long the run.
    let p = LsoftmaxParams::default();
    assert_eq!(p.margin_at, None);
    let bound = (1000f64.powf(1.0 / 35.0) - 1.0) / 2.5e-5;
    assert!((8727.0..8728.0).contains(&bound), "{bound}");
    for total in [0, 470, 20_000] {
        assert_eq!(p.gamma_for(total), 2.5e-5);
        assert_eq!(p.margin_step(total), Some(8728));
    }
    assert!(p.beta(8727, 0) >= 1.0 && p.beta(8728, 0) < 1.0);
    // A floor at 1 or more, a zero rate or a zero power: never below 1.
    for q in [
        LsoftmaxParams {
            beta_min: 1.0,
            ..p.clone()
        },
        LsoftmaxParams {
            gamma: 0.0,
            ..p.clone()
        },
        LsoftmaxParams {
            power: 0.0,
            ..p.clone()
        },
    ] {
        assert_eq!(q.margin_step(1000), None, "{q:?}");
    }
    // β_base below 1: in force from the first step.
    let low = LsoftmaxParams {
        beta_base: 0.5,
        ..p.clone()
    };
    assert_eq!(low.margin_step(10), Some(0));
}

#[test]
fn lsoftmax_relative_schedule_reaches_one_at_the_stated_fraction_of_the_run() {
    for (r, total) in [(0.5, 200u64), (0.25, 470), (0.8, 19_698), (1.0, 64)] {
        let p = LsoftmaxParams {
            margin_at: Some(r),
            // Ignored in the relative form.
            gamma: 123.0,
            ..Default::default()
        };
        let at = r * total as f64;
        // γ = (β_base^(1/power) − 1) / (r·S), so β(r·S) = β_base · β_base^(−1) = 1.
        let gamma = (1000f64.powf(1.0 / 35.0) - 1.0) / at;
        assert!((p.gamma_for(total) - gamma).abs() <= 1e-15 * gamma);
        let unfloored = |s: f64| 1000.0 * (1.0 + gamma * s).powf(-35.0);
        assert!((unfloored(at) - 1.0).abs() < 1e-9);
        let s = p.margin_step(total).unwrap();
        assert!(
            s as f64 >= at && s as f64 <= at.floor() + 1.0,
            "r {r}, S {total}: first step below 1 is {s}, want just after {at}"
        );
        assert!(p.beta(s - 1, total) >= 1.0 && p.beta(s, total) < 1.0);
        // The same fraction of a longer run comes later, in steps.
        assert!(p.margin_step(2 * total).unwrap() > s);
    }
}

/// `∂z'_y/∂f`, summed over the batch, of the training logit of the true
/// class for β at `step` of a run of `total` steps.
fn true_class_grad(head: &heads::LsoftmaxHead, f: &Tensor, y: &Tensor, beta: f64) -> Tensor {
    let f = f.detach().set_requires_grad(true);
    let z = head.training_logits(&f, y, beta);
    let zy = z.gather(1, &y.unsqueeze(1), false).sum(Kind::Double);
    Tensor::run_backward(&[zy], &[&f], false, false)
        .pop()
        .unwrap()
}

#[test]
fn lsoftmax_relative_margin_changes_the_true_class_gradient_within_100_steps() {
    // A run of 2 epochs of 12 800 samples at batch 128 = 200 optimiser
    // steps; `margin-at: 0.5` puts β = 1 at step 100. At step 99 the
    // gradient of the true-class training logit with respect to the features
    // must differ from plain softmax's (the inference logit W_y · f, whose
    // gradient is W_y), while the absolute schedule's β(99) ≈ 919 leaves it
    // within a fraction of a percent of plain softmax's.
    let train = lossbench::suite::TrainSpec {
        epochs: 2,
        batch_size: 128,
        ..crate::common::train_spec(crate::common::adam(), 1e-3, 2)
    };
    let total = train.total_steps(12_800);
    assert_eq!(total, 200);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let relative = LsoftmaxParams {
        m: 2,
        margin_at: Some(0.5),
        ..Default::default()
    };
    let head = heads::LsoftmaxHead::new(&vs.root(), 3, 4, relative.clone());
    vs.set_kind(Kind::Double);
    let f = Tensor::from_slice(&[
        0.9f64, -0.3, 0.4, 0.2, 1.1, -0.5, -0.7, 0.1, 0.8, 0.3, 0.3, -1.2,
    ])
    .view([4, 3]);
    let y = Tensor::from_slice(&[0i64, 1, 2, 3]);
    let w = vs.variables()["weight"].shallow_clone();
    let plain = w.index_select(0, &y).detach(); // ∂(W_y · f)/∂f, per sample
    let gap = |beta: f64| -> f64 {
        let g = true_class_grad(&head, &f, &y, beta);
        ((&g - &plain).norm().double_value(&[])) / plain.norm().double_value(&[])
    };
    // β = ∞ (plain) and the formula agree: the check itself works.
    assert!(gap(1e15) < 1e-9);
    let beta_rel = relative.beta(99, total);
    assert!(
        (1.0..1.1).contains(&beta_rel),
        "β(99) of the relative schedule: {beta_rel}"
    );
    let rel = gap(beta_rel);
    assert!(rel > 0.2, "relative schedule, step 99: gradient gap {rel}");
    let absolute = LsoftmaxParams {
        m: 2,
        ..Default::default()
    };
    let beta_abs = absolute.beta(99, total);
    assert!(beta_abs > 900.0, "{beta_abs}");
    let abs = gap(beta_abs);
    assert!(
        abs < 0.01 * rel.max(0.2),
        "absolute schedule, step 99: gap {abs}"
    );
    // And the loss the trainer calls sees the same β through Progress.
    let at = Progress {
        step: 99,
        epoch: 0.99,
        total_steps: total,
    };
    let want = heads::cross_entropy(&head.training_logits(&f, &y, beta_rel), &y);
    close(&head.loss(&f, &y, at), &want, 1e-12);
}
