//! Adaptive attacks (docs/definitions.md §2.7): each detector term's
//! gradient against central finite differences on a float64 copy of a
//! trained L-GM model, and an adaptive PGD that lowers the AUROC of the
//! detector it targets below its non-adaptive twin's on a fixed fixture.

use crate::common::{adam, train_spec};
use lossbench::attacks::{Adaptive, Attack, Base, Pgd};
use lossbench::data::{synthetic, SyntheticSpec};
use lossbench::detect::{self, Detector, FitData};
use lossbench::metrics::Detection;
use lossbench::suite::spec::{AdaptiveTarget, LgmParams};
use lossbench::suite::{AutoOr, DetectorSpec, LossSpec, ModelKind, ModelSpec, Norm};
use lossbench::train::{self, Net, Tensors};
use tch::{Device, Kind, Reduction, Tensor};

/// libtorch's generator is global: tests that seed it hold this lock.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

const TARGETS: [AdaptiveTarget; 4] = [
    AdaptiveTarget::MaxSoftmax,
    AdaptiveTarget::LgmLikelihood,
    AdaptiveTarget::Mahalanobis,
    AdaptiveTarget::Kd,
];

/// A small CNN with an L-GM head (diagonal covariance) trained briefly on
/// seeded synthetic data; its clean training split; and the clean-correct
/// test images.
fn trained_lgm() -> (Net, Tensors, Tensor, Tensor) {
    tch::set_num_threads(1);
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let ds = synthetic::generate(&SyntheticSpec {
        seed: 11,
        classes: 4,
        train: 256,
        test: 96,
        side: 8,
    })
    .unwrap();
    let norm = train::channel_stats(&ds.train, 1);
    tch::manual_seed(5);
    let loss = LossSpec::Lgm(LgmParams {
        covariance: lossbench::suite::Covariance::Diagonal,
        ..Default::default()
    });
    let model = ModelSpec {
        kind: ModelKind::SmallCnn,
        feature_dim: 8,
        dropout: 0.0,
        ..Default::default()
    };
    let net = Net::new(
        Device::Cpu,
        &model,
        &loss,
        ds.shape,
        ds.classes,
        (&norm.0, &norm.1),
    );
    let train_t = Tensors::from_split(&ds.train, ds.shape, Device::Cpu);
    train::fit(&net, &train_t, &train_spec(adam(), 3e-3, 6), "adaptive").unwrap();
    let test = Tensors::from_split(&ds.test, ds.shape, Device::Cpu);
    let keep = train::predict(&net, &test.x, 1000)
        .eq_tensor(&test.y)
        .nonzero()
        .squeeze_dim(1);
    assert!(keep.size()[0] >= 60, "the model did not learn");
    let (x, y) = (test.x.index_select(0, &keep), test.y.index_select(0, &keep));
    (net, train_t, x, y)
}

/// The detector `target`, fitted on the clean training split.
fn fitted(target: AdaptiveTarget, net: &Net, train: &Tensors) -> Box<dyn Detector> {
    let spec = match target {
        AdaptiveTarget::MaxSoftmax => DetectorSpec::MaxSoftmax,
        AdaptiveTarget::LgmLikelihood => DetectorSpec::LgmLikelihood,
        AdaptiveTarget::Mahalanobis => DetectorSpec::Mahalanobis,
        AdaptiveTarget::Kd => DetectorSpec::Kd(lossbench::suite::spec::KdParams {
            sigma: AutoOr::Auto,
            ..Default::default()
        }),
    };
    let mut det = detect::build(&spec, net).unwrap();
    let features = tch::no_grad(|| net.features(&train.x, false));
    let fit = FitData {
        x: &train.x,
        y: &train.y,
        features: &features,
    };
    det.fit(net, &fit).unwrap();
    det
}

fn pgd(eps: f64) -> Pgd {
    Pgd {
        eps,
        norm: Norm::Linf,
        step_size: eps / 8.0,
        steps: 20,
        random_start: false,
        restarts: 1,
    }
}

/// `∇ₓ Σ [CE − κ m s]` of every adaptive objective against central
/// differences along random directions, in float64 (weights and images):
/// agreement to 1e-5 relative to the directional derivative's size (the
/// differences' own error at h = 1e-6 is about 1e-9; a ReLU kink inside
/// [x − hv, x + hv] would show as a gross mismatch, and none is met here).
#[test]
fn every_adaptive_gradient_matches_finite_differences() {
    let (mut net, train_t, x, y) = trained_lgm();
    net.vs.double();
    let train64 = Tensors {
        x: train_t.x.to_kind(Kind::Double),
        y: train_t.y.shallow_clone(),
    };
    // Three clean images and three that PGD misclassifies: the detector
    // term acts on the latter only.
    let (x, y) = (x.narrow(0, 0, 12).to_kind(Kind::Double), y.narrow(0, 0, 12));
    let adv = pgd(0.3).run(&net, &x, &y);
    let fooled = adv.success.nonzero().squeeze_dim(1).narrow(0, 0, 3);
    let x = Tensor::cat(&[x.narrow(0, 0, 3), adv.x_adv.index_select(0, &fooled)], 0);
    let y = Tensor::cat(&[y.narrow(0, 0, 3), y.index_select(0, &fooled)], 0);
    let kappa = 0.7;
    for target in TARGETS {
        let det = fitted(target, &net, &train64);
        let score = |x: &Tensor| det.differentiable_score(&net, x).unwrap().unwrap();
        let adaptive = Adaptive {
            base: Base::Pgd(pgd(0.1)),
            target,
            kappa,
            score: &score,
        };
        let g = adaptive.gradient(&net, &x, &y);
        let objective = |x: &Tensor| {
            tch::no_grad(|| {
                let ce =
                    net.logits(x)
                        .cross_entropy_loss::<Tensor>(&y, None, Reduction::Sum, -100, 0.0);
                let fooled = net.logits(x).argmax(1, false).ne_tensor(&y);
                let s = (score(x) * fooled.to_kind(Kind::Double)).sum(Kind::Double);
                (ce - s * kappa).double_value(&[])
            })
        };
        let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(17);
        let h = 1e-6;
        for _ in 0..3 {
            let v = x.randn_like();
            let v = &v / v.norm();
            let fd = (objective(&(&x + &v * h)) - objective(&(&x - &v * h))) / (2.0 * h);
            let analytic = (&g * &v).sum(Kind::Double).double_value(&[]);
            let err = (fd - analytic).abs() / analytic.abs().max(1e-3);
            assert!(
                err < 1e-5,
                "{}: finite difference {fd}, gradient {analytic}",
                target.name()
            );
        }
    }
}

/// On the fixed fixture, the adaptive PGD against each detector leaves that
/// detector a lower AUROC (successful examples against their clean
/// counterparts) than plain PGD at the same budget does.
#[test]
fn an_adaptive_attack_lowers_its_detectors_auroc() {
    let (net, train_t, x, y) = trained_lgm();
    let plain = pgd(0.3);
    let x_plain = plain.run(&net, &x, &y);
    for target in [AdaptiveTarget::LgmLikelihood, AdaptiveTarget::Mahalanobis] {
        let det = fitted(target, &net, &train_t);
        let score = |x: &Tensor| det.differentiable_score(&net, x).unwrap().unwrap();
        let adaptive = Adaptive {
            base: Base::Pgd(plain),
            target,
            kappa: 1.0,
            score: &score,
        };
        let x_adaptive = adaptive.run(&net, &x, &y);

        let auroc = |adv: &Tensor, success: &Tensor| {
            let s = |t: &Tensor| {
                let s = tch::no_grad(|| score(t)).to_kind(Kind::Double);
                Vec::<f64>::try_from(&s.masked_select(success)).unwrap()
            };
            Detection::compute(&s(adv), &s(&x)).unwrap().auroc
        };
        let (a_plain, a_adaptive) = (
            auroc(&x_plain.x_adv, &x_plain.success),
            auroc(&x_adaptive.x_adv, &x_adaptive.success),
        );
        let fooled = |s: &Tensor| s.sum(Kind::Int64).int64_value(&[]);
        eprintln!(
            "{}: AUROC {a_plain:.3} under PGD ({} fooled), {a_adaptive:.3} under {} ({} fooled) of {}",
            target.name(),
            fooled(&x_plain.success),
            adaptive.label(),
            fooled(&x_adaptive.success),
            x.size()[0]
        );
        assert!(fooled(&x_adaptive.success) >= 10, "{}", target.name());
        assert!(
            a_adaptive < a_plain - 0.05,
            "{}: {a_adaptive} is not below {a_plain}",
            target.name()
        );
    }
}
