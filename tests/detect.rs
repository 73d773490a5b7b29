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
use lossbench::detect::kd::{
    auto_bandwidth, bandwidth_grid, feature_scale, held_out_log_likelihood, kde_log_density,
    neg_log_kernel_density, select_bandwidth,
};
use lossbench::detect::kd_bu::bayesian_uncertainty;
use lossbench::detect::lid::{lid_layers, minibatch_lid, minibatches, mle_batch};
use lossbench::detect::logistic::{
    cv_grid, stratified_folds, LogisticRegression, StandardizedLogistic, CV_CS, CV_FOLDS, DEFAULT_C,
};
use lossbench::detect::mahalanobis::{fit_tied_gaussian, min_mahalanobis};
use lossbench::detect::{self, Detector, FitData, Kd, Mahalanobis, Pairs};
use lossbench::error::DetectorFailure;
use lossbench::models::Mode;
use lossbench::suite::{AutoOr, DetectorSpec, LossSpec, ModelKind, ModelSpec};
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
        ..Default::default()
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
    let mut kd = Kd::new(AutoOr::Fixed(sigma));
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

/// Hand derivation. Four points on a line in 2-D (direction u = (0.6, 0.8),
/// |u| = 1): p_t = t·u for t = 0, 1, 2, 4, so distances are |t − t'|. As a
/// minibatch of its own (data = queries), k = 3 (the three other points once
/// the first neighbour, the point itself, is dropped):
///
/// ```text
/// t = 0: r = 1, 2, 4   Σ log(r_i/r_3) = log ¼ + log ½ + 0 = −3 log 2   LID = 1/log 2
/// t = 1: r = 1, 1, 3   Σ = 2 log ⅓ = −2 log 3                          LID = 3/(2 log 3)
/// t = 2: r = 1, 2, 2   Σ = log ½ = −log 2                              LID = 3/log 2
/// t = 4: r = 2, 3, 4   Σ = log ½ + log ¾ = log ⅜                       LID = 3/log(8/3)
/// ```
///
/// A query at t = −1, not in the minibatch, k = 2: distances 1, 2, 3, 5; the
/// first (1) is dropped as the authors drop it: r = 2, 3, Σ = log ⅔,
/// LID = 2/log(3/2). With k = 1 every estimate is infinite (capped).
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
        "own minibatch",
        &vec_f64(&mle_batch(&pts, &pts, 3)),
        &want,
        1e-12,
        0.0,
    );
    // k past the minibatch is capped at its size − 1.
    assert_close(
        "k capped",
        &vec_f64(&mle_batch(&pts, &pts, 10)),
        &want,
        1e-12,
        0.0,
    );
    let q = line(&[-1.0]);
    assert_close(
        "query, first neighbour dropped",
        &vec_f64(&mle_batch(&pts, &q, 2)),
        &[2.0 / 1.5f64.ln()],
        1e-12,
        0.0,
    );
    let capped = vec_f64(&mle_batch(&pts, &pts, 1));
    assert!(capped.iter().all(|v| *v == detect::lid::LID_CAP));

    for case in reference()["lid"].as_array().unwrap() {
        let got = mle_batch(
            &tensor(&case["data"]),
            &tensor(&case["queries"]),
            case["k"].as_i64().unwrap(),
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

/// Ma et al.'s `get_lids_random_batch` (numpy, detect_ref.py) on fixed
/// points with three fixed "layers": the neighbours of every clean,
/// adversarial and noisy sample are the clean samples of its own minibatch.
/// References drawn from anywhere else (e.g. training images) fail this.
#[test]
fn minibatch_lid_matches_the_authors_loop() {
    let _rng = rng_lock();
    let r = &reference()["minibatch_lid"];
    let (w1, w2) = (tensor(&r["w1"]), tensor(&r["w2"]));
    let layers = |x: &Tensor| vec![x.shallow_clone(), x.matmul(&w1).tanh(), x.matmul(&w2)];
    for case in r["cases"].as_array().unwrap() {
        let (n, batch, k) = (
            case["n"].as_i64().unwrap(),
            case["batch"].as_i64().unwrap(),
            case["k"].as_i64().unwrap(),
        );
        let want_batches: Vec<(i64, i64)> = case["minibatches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let (s, e) = (b[0].as_i64().unwrap(), b[1].as_i64().unwrap());
                (s, e - s)
            })
            .collect();
        assert_eq!(minibatches(n, batch), want_batches, "n {n} batch {batch}");
        let (clean, adv, noisy) = (
            tensor(&case["clean"]),
            tensor(&case["adv"]),
            tensor(&case["noisy"]),
        );
        let (c, others) = minibatch_lid(&clean, &[&adv, &noisy], k, batch, layers).unwrap();
        assert_eq!(c.size(), vec![n, 3]);
        for (what, got) in [("clean", &c), ("adv", &others[0]), ("noisy", &others[1])] {
            assert_close(
                &format!("n {n} {what}"),
                &vec_f64(got),
                &floats(&case[format!("lid_{what}")]["data"]),
                1e-10,
                0.0,
            );
        }
    }
    let one = Tensor::zeros([1, 6], (Kind::Double, Device::Cpu));
    let e = minibatch_lid(&one, &[], 20, 100, layers).unwrap_err();
    assert!(e.contains("at least 2"), "{e}");
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
        sigma: AutoOr::Fixed(1.0),
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
                sigma: AutoOr::Fixed(1.0),
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
            sigma: AutoOr::Fixed(1.0),
            ..Default::default()
        }),
        DetectorSpec::KdBu(KdBuParams {
            sigma: AutoOr::Fixed(1.0),
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
    let noisy_fit = detect::noisy_copies(&clean_fit, &adv_fit, 3);
    let pairs = Pairs {
        clean: &clean_fit,
        adv: &adv_fit,
        noisy: &noisy_fit,
    };
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
            d.fit_pairs(&n, &pairs).unwrap();
            // C chosen by cross-validation, from scikit-learn's grid.
            let chosen = d.fitted_on_pairs();
            assert_eq!(chosen.len(), 1, "{}: {chosen:?}", d.name());
            assert_eq!(chosen[0].0, "lr_c");
            assert!(cv_grid(CV_CS).contains(&chosen[0].1), "{chosen:?}");
        }
        let sigma = d.fitted_on_clean();
        match d.name() {
            "kd" | "kd-bu" => assert!(
                sigma.len() == 1 && sigma[0].0 == "kd_sigma" && sigma[0].1 > 0.0,
                "{}: {sigma:?}",
                d.name()
            ),
            _ => assert!(sigma.is_empty(), "{}: {sigma:?}", d.name()),
        }
        let (fc, fa) = (eval(&clean_s), eval(&adv_s));
        let (sc, sa) = tch::no_grad(|| d.score_pairs(&n, &clean_s, &adv_s, &fc, &fa)).unwrap();
        for (what, s) in [("clean", &sc), ("adversarial", &sa)] {
            assert_eq!(s.size(), vec![rest], "{}: shape", d.name());
            let v = vec_f64(s);
            assert!(
                v.iter().all(|x| !x.is_nan()),
                "{} on {what}: NaN score {v:?}",
                d.name()
            );
        }
        if d.name() != "lid" {
            // Scored one image at a time, as score_pairs' default does.
            let alone = tch::no_grad(|| d.score(&n, &clean_s, &fc)).unwrap();
            if d.name() != "kd-bu" {
                assert!(alone.equal(&sc), "{}", d.name());
            }
        } else {
            // The clean samples' LID does not depend on their adversarial
            // counterparts: each is among the clean samples of its minibatch.
            let again = tch::no_grad(|| d.score_pairs(&n, &clean_s, &clean_s, &fc, &fc)).unwrap();
            assert!(
                again.0.equal(&sc),
                "lid clean scores depend on the adversarial batch"
            );
            let alone = tch::no_grad(|| d.score(&n, &clean_s, &fc)).unwrap();
            assert!(
                alone.equal(&sc),
                "lid score = the clean side of score_pairs"
            );
        }
    }
}

/// `lid`'s layers: the flattened input first, then the backbone's.
#[test]
fn lid_layers_start_with_the_input() {
    let _rng = rng_lock();
    tch::manual_seed(3);
    let n = net(&model(ModelKind::SmallCnn, 5, 0.0), [1, 8, 8], 3);
    let x = Tensor::rand([4, 1, 8, 8], (Kind::Float, Device::Cpu));
    let layers = tch::no_grad(|| lid_layers(&n, &x));
    let acts = tch::no_grad(|| n.activations(&x));
    assert_eq!(layers.len(), acts.len() + 1);
    assert!(layers[0].equal(&x.view([4, 64])));
    for (a, b) in layers[1..].iter().zip(&acts) {
        assert!(a.equal(b));
    }
}

/// The noisy negatives: noise of the adversarial perturbation's L2 norm,
/// clipped to [0, 1], seeded.
#[test]
fn noisy_copies_match_the_perturbation_norm() {
    let _rng = rng_lock();
    tch::manual_seed(8);
    let clean = Tensor::full([6, 2, 5, 5], 0.5, (Kind::Float, Device::Cpu));
    let delta = (Tensor::rand([6, 2, 5, 5], (Kind::Float, Device::Cpu)) - 0.5) * 0.02;
    let adv = &clean + &delta;
    let noisy = detect::noisy_copies(&clean, &adv, 7);
    assert_eq!(noisy.kind(), Kind::Float);
    let norms = |t: &Tensor| {
        vec_f64(
            &t.to_kind(Kind::Double)
                .flatten(1, -1)
                .norm_scalaropt_dim(2.0, [1], false),
        )
    };
    // Small noise around 0.5: no pixel is clipped, so the norms agree.
    assert_close(
        "noise L2 = perturbation L2",
        &norms(&(&noisy - &clean)),
        &norms(&delta),
        1e-5,
        0.0,
    );
    assert!(!(&noisy - &adv).abs().max().double_value(&[]).eq(&0.0));
    assert!(
        noisy.equal(&detect::noisy_copies(&clean, &adv, 7)),
        "seeded"
    );
    assert!(
        !noisy.equal(&detect::noisy_copies(&clean, &adv, 8)),
        "by the seed"
    );
    // Large perturbations are clipped to the pixel range.
    let big = detect::noisy_copies(&clean, &(&clean + 3.0), 7);
    let (lo, hi) = (big.min().double_value(&[]), big.max().double_value(&[]));
    assert!(lo == 0.0 && hi == 1.0, "{lo} {hi}");
    // The draws are standard normal.
    let g = detect::standard_normals(
        &mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1),
        20_001,
    );
    let mean = g.iter().sum::<f64>() / g.len() as f64;
    let var = g.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / g.len() as f64;
    assert!(
        g.len() == 20_001 && mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
        "{mean} {var}"
    );
}

/// `sigma: auto` against scikit-learn's `KernelDensity` (detect_ref.py): the
/// normalised log-density with `bandwidth = σ/√2`, the held-out
/// log-likelihood of every grid value, and the chosen σ (interior of the
/// grid; an unnormalised likelihood would choose the largest σ).
#[test]
fn auto_bandwidth_matches_sklearn_kernel_density() {
    let _rng = rng_lock();
    let r = &reference()["kde"];
    for case in r["density"].as_array().unwrap() {
        let sigma = case["sigma"].as_f64().unwrap();
        let got = kde_log_density(&tensor(&case["query"]), &tensor(&case["refs"]), sigma);
        assert_close(
            &format!("log density sigma {sigma}"),
            &vec_f64(&got),
            &floats(&case["log_density"]["data"]),
            1e-10,
            1e-10,
        );
    }
    let labels = |v: &Value| {
        let y: Vec<i64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        Tensor::from_slice(&y)
    };
    let classes = r["classes"].as_i64().unwrap();
    let (fit_f, fit_y) = (tensor(&r["fit_f"]), labels(&r["fit_y"]));
    let (held_f, held_y) = (tensor(&r["held_f"]), labels(&r["held_y"]));
    let scale = feature_scale(&fit_f, &fit_y, classes);
    assert_close(
        "scale",
        &[scale],
        &[r["scale"].as_f64().unwrap()],
        1e-12,
        0.0,
    );
    let grid = bandwidth_grid(scale);
    assert_close("grid", &grid, &floats(&r["grid"]["data"]), 1e-12, 0.0);
    let ll = held_out_log_likelihood(&fit_f, &fit_y, &held_f, &held_y, classes, &grid);
    assert_close(
        "held-out log-likelihood",
        &ll,
        &floats(&r["log_likelihood"]["data"]),
        1e-9,
        1e-9,
    );
    let choice = select_bandwidth(&fit_f, &fit_y, &held_f, &held_y, classes).unwrap();
    assert_eq!(
        choice.sigma,
        grid[grid.iter().position(|g| *g == choice.sigma).unwrap()]
    );
    assert_close(
        "chosen sigma",
        &[choice.sigma],
        &[r["sigma"].as_f64().unwrap()],
        1e-12,
        0.0,
    );
    assert!(choice.sigma != grid[0] && choice.sigma != grid[grid.len() - 1]);

    // The detector: auto picks from the grid of a seeded held-out split,
    // the same every time, and then scores as with that fixed σ.
    let all_f = Tensor::cat(&[&fit_f, &held_f], 0);
    let all_y = Tensor::cat(&[&fit_y, &held_y], 0);
    let a = auto_bandwidth(&all_f, &all_y, classes).unwrap();
    assert_eq!(a, auto_bandwidth(&all_f, &all_y, classes).unwrap());
    assert!(a.grid.contains(&a.sigma));
    tch::manual_seed(4);
    let n = net(&model(ModelKind::Mlp, 3, 0.0), [1, 2, 2], classes as usize);
    let x = Tensor::zeros([1, 1, 2, 2], (Kind::Float, Device::Cpu));
    let fit = FitData {
        x: &x,
        y: &all_y,
        features: &all_f,
    };
    let mut auto = Kd::new(AutoOr::Auto);
    assert_eq!(auto.sigma(), None);
    auto.fit(&n, &fit).unwrap();
    assert_eq!(auto.sigma(), Some(a.sigma));
    assert_eq!(auto.fitted_on_clean(), vec![("kd_sigma", a.sigma)]);
    let mut fixed = Kd::new(AutoOr::Fixed(a.sigma));
    fixed.fit(&n, &fit).unwrap();
    let q = tensor(&r["density"][0]["query"]).to_kind(Kind::Float);
    let (sa, sf) = tch::no_grad(|| {
        (
            auto.score(&n, &x, &q).unwrap(),
            fixed.score(&n, &x, &q).unwrap(),
        )
    });
    assert!(sa.equal(&sf));
    // Features without spread: a detector error, not a panic.
    let flat = Tensor::ones([10, 3], (Kind::Double, Device::Cpu));
    let y10 = Tensor::zeros([10], (Kind::Int64, Device::Cpu));
    let e = Kd::new(AutoOr::Auto)
        .fit(
            &n,
            &FitData {
                x: &x,
                y: &y10,
                features: &flat,
            },
        )
        .unwrap_err();
    let e = lossbench::error::OneLine(&e).to_string();
    assert!(e.starts_with("detector 'kd': sigma: auto needs"), "{e}");
}

/// The cross-validated C against scikit-learn's `LogisticRegressionCV`
/// (detect_ref.py): the grid `np.logspace(-4, 4, 10)`, `StratifiedKFold`'s
/// folds, the chosen C, the mean fold accuracies and the refitted decision
/// function.
#[test]
fn cross_validated_logistic_regression_matches_sklearn() {
    let _rng = rng_lock();
    let r = &reference()["logistic_cv"];
    assert_close(
        "grid",
        &cv_grid(CV_CS),
        &floats(&r["grid"]["data"]),
        1e-15,
        0.0,
    );
    let bools = |v: &Value| -> Vec<bool> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect()
    };
    for case in r["folds"].as_array().unwrap() {
        let y = bools(&case["y"]);
        let k = case["n_splits"].as_u64().unwrap() as usize;
        let want: Vec<usize> = case["folds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(stratified_folds(&y, k), want, "{y:?}");
    }
    for case in r["cases"].as_array().unwrap() {
        let d = case["d"].as_u64().unwrap() as usize;
        let (x, y, x_new) = (
            floats(&case["x"]["data"]),
            bools(&case["y"]),
            floats(&case["x_new"]["data"]),
        );
        let cs = floats(&case["cs"]["data"]);
        let what = format!("standardize {}", case["standardize"]);
        let (decision, decision_new, choice, model) = if case["standardize"].as_bool().unwrap() {
            let (m, choice) = StandardizedLogistic::fit_cv(&x, d, &y, &cs, CV_FOLDS).unwrap();
            (
                m.decision_function(&x),
                m.decision_function(&x_new),
                choice,
                m.model,
            )
        } else {
            let (m, choice) = LogisticRegression::fit_cv(&x, d, &y, &cs, CV_FOLDS).unwrap();
            (
                m.decision_function(&x),
                m.decision_function(&x_new),
                choice,
                m,
            )
        };
        assert_eq!(choice.c, case["c"].as_f64().unwrap(), "{what}: chosen C");
        assert_eq!(choice.folds, 5);
        assert_close(
            &format!("{what} accuracy"),
            &choice.accuracy,
            &floats(&case["accuracy"]["data"]),
            1e-12,
            0.0,
        );
        let (rtol, atol) = (1e-6, 1e-6);
        assert_close(
            &format!("{what} coef"),
            &model.coef,
            &floats(&case["coef"]["data"]),
            rtol,
            atol,
        );
        assert_close(
            &format!("{what} intercept"),
            &[model.intercept],
            &[case["intercept"].as_f64().unwrap()],
            rtol,
            atol,
        );
        assert_close(
            &format!("{what} decision"),
            &decision,
            &floats(&case["decision"]["data"]),
            rtol,
            atol,
        );
        assert_close(
            &format!("{what} decision new"),
            &decision_new,
            &floats(&case["decision_new"]["data"]),
            rtol,
            atol,
        );
    }
    // Too few samples of a class to cross-validate: an error, not a panic.
    let e = LogisticRegression::fit_cv(
        &[0.0, 1.0, 2.0],
        1,
        &[false, false, true],
        &cv_grid(CV_CS),
        CV_FOLDS,
    )
    .unwrap_err();
    assert!(e.to_string().contains("at least 2"), "{e}");
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
