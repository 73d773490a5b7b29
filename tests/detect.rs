//! Detectors (docs/definitions.md §3): every formula against an independent reference
//! (numpy / scikit-learn in tests/reference/detect_ref.py, which writes
//! tests/reference/detect_ref.json; a naive double loop; a hand derivation),
//! the MC-dropout and activation plumbing of the backbones, the kd-bu skip,
//! and an end-to-end smoke on a tiny trained model.

use crate::common;
use lossbench::suite::spec::{KdBuParams, KdParams, LgmParams, LidParams};

use common::{adam, floats, tensor, train_spec};
use lossbench::attacks;
use lossbench::data::{synthetic, SyntheticSpec};
use lossbench::detect::kd::neg_log_kernel_density;
use lossbench::detect::kd_bu::bayesian_uncertainty;
use lossbench::detect::lid::lid_mle;
use lossbench::detect::logistic::{LogisticRegression, StandardizedLogistic, DEFAULT_C};
use lossbench::detect::mahalanobis::{fit_tied_gaussian, min_mahalanobis};
use lossbench::detect::{self, Detector, FitData, Kd, Mahalanobis};
use lossbench::error::DetectorFailure;
use lossbench::models::Mode;
use lossbench::suite::{DetectorSpec, LossSpec, ModelKind, ModelSpec};
use lossbench::train::{self, Net, Tensors};
use lossbench::Error;
use serde_json::Value;
use tch::{Device, Kind, Tensor};

/// libtorch's generator is global and tests run on parallel threads: every
/// test holds this lock, since building a net draws from it too.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn reference() -> Value {
    serde_json::from_str(include_str!("reference/detect_ref.json")).unwrap()
}

fn vec_f64(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(&t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

/// `|got − want| ≤ rtol·|want| + atol` element-wise.
fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64, atol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= rtol * w.abs() + atol,
            "{what}[{i}]: got {g}, want {w}\ngot  {got:?}\nwant {want:?}"
        );
    }
}

fn model(kind: ModelKind, feature_dim: usize, dropout: f64) -> ModelSpec {
    ModelSpec {
        kind,
        feature_dim,
        dropout,
    }
}

fn net(spec: &ModelSpec, shape: [usize; 3], classes: usize) -> Net {
    let c = shape[0];
    Net::new(
        Device::Cpu,
        spec,
        &LossSpec::Softmax,
        shape,
        classes,
        (&vec![0.5; c], &vec![0.25; c]),
    )
}

#[test]
fn mahalanobis_matches_numpy() {
    let _rng = rng_lock();
    let r = &reference()["mahalanobis"];
    let classes = r["classes"].as_i64().unwrap();
    let f = tensor(&r["f"]);
    let y = Tensor::from_slice(
        &r["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect::<Vec<_>>(),
    );
    let query = tensor(&r["query"]);
    let (means, present, cov) = fit_tied_gaussian(&f, &y, classes);
    assert_eq!(
        Vec::<i64>::try_from(&present).unwrap(),
        vec![0, 1, 2],
        "class 3 has no sample"
    );
    assert_close(
        "means",
        &vec_f64(&means),
        &floats(&r["means"]["data"]),
        1e-12,
        1e-12,
    );
    assert_close(
        "cov (1/N)",
        &vec_f64(&cov),
        &floats(&r["cov"]["data"]),
        1e-12,
        1e-12,
    );
    let want = floats(&r["score"]["data"]);
    let precision = cov.inverse();
    let direct = min_mahalanobis(&query, &means, &precision);
    assert_close("score (inverse)", &vec_f64(&direct), &want, 1e-9, 1e-9);

    // The detector itself (f32 features as the runner gives them, pseudo-inverse).
    let n = net(&model(ModelKind::Mlp, 4, 0.0), [1, 2, 2], classes as usize);
    let x = Tensor::zeros([1, 1, 2, 2], (Kind::Float, Device::Cpu));
    let f32s = f.to_kind(Kind::Float);
    let mut det = Mahalanobis::new();
    det.fit(
        &n,
        &FitData {
            x: &x,
            y: &y,
            features: &f32s,
        },
    )
    .unwrap();
    let q32 = query.to_kind(Kind::Float);
    let got = det.score(&n, &x, &q32).unwrap();
    assert_eq!(got.kind(), Kind::Double);
    // f32 rounding of the inputs only.
    assert_close("detector score", &vec_f64(&got), &want, 1e-5, 1e-5);
}

#[test]
fn kernel_density_matches_a_direct_computation() {
    let _rng = rng_lock();
    for case in reference()["kd"].as_array().unwrap() {
        let sigma = case["sigma"].as_f64().unwrap();
        let got = neg_log_kernel_density(&tensor(&case["query"]), &tensor(&case["refs"]), sigma);
        let want = floats(&case["score"]["data"]);
        assert!(want.iter().all(|v| v.is_finite()));
        assert_close(
            &format!("kd sigma {sigma}"),
            &vec_f64(&got),
            &want,
            1e-12,
            1e-12,
        );
    }
    let empty = Tensor::zeros([0, 3], (Kind::Double, Device::Cpu));
    let q = Tensor::ones([2, 3], (Kind::Double, Device::Cpu));
    let s = vec_f64(&neg_log_kernel_density(&q, &empty, 1.0));
    assert!(
        s.iter().all(|v| *v == f64::INFINITY),
        "no reference: zero density"
    );
}

#[test]
fn kd_scores_against_the_predicted_class_by_naive_double_loop() {
    let _rng = rng_lock();
    tch::manual_seed(11);
    let classes = 3;
    let n = net(&model(ModelKind::Mlp, 3, 0.0), [1, 2, 2], classes);
    let train_f = Tensor::randn([30, 3], (Kind::Float, Device::Cpu)) * 2.0;
    let y = Tensor::arange(30, (Kind::Int64, Device::Cpu)).remainder(classes as i64);
    let query = Tensor::randn([12, 3], (Kind::Float, Device::Cpu)) * 2.0;
    let x = Tensor::zeros([1, 1, 2, 2], (Kind::Float, Device::Cpu));
    let sigma = 1.5;
    let mut kd = Kd::new(sigma);
    kd.fit(
        &n,
        &FitData {
            x: &x,
            y: &y,
            features: &train_f,
        },
    )
    .unwrap();
    let got = vec_f64(&tch::no_grad(|| kd.score(&n, &x, &query)).unwrap());

    let pred =
        Vec::<i64>::try_from(&tch::no_grad(|| n.head.logits(&query).argmax(1, false))).unwrap();
    let tf = vec_f64(&train_f);
    let ys = Vec::<i64>::try_from(&y).unwrap();
    let qf = vec_f64(&query);
    let mut seen = std::collections::BTreeSet::new();
    let want: Vec<f64> = (0..12)
        .map(|i| {
            seen.insert(pred[i]);
            let (mut sum, mut m) = (0.0, 0.0);
            for j in 0..30 {
                if ys[j] != pred[i] {
                    continue;
                }
                let d2: f64 = (0..3)
                    .map(|c| (qf[i * 3 + c] - tf[j * 3 + c]).powi(2))
                    .sum();
                sum += (-d2 / (sigma * sigma)).exp();
                m += 1.0;
            }
            -(sum / m).ln()
        })
        .collect();
    assert!(
        seen.len() >= 2,
        "the test should exercise several predicted classes"
    );
    // f32 features, squared distances by the expansion in f64.
    assert_close("kd", &got, &want, 1e-9, 1e-9);
}

/// Hand derivation. Five points on a line in 2-D (direction u = (0.6, 0.8),
/// |u| = 1): p_t = t·u for t = 0, 1, 2, 4, so distances are |t − t'|.
/// With exclude_self and k = 3 (the three other points):
///
/// ```text
/// t = 0: r = 1, 2, 4   Σ log(r_i/r_3) = log ¼ + log ½ + 0 = −3 log 2   LID = 1/log 2
/// t = 1: r = 1, 1, 3   Σ = 2 log ⅓ = −2 log 3                          LID = 3/(2 log 3)
/// t = 2: r = 1, 2, 2   Σ = log ½ = −log 2                              LID = 3/log 2
/// t = 4: r = 2, 3, 4   Σ = log ½ + log ¾ = log ⅜                       LID = 3/log(8/3)
/// ```
///
/// A query at t = −1, not among the references, k = 2: r = 1, 2,
/// Σ = log ½, LID = 2/log 2. With k = 1 every estimate is infinite (capped).
#[test]
fn lid_matches_the_hand_derivation_and_numpy() {
    let _rng = rng_lock();
    let line = |ts: &[f64]| {
        let v: Vec<f64> = ts.iter().flat_map(|t| [0.6 * t, 0.8 * t]).collect();
        Tensor::from_slice(&v).view([ts.len() as i64, 2])
    };
    let pts = line(&[0.0, 1.0, 2.0, 4.0]);
    let l2 = std::f64::consts::LN_2;
    let want = [
        1.0 / l2,
        3.0 / (2.0 * 3f64.ln()),
        3.0 / l2,
        3.0 / (8.0f64 / 3.0).ln(),
    ];
    assert_close(
        "exclude self",
        &vec_f64(&lid_mle(&pts, &pts, 3, true)),
        &want,
        1e-12,
        0.0,
    );
    // k larger than the candidates is clamped to them.
    assert_close(
        "k clamped",
        &vec_f64(&lid_mle(&pts, &pts, 10, true)),
        &want,
        1e-12,
        0.0,
    );
    let q = line(&[-1.0]);
    assert_close(
        "query",
        &vec_f64(&lid_mle(&q, &pts, 2, false)),
        &[2.0 / l2],
        1e-12,
        0.0,
    );
    let capped = vec_f64(&lid_mle(&pts, &pts, 1, true));
    assert!(capped.iter().all(|v| *v == detect::lid::LID_CAP));

    for case in reference()["lid"].as_array().unwrap() {
        let got = lid_mle(
            &tensor(&case["x"]),
            &tensor(&case["refs"]),
            case["k"].as_i64().unwrap(),
            case["exclude_self"].as_bool().unwrap(),
        );
        assert_close(
            "lid numpy",
            &vec_f64(&got),
            &floats(&case["lid"]["data"]),
            1e-10,
            0.0,
        );
    }
}

#[test]
fn logistic_regression_matches_sklearn() {
    let _rng = rng_lock();
    for case in reference()["logistic"].as_array().unwrap() {
        let d = case["d"].as_u64().unwrap() as usize;
        let x = floats(&case["x"]["data"]);
        let y: Vec<bool> = case["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        let x_new = floats(&case["x_new"]["data"]);
        let coef = floats(&case["coef"]["data"]);
        let intercept = case["intercept"].as_f64().unwrap();
        // scikit-learn's lbfgs stops on its tolerance (1e-12 here), Newton
        // converges to machine precision: they agree to ~2e-8.
        let (rtol, atol) = (1e-6, 1e-6);
        let (model, decision, decision_new) = if case["standardize"].as_bool().unwrap() {
            let m = StandardizedLogistic::fit(&x, d, &y, DEFAULT_C).unwrap();
            assert_close(
                "mean",
                &m.mean,
                &floats(&case["mean"]["data"]),
                1e-12,
                1e-12,
            );
            assert_close(
                "scale",
                &m.scale,
                &floats(&case["scale"]["data"]),
                1e-12,
                1e-12,
            );
            let (d, dn) = (m.decision_function(&x), m.decision_function(&x_new));
            (m.model, d, dn)
        } else {
            let m = LogisticRegression::fit(&x, d, &y, DEFAULT_C).unwrap();
            let (d, dn) = (m.decision_function(&x), m.decision_function(&x_new));
            (m, d, dn)
        };
        let what = format!("standardize {}", case["standardize"]);
        assert_close(&format!("{what} coef"), &model.coef, &coef, rtol, atol);
        assert_close(
            &format!("{what} intercept"),
            &[model.intercept],
            &[intercept],
            rtol,
            atol,
        );
        let want = floats(&case["decision"]["data"]);
        assert_close(&format!("{what} decision"), &decision, &want, rtol, atol);
        let want = floats(&case["decision_new"]["data"]);
        assert_close(
            &format!("{what} decision new"),
            &decision_new,
            &want,
            rtol,
            atol,
        );
    }
}

#[test]
fn logistic_regression_rejects_degenerate_input() {
    let _rng = rng_lock();
    let x = [0.0, 1.0, 2.0, 3.0];
    assert!(
        LogisticRegression::fit(&x, 1, &[true; 4], 1.0).is_err(),
        "one class"
    );
    let bad = [0.0, f64::INFINITY, 2.0, 3.0];
    let y = [false, false, true, true];
    let e = StandardizedLogistic::fit(&bad, 1, &y, 1.0).unwrap_err();
    assert!(e.to_string().contains("inf"), "{e}");
    // Perfectly separable: the L2 penalty keeps the solution finite.
    let m = LogisticRegression::fit(&x, 1, &y, 1.0).unwrap();
    assert!(m.coef[0].is_finite() && m.coef[0] > 0.0);
    // A constant feature is centred, not scaled, and gets no weight.
    let x2 = [5.0, 0.0, 5.0, 1.0, 5.0, 2.0, 5.0, 3.0];
    let m = StandardizedLogistic::fit(&x2, 2, &y, 1.0).unwrap();
    assert_eq!(m.scale[0], 1.0);
    assert!(m.model.coef[0].abs() < 1e-12);
}

#[test]
fn bayesian_uncertainty_matches_numpy() {
    let _rng = rng_lock();
    let r = &reference()["bu"];
    let got = bayesian_uncertainty(&tensor(&r["probs"]));
    assert_close(
        "bu",
        &vec_f64(&got),
        &floats(&r["bu"]["data"]),
        1e-12,
        1e-15,
    );
}

#[test]
fn build_skips_kd_bu_without_dropout_with_a_reason() {
    let _rng = rng_lock();
    tch::manual_seed(1);
    let kd_bu = DetectorSpec::KdBu(KdBuParams {
        sigma: 1.0,
        samples: 5,
        ..Default::default()
    });
    let plain = net(&model(ModelKind::Mlp, 3, 0.0), [1, 4, 4], 3);
    let why = detect::build(&kd_bu, &plain)
        .err()
        .expect("kd-bu needs dropout");
    assert!(why.contains("dropout"), "{why}");
    let with = net(&model(ModelKind::Mlp, 3, 0.3), [1, 4, 4], 3);
    assert_eq!(detect::build(&kd_bu, &with).unwrap().name(), "kd-bu");
    for (spec, name) in [
        (DetectorSpec::Mahalanobis, "mahalanobis"),
        (
            DetectorSpec::Kd(KdParams {
                sigma: 1.0,
                ..Default::default()
            }),
            "kd",
        ),
        (
            DetectorSpec::Lid(LidParams {
                k: 3,
                batch: 10,
                ..Default::default()
            }),
            "lid",
        ),
    ] {
        let d = detect::build(&spec, &plain).unwrap();
        assert_eq!(d.name(), name);
        assert_eq!(d.supervised(), name == "lid");
    }
}

/// `Mode::McDropout` draws dropout masks but keeps batch norm in eval mode;
/// `features(x, train)` is unchanged; activations end with features and logits.
#[test]
fn mc_dropout_mode_and_activations() {
    let _rng = rng_lock();
    tch::manual_seed(5);
    let x = Tensor::rand([4, 3, 8, 8], (Kind::Float, Device::Cpu));
    for (kind, layers) in [
        (ModelKind::Mlp, 2),
        (ModelKind::SmallCnn, 3),
        (ModelKind::Lenetpp, 3),
        (ModelKind::Resnet20, 4),
    ] {
        let plain = net(&model(kind, 5, 0.0), [3, 8, 8], 4);
        // Without dropout MC-dropout mode is eval mode, batch norm included
        // (its running statistics, not the batch's).
        let eval = plain.features(&x, false);
        let mc = plain.features_mode(&x, Mode::McDropout);
        assert!(
            mc.equal(&eval),
            "{kind:?}: McDropout without dropout = eval"
        );
        assert!(plain.features_mode(&x, Mode::Eval).equal(&eval));
        let acts = plain.activations(&x);
        assert_eq!(acts.len(), layers + 2, "{kind:?}: taps + features + logits");
        assert!(
            acts[layers].equal(&eval),
            "{kind:?}: features before logits"
        );
        assert!(
            acts[layers + 1].equal(&plain.logits(&x)),
            "{kind:?}: logits last"
        );
        assert!(acts.iter().all(|a| a.dim() == 2 && a.size()[0] == 4));
        if kind == ModelKind::Resnet20 {
            let vars = plain.vs.variables();
            let before = vars["resnet.bn.running_mean"].copy();
            let _ = plain.features_mode(&x, Mode::McDropout);
            assert!(
                vars["resnet.bn.running_mean"].equal(&before),
                "McDropout moved BN stats"
            );
            let train = tch::no_grad(|| plain.features(&x, true));
            assert!(
                !train.allclose(&eval, 1e-6, 1e-6, false),
                "train mode uses batch stats"
            );
        }

        let drop = net(&model(kind, 5, 0.5), [3, 8, 8], 4);
        assert_eq!(drop.dropout(), 0.5);
        let a = drop.features_mode(&x, Mode::McDropout);
        let b = drop.features_mode(&x, Mode::McDropout);
        assert!(!a.equal(&b), "{kind:?}: MC-dropout passes differ");
        assert!(drop.features(&x, false).equal(&drop.features(&x, false)));
        // Running the trunk once and the dropout + feature layer T times is
        // the same as T full passes, mask for mask.
        tch::manual_seed(11);
        let once = drop.mc_dropout_logits(&x, 3);
        tch::manual_seed(11);
        for (t, z) in once.iter().enumerate() {
            let full = drop.head.logits(&drop.features_mode(&x, Mode::McDropout));
            assert!(z.equal(&full), "{kind:?}: MC pass {t} differs");
        }
    }
}

#[test]
fn every_detector_fits_and_scores_a_tiny_trained_model() {
    let _rng = rng_lock();
    let ds = synthetic::generate(&SyntheticSpec {
        seed: 4,
        classes: 3,
        train: 96,
        test: 40,
        side: 8,
    })
    .unwrap();
    let train_t = Tensors::from_split(&ds.train, ds.shape, Device::Cpu);
    let test_t = Tensors::from_split(&ds.test, ds.shape, Device::Cpu);
    let norm = train::channel_stats(&ds.train, 1);
    tch::manual_seed(2);
    let n = Net::new(
        Device::Cpu,
        &model(ModelKind::SmallCnn, 8, 0.3),
        &LossSpec::Softmax,
        ds.shape,
        ds.classes,
        (&norm.0, &norm.1),
    );
    let spec = train_spec(adam(), 0.01, 2);
    train::fit(&n, &train_t, &spec, "detect smoke").unwrap();

    let eval = |x: &Tensor| train::map_batches(x, 1000, |b| n.features(b, false));
    let features = eval(&train_t.x);
    let fit = FitData {
        x: &train_t.x,
        y: &train_t.y,
        features: &features,
    };
    // One FGSM step stands in for an attack.
    let grad = attacks::input_gradient(&n, &test_t.x, &test_t.y);
    let adv = (&test_t.x + grad.sign() * 0.15).clamp(0.0, 1.0);
    let (fit_n, rest) = (24, 16);
    let (clean_fit, adv_fit) = (test_t.x.narrow(0, 0, fit_n), adv.narrow(0, 0, fit_n));
    let (clean_s, adv_s) = (test_t.x.narrow(0, fit_n, rest), adv.narrow(0, fit_n, rest));
    let specs = [
        DetectorSpec::MaxSoftmax,
        DetectorSpec::Mahalanobis,
        DetectorSpec::Kd(KdParams {
            sigma: 1.0,
            ..Default::default()
        }),
        DetectorSpec::KdBu(KdBuParams {
            sigma: 1.0,
            samples: 8,
            ..Default::default()
        }),
        // batch < test chunk: several reference minibatches.
        DetectorSpec::Lid(LidParams {
            k: 5,
            batch: 10,
            ..Default::default()
        }),
    ];
    for spec in &specs {
        let mut d = detect::build(spec, &n).unwrap();
        d.fit(&n, &fit).unwrap();
        if d.supervised() {
            // A detector's own failure is a detector error naming it.
            match d.score(&n, &clean_s, &eval(&clean_s)) {
                Err(Error::Detector {
                    detector,
                    attack: None,
                    source: DetectorFailure::Check(_),
                }) => assert_eq!(detector, d.name()),
                other => panic!("{}: score before fit_pairs gave {other:?}", d.name()),
            }
            d.fit_pairs(&n, &clean_fit, &adv_fit).unwrap();
        }
        for (what, x) in [("clean", &clean_s), ("adversarial", &adv_s)] {
            let f = eval(x);
            let s = tch::no_grad(|| d.score(&n, x, &f)).unwrap();
            assert_eq!(s.size(), vec![rest], "{}: shape", d.name());
            let v = vec_f64(&s);
            assert!(
                v.iter().all(|x| !x.is_nan()),
                "{} on {what}: NaN score {v:?}",
                d.name()
            );
            if d.name() == "lid" {
                // Seeded references: the same images score the same.
                let again = tch::no_grad(|| d.score(&n, x, &f)).unwrap();
                assert!(again.equal(&s), "lid is not repeatable");
            }
        }
    }
}

/// `lgm-likelihood` against docs/definitions.md §3 written out in f64 by hand, with ŷ the
/// class of highest density (the L-GM inference logits with equal priors):
///
/// ```text
/// s = −log N(f; μ_ŷ, diag(σ²_ŷ))
///   = ½ Σ_d (f_d − μ_ŷd)²/σ²_ŷd + ½ Σ_d log σ²_ŷd + (D/2) log 2π
/// ```
///
/// Diagonal covariance, three classes, D = 4.
#[test]
fn lgm_likelihood_matches_the_spec_formula() {
    let _rng = rng_lock();
    tch::manual_seed(13);
    let (k, d) = (3usize, 4usize);
    let spec = LossSpec::Lgm(LgmParams {
        alpha: 0.1,
        lambda: 0.1,
        covariance: lossbench::suite::Covariance::Diagonal,
        log_var_floor: -6.0,
        warmup_epochs: 0,
        ..Default::default()
    });
    let n = Net::new(
        Device::Cpu,
        &model(ModelKind::Mlp, d, 0.0),
        &spec,
        [1, 4, 4],
        k,
        (&[0.5], &[0.25]),
    );
    let means: Vec<f64> = (0..k * d)
        .map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.6)
        .collect();
    let log_var: Vec<f64> = (0..k * d)
        .map(|i| ((i * 3 % 4) as f64 - 1.5) * 0.5)
        .collect();
    let vars = n.vs.variables();
    let set = |suffix: &str, v: &[f64]| {
        let (_, t) = vars
            .iter()
            .find(|(name, _)| name.ends_with(suffix))
            .unwrap();
        let src = Tensor::from_slice(v)
            .view([k as i64, d as i64])
            .to_kind(t.kind());
        tch::no_grad(|| t.shallow_clone().copy_(&src));
    };
    set("means", &means);
    set("log_var", &log_var);
    let feats: Vec<f64> = (0..5 * d)
        .map(|i| ((i * 11 % 9) as f64 - 4.0) * 0.45)
        .collect();
    let f = Tensor::from_slice(&feats)
        .view([5, d as i64])
        .to_kind(Kind::Float);
    let x = Tensor::zeros([5, 1, 4, 4], (Kind::Float, Device::Cpu));
    let got = vec_f64(&detect::LgmLikelihood.score(&n, &x, &f).unwrap());

    let nll = |i: usize, c: usize| -> f64 {
        (0..d)
            .map(|j| {
                let (m, lv) = (means[c * d + j], log_var[c * d + j]);
                0.5 * (feats[i * d + j] - m).powi(2) / lv.exp() + 0.5 * lv
            })
            .sum::<f64>()
            + 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln()
    };
    let want: Vec<f64> = (0..5)
        .map(|i| (0..k).map(|c| nll(i, c)).fold(f64::INFINITY, f64::min))
        .collect();
    // f32 parameters and features: agreement to float precision.
    assert_close("lgm-likelihood", &got, &want, 1e-5, 1e-5);
}
