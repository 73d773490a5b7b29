//! Valid files: defaults filled, every key read, both YAML styles.

use super::*;
use lossbench::suite::spec::{
    CenterParams, FgsmParams, LgmParams, LsoftmaxParams, MultistepParams, SgdParams, StepParams,
};
use lossbench::suite::Entries;

#[test]
fn base_is_valid() {
    let suite = parse(BASE);
    assert_eq!(suite.losses.len(), 3);
    assert_eq!(suite.train.epochs, 4);
}

#[test]
fn minimal_file_gets_every_default() {
    let suite = Suite::load(&fixture("minimal.yaml")).unwrap();
    let expected = Suite {
        name: "minimal".into(),
        description: String::new(),
        data: DataSpec {
            dataset: DatasetName::Synthetic,
            path: None,
            train_subset: None,
            test_subset: None,
            attack_subset: None,
            classes: None,
            synthetic: SyntheticSpec::default(),
        },
        model: ModelSpec {
            kind: ModelKind::Mlp,
            feature_dim: 64,
            dropout: 0.0,
            ..Default::default()
        },
        train: default_train(),
        losses: vec![LossSpec::Softmax].into(),
        seeds: vec![0],
        attacks: vec![].into(),
        detectors: vec![],
        ood: vec![],
        regression: RegressionSpec::default(),
    };
    assert_eq!(suite, expected);
}

/// What `full.yaml` and `full-flow.yaml` resolve to.
pub(super) fn full_suite() -> Suite {
    Suite {
        name: "full_suite-1".into(),
        description: "every key, block style".into(),
        data: DataSpec {
            dataset: DatasetName::Synthetic,
            path: None,
            train_subset: Some(400),
            test_subset: Some(200),
            attack_subset: None,
            classes: None,
            synthetic: SyntheticSpec {
                seed: 7,
                classes: 3,
                train: 500,
                test: 250,
                side: 16,
            },
        },
        model: ModelSpec {
            kind: ModelKind::SmallCnn,
            feature_dim: 32,
            dropout: 0.25,
            ..Default::default()
        },
        train: TrainSpec {
            epochs: 10,
            batch_size: 64,
            optimizer: OptimizerSpec::Sgd(SgdParams {
                momentum: 0.5,
                nesterov: true,
                ..Default::default()
            }),
            lr: 0.05,
            schedule: ScheduleSpec::Multistep(MultistepParams {
                milestones: vec![5, 8],
                gamma: 0.5,
                ..Default::default()
            }),
            weight_decay: 0.0005,
            augment: true,
        },
        losses: vec![
            LossSpec::Softmax,
            LossSpec::Center(CenterParams {
                lambda: 0.02,
                alpha: 0.25,
                ..Default::default()
            }),
            LossSpec::Lgm(LgmParams {
                alpha: 0.3,
                lambda: 0.2,
                covariance: Covariance::Diagonal,
                log_var_floor: -4.0,
                warmup_epochs: 2,
                ..Default::default()
            }),
        ]
        .into(),
        seeds: vec![0, 1, 2],
        attacks: vec![AttackSpec::Fgsm(FgsmParams {
            eps: vec![0.0, 0.05, 0.1],
            ..Default::default()
        })]
        .into(),
        detectors: vec![DetectorSpec::MaxSoftmax, DetectorSpec::LgmLikelihood],
        ood: vec![],
        regression: RegressionSpec {
            tolerances: BTreeMap::from([
                ("auroc".to_owned(), 0.03),
                ("clean_acc".to_owned(), 0.02),
            ]),
        },
    }
}

#[test]
fn full_file_sets_every_key() {
    assert_eq!(Suite::load(&fixture("full.yaml")).unwrap(), full_suite());
}

#[test]
fn flow_style_reads_the_same_as_block_style() {
    assert_eq!(
        Suite::load(&fixture("full-flow.yaml")).unwrap(),
        full_suite()
    );
}

#[test]
fn named_params_fill_their_defaults() {
    let text = "name: d\ndata: {dataset: mnist, path: /data/mnist}\n\
                model: {small-cnn: {dropout: 0.5}}\n\
                train: {optimizer: sgd, schedule: {step: {step-size: 2}}}\n\
                losses: [center, lgm]\n\
                seeds: [3]\nattacks: [fgsm, {fgsm: {eps: 0.2}}]\ndetectors: [{max-softmax: {}}]\n";
    let suite = parse(text);
    assert_eq!(suite.data.path, Some(PathBuf::from("/data/mnist")));
    assert_eq!(
        suite.model,
        ModelSpec {
            kind: ModelKind::SmallCnn,
            feature_dim: 64,
            dropout: 0.5,
            ..Default::default()
        }
    );
    assert_eq!(
        suite.train.optimizer,
        OptimizerSpec::Sgd(SgdParams {
            momentum: 0.9,
            nesterov: false,
            ..Default::default()
        })
    );
    assert_eq!(
        suite.train.schedule,
        ScheduleSpec::Step(StepParams {
            step_size: 2,
            gamma: 0.1,
            ..Default::default()
        })
    );
    assert_eq!(
        suite.losses,
        Entries::from(vec![
            LossSpec::Center(CenterParams {
                lambda: 0.01,
                alpha: 0.5,
                ..Default::default()
            }),
            LossSpec::Lgm(LgmParams {
                alpha: 0.1,
                lambda: 0.1,
                covariance: Covariance::Identity,
                log_var_floor: -6.0,
                warmup_epochs: 0,
                ..Default::default()
            })
        ])
    );
    // Some parameters given: the others still get their defaults.
    let partial = parse(&text.replace(
        "[center, lgm]",
        "[{center: {alpha: 1}}, {lgm: {covariance: isotropic}}]",
    ));
    assert_eq!(
        partial.losses,
        Entries::from(vec![
            LossSpec::Center(CenterParams {
                lambda: 0.01,
                alpha: 1.0,
                ..Default::default()
            }),
            LossSpec::Lgm(LgmParams {
                alpha: 0.1,
                lambda: 0.1,
                covariance: Covariance::Isotropic,
                log_var_floor: -6.0,
                warmup_epochs: 0,
                ..Default::default()
            })
        ])
    );
    assert_eq!(
        suite.attacks,
        Entries::from(vec![
            AttackSpec::Fgsm(FgsmParams {
                eps: vec![0.1],
                ..Default::default()
            }),
            AttackSpec::Fgsm(FgsmParams {
                eps: vec![0.2],
                ..Default::default()
            })
        ])
    );
    assert_eq!(suite.detectors, vec![DetectorSpec::MaxSoftmax]);
}

#[test]
fn lsoftmax_and_the_larger_models() {
    let suite = parse(
        &edit("  - center\n", "  - lsoftmax: {m: 3}\n").replace("model: mlp", "model: resnet20"),
    );
    assert_eq!(suite.model.kind, ModelKind::Resnet20);
    assert_eq!(
        suite.losses[1].spec,
        LossSpec::Lsoftmax(LsoftmaxParams {
            m: 3,
            beta_base: 1000.0,
            gamma: 2.5e-5,
            power: 35.0,
            beta_min: 0.0,
            ..Default::default()
        })
    );
    assert_fails(
        &edit("  - center\n", "  - lsoftmax: {m: 5}\n"),
        "losses[1].lsoftmax.m",
        10,
        19,
        "must be in 1..=4, got 5",
    );
}

#[test]
fn lgm_likelihood_without_an_lgm_loss_is_fine() {
    let suite = parse(&edit("  - lgm: {alpha: 0.1, lambda: 0.1}\n", ""));
    assert!(suite.detectors.contains(&DetectorSpec::LgmLikelihood));
}

/// Every suite shipped in `suites/` validates, whatever its name; a new
/// suite is covered as soon as it is added.
#[test]
fn every_shipped_suite_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let suite = Suite::load(&path).unwrap_or_else(|e| panic!("{e}"));
            // And none trains an L-Softmax whose margin never comes into force.
            let warnings =
                lossbench::heads::schedule_warnings(&suite, suite.data.expected_train_len());
            assert!(warnings.is_empty(), "{}: {warnings:?}", path.display());
            names.push(suite.name);
        }
    }
    names.sort();
    // The directory was really read: the known suites are among them.
    for expected in [
        "ci",
        "features-2d",
        "fmnist-accuracy",
        "paper-cifar10",
        "paper-mnist",
        "quick",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
}

/// A suite of `losses` on Fashion-MNIST (60 000 training images, as far as
/// validation can tell) capped at `train-subset`.
fn lsoftmax_suite(losses: &str, subset: usize, epochs: usize) -> Suite {
    parse(&format!(
        "name: t\ndata: {{dataset: fashion-mnist, train-subset: {subset}}}\nmodel: mlp\n\
         train: {{epochs: {epochs}, batch-size: 128}}\nlosses: {losses}\nseeds: [0]\n"
    ))
}

#[test]
fn lsoftmax_margin_at_is_read_and_keeps_job_ids_when_unset() {
    let with = lsoftmax_suite("[{lsoftmax: {m: 2, margin-at: 0.5}}]", 30_000, 2);
    let LossSpec::Lsoftmax(p) = &with.losses[0].spec else {
        panic!("{:?}", with.losses)
    };
    assert_eq!(p.margin_at, Some(0.5));
    let without = lsoftmax_suite("[{lsoftmax: {m: 2}}]", 30_000, 2);
    let LossSpec::Lsoftmax(q) = &without.losses[0].spec else {
        panic!("{:?}", without.losses)
    };
    assert_eq!(q.margin_at, None);
    // Unset, it is not in the job's JSON, so the job id of a suite without
    // it is the one it had before the key existed.
    let config = serde_json::to_string(&without.jobs()[0].config).unwrap();
    assert!(!config.contains("margin"), "{config}");
    assert_ne!(with.jobs()[0].id, without.jobs()[0].id);
    for bad in ["0", "1.5", "-0.1"] {
        let text = format!(
            "name: t\ndata: {{dataset: synthetic}}\nmodel: mlp\n\
             losses: [{{lsoftmax: {{margin-at: {bad}}}}}]\nseeds: [0]\n"
        );
        let (field, _, _, msg) = fail(&text);
        assert_eq!(field, "losses[0].lsoftmax.margin-at", "{msg}");
    }
}

#[test]
fn a_suite_whose_lsoftmax_margin_never_comes_into_force_is_flagged() {
    // quick's old lsoftmax: 2 epochs of 30 000 at batch 128 = 470 steps,
    // the absolute schedule's β first below 1 at step 8 728.
    let suite = lsoftmax_suite("[softmax, {lsoftmax: {m: 2}}]", 30_000, 2);
    let n = suite.data.expected_train_len();
    assert_eq!(n, 30_000);
    let warnings = lossbench::heads::schedule_warnings(&suite, n);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    for part in [
        "losses[1] (lsoftmax)",
        "margin never comes into force",
        "step 8728",
        "470 optimiser steps",
        "2 epoch(s) x 235 steps of 30000",
        "margin-at",
    ] {
        assert!(w.contains(part), "{part:?} not in {w:?}");
    }
    // The relative form: in force half-way.
    let relative = lsoftmax_suite("[{lsoftmax: {m: 2, margin-at: 0.5}}]", 30_000, 2);
    assert_eq!(
        lossbench::heads::schedule_warnings(&relative, 30_000),
        Vec::<String>::new()
    );
    // The absolute schedule in a run long enough: 19 epochs of 60 000 at
    // batch 128 = 8 911 steps > 8 728.
    let long = lsoftmax_suite("[{lsoftmax: {m: 2}}]", 60_000, 19);
    assert_eq!(long.data.expected_train_len(), 60_000);
    // Open set: the kept classes' share, as if the classes were equal.
    let mut open = long.clone();
    open.data.classes = Some(vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(open.data.expected_train_len(), 36_000);
    assert!(lossbench::heads::schedule_warnings(&long, 60_000).is_empty());
    // ... but not on a loaded split of fewer samples than the standard one.
    assert_eq!(lossbench::heads::schedule_warnings(&long, 50_000).len(), 1);
    // `margin-at: 1` puts β = 1 after the last step: flagged too, and a
    // floor at 1 never lets β below it.
    let end = lsoftmax_suite("[{lsoftmax: {margin-at: 1}}]", 30_000, 2);
    assert_eq!(lossbench::heads::schedule_warnings(&end, 30_000).len(), 1);
    let floor = lsoftmax_suite("[{lsoftmax: {margin-at: 0.5, beta-min: 1}}]", 30_000, 2);
    let w = lossbench::heads::schedule_warnings(&floor, 30_000);
    assert!(
        w.len() == 1 && w[0].contains("never falls below 1"),
        "{w:?}"
    );
}
