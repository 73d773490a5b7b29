//! Suite files: valid ones resolve to the expected `Suite` with defaults
//! filled; every class of mistake fails with its message, field path, line
//! and column; jobs expand in order with stable ids.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lossbench::data::{DataSpec, DatasetName, SyntheticSpec};
use lossbench::suite::plan::{hash_id, job_id};
use lossbench::suite::{
    AttackSpec, Covariance, DetectorSpec, JobConfig, LossSpec, ModelKind, ModelSpec, OptimizerSpec,
    RegressionSpec, ScheduleSpec, Suite, TrainSpec,
};
use lossbench::Error;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/suites")
        .join(name)
}

fn parse(text: &str) -> Suite {
    Suite::parse(text, Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

/// The error `text` fails with, as (field, line, column, message).
fn fail(text: &str) -> (String, usize, usize, String) {
    match Suite::parse(text, Path::new("t.yaml")) {
        Err(Error::Suite {
            file,
            line,
            column,
            field,
            msg,
        }) => {
            assert_eq!(file, Path::new("t.yaml"));
            (field, line, column, msg)
        }
        Err(other) => panic!("not a suite error: {other}"),
        Ok(suite) => panic!("parsed, but should have failed:\n{text}\n{suite:#?}"),
    }
}

/// Asserts the field, position and exact message of `text`'s error.
#[track_caller]
fn assert_fails(text: &str, field: &str, line: usize, column: usize, msg: &str) {
    assert_eq!(
        fail(text),
        (field.to_owned(), line, column, msg.to_owned()),
        "--- suite:\n{text}"
    );
}

/// A valid suite that the error tests edit; line numbers below refer to it.
const BASE: &str = "\
name: t
data:
  dataset: synthetic
model: mlp
train:
  epochs: 4
  lr: 0.01
losses:
  - softmax
  - center
  - lgm: {alpha: 0.1, lambda: 0.1}
seeds: [0, 1, 2]
attacks:
  - fgsm: {eps: [0.0, 0.1, 0.3]}
detectors: [max-softmax, lgm-likelihood]
";

/// `BASE` with `from` replaced by `to`; `from` must occur in it.
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "`{from}` is not in BASE");
    BASE.replacen(from, to, 1)
}

fn default_train() -> TrainSpec {
    TrainSpec {
        epochs: 5,
        batch_size: 128,
        optimizer: OptimizerSpec::Adam {
            beta1: 0.9,
            beta2: 0.999,
        },
        lr: 1e-3,
        schedule: ScheduleSpec::Constant,
        weight_decay: 0.0,
        augment: false,
    }
}

// ---------------------------------------------------------------- valid files

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
            synthetic: SyntheticSpec::default(),
        },
        model: ModelSpec {
            kind: ModelKind::Mlp,
            feature_dim: 64,
            dropout: 0.0,
        },
        train: default_train(),
        losses: vec![LossSpec::Softmax],
        seeds: vec![0],
        attacks: vec![],
        detectors: vec![],
        regression: RegressionSpec::default(),
    };
    assert_eq!(suite, expected);
}

fn full_suite() -> Suite {
    Suite {
        name: "full_suite-1".into(),
        description: "every key, block style".into(),
        data: DataSpec {
            dataset: DatasetName::Synthetic,
            path: Some(PathBuf::from("/tmp/data")),
            train_subset: Some(400),
            test_subset: Some(200),
            attack_subset: None,
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
        },
        train: TrainSpec {
            epochs: 10,
            batch_size: 64,
            optimizer: OptimizerSpec::Sgd {
                momentum: 0.5,
                nesterov: true,
            },
            lr: 0.05,
            schedule: ScheduleSpec::Multistep {
                milestones: vec![5, 8],
                gamma: 0.5,
            },
            weight_decay: 0.0005,
            augment: true,
        },
        losses: vec![
            LossSpec::Softmax,
            LossSpec::Center {
                lambda: 0.02,
                alpha: 0.25,
            },
            LossSpec::Lgm {
                alpha: 0.3,
                lambda: 0.2,
                covariance: Covariance::Diagonal,
                log_var_floor: -4.0,
                warmup_epochs: 2,
            },
        ],
        seeds: vec![0, 1, 2],
        attacks: vec![AttackSpec::Fgsm {
            eps: vec![0.0, 0.05, 0.1],
        }],
        detectors: vec![DetectorSpec::MaxSoftmax, DetectorSpec::LgmLikelihood],
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
    let suite = parse(
        "name: d\ndata: {dataset: mnist}\nmodel: {small-cnn: {dropout: 0.5}}\n\
         train: {optimizer: sgd, schedule: {step: {step-size: 2}}}\n\
         losses: [center, {center: {alpha: 1}}, lgm, {lgm: {covariance: isotropic}}]\n\
         seeds: [3]\nattacks: [fgsm, {fgsm: {eps: 0.2}}]\ndetectors: [{max-softmax: {}}]\n",
    );
    assert_eq!(
        suite.model,
        ModelSpec {
            kind: ModelKind::SmallCnn,
            feature_dim: 64,
            dropout: 0.5
        }
    );
    assert_eq!(
        suite.train.optimizer,
        OptimizerSpec::Sgd {
            momentum: 0.9,
            nesterov: false
        }
    );
    assert_eq!(
        suite.train.schedule,
        ScheduleSpec::Step {
            step_size: 2,
            gamma: 0.1
        }
    );
    assert_eq!(suite.losses.len(), 4);
    assert_eq!(
        suite.losses[0],
        LossSpec::Center {
            lambda: 0.01,
            alpha: 0.5
        }
    );
    assert_eq!(
        suite.losses[1],
        LossSpec::Center {
            lambda: 0.01,
            alpha: 1.0
        }
    );
    assert_eq!(
        suite.losses[2],
        LossSpec::Lgm {
            alpha: 0.1,
            lambda: 0.1,
            covariance: Covariance::Identity,
            log_var_floor: -6.0,
            warmup_epochs: 0
        }
    );
    assert_eq!(
        suite.attacks,
        vec![
            AttackSpec::Fgsm { eps: vec![0.1] },
            AttackSpec::Fgsm { eps: vec![0.2] }
        ]
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
        suite.losses[1],
        LossSpec::Lsoftmax {
            m: 3,
            beta_base: 1000.0,
            gamma: 2.5e-5,
            power: 35.0,
            beta_min: 0.0
        }
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

// ------------------------------------------------------------ error classes

#[test]
fn message_format_is_file_line_column_field_message() {
    let err = Suite::load(&fixture("bad-batch-size.yaml")).unwrap_err();
    let text = err.to_string();
    let file = fixture("bad-batch-size.yaml");
    assert_eq!(
        text,
        format!(
            "{}:9:3: train.batch-szie: unknown field `batch-szie`, expected one of `epochs`, \
             `batch-size`, `optimizer`, `lr`, `schedule`, `weight-decay`, `augment`",
            file.display()
        )
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn syntax_error() {
    assert_fails(
        &edit("  lr: 0.01\n", " lr: 0.01\n"),
        "(syntax)",
        7,
        2,
        "did not find expected key, while parsing a block mapping",
    );
    assert_fails(
        &edit("name: t", "name: t: u"),
        "(syntax)",
        1,
        8,
        "mapping values are not allowed in this context",
    );
}

#[test]
fn empty_file() {
    let msg = "the file is empty; a suite needs at least `name`, `data`, `model`, `losses` and \
               `seeds`";
    assert_fails("", ".", 1, 1, msg);
    assert_fails("# nothing yet\n", ".", 1, 1, msg);
}

#[test]
fn unknown_key_at_top_level() {
    assert_fails(
        &edit("seeds:", "seed: 1\nseeds:"),
        "seed",
        12,
        1,
        "unknown field `seed`, expected one of `name`, `description`, `data`, `model`, `train`, \
         `losses`, `seeds`, `attacks`, `detectors`, `regression`",
    );
}

#[test]
fn unknown_key_in_a_section() {
    let (field, line, column, msg) = fail(&edit("  lr: 0.01\n", "  lr: 0.01\n  batch-szie: 3\n"));
    assert_eq!((field.as_str(), line, column), ("train.batch-szie", 8, 3));
    assert!(msg.starts_with("unknown field `batch-szie`, expected one of `epochs`, `batch-size`"));

    assert_fails(
        &edit(
            "  dataset: synthetic\n",
            "  dataset: synthetic\n  synthetic: {sides: 4}\n",
        ),
        "data.synthetic.sides",
        4,
        15,
        "unknown field `sides`, expected one of `seed`, `classes`, `train`, `test`, `side`",
    );
}

#[test]
fn unknown_key_in_loss_params() {
    assert_fails(
        &edit("{alpha: 0.1, lambda: 0.1}", "{alpha: 0.1, lamda: 0.1}"),
        "losses[2].lgm.lamda",
        11,
        23,
        "unknown field `lamda`, expected one of `alpha`, `lambda`, `covariance`, \
         `log-var-floor`, `warmup-epochs`",
    );
    // Block style, one level deeper.
    assert_fails(
        &edit(
            "  - center\n",
            "  - center:\n      lambda: 0.1\n      beta: 2\n",
        ),
        "losses[1].center.beta",
        12,
        7,
        "unknown field `beta`, expected `lambda` or `alpha`",
    );
    // A name that takes no parameters.
    assert_fails(
        &edit("[max-softmax,", "[{max-softmax: {t: 1}},"),
        "detectors[0].max-softmax.t",
        15,
        28,
        "unknown field `t`, there are no fields",
    );
}

#[test]
fn params_indented_too_little() {
    assert_fails(
        &edit("  - center\n", "  - center:\n    lambda: 0.1\n"),
        "losses[1].lambda",
        11,
        5,
        "a loss entry has one key, its name; `lambda` is a second key (parameters go under the \
         name: `center: {lambda: ...}`)",
    );
}

#[test]
fn wrong_type() {
    assert_fails(
        &edit("epochs: 4", "epochs: \"five\""),
        "train.epochs",
        6,
        11,
        "invalid type: string \"five\", expected usize",
    );
    assert_fails(
        &edit("seeds: [0, 1, 2]", "seeds: 3"),
        "seeds",
        12,
        8,
        "invalid type: integer `3`, expected a sequence",
    );
    assert_fails(
        &edit("seeds: [0, 1, 2]", "seeds: [0, -1]"),
        "seeds[1]",
        12,
        12,
        "invalid type: integer `-1`, expected u64",
    );
    assert_fails(
        &edit("{alpha: 0.1,", "{alpha: high,"),
        "losses[2].lgm.alpha",
        11,
        18,
        "invalid type: string \"high\", expected f64",
    );
    assert_fails(
        &edit("[0.0, 0.1, 0.3]", "[0.0, 0.1, x]"),
        "attacks[0].fgsm.eps[2]",
        14,
        28,
        "invalid type: string \"x\", expected f64",
    );
    assert_fails(
        &edit("  - softmax\n", "  - 3\n"),
        "losses[0]",
        9,
        5,
        "invalid type: integer `3`, expected a loss name (`softmax`, `center`, `lsoftmax`, `lgm`) or a \
         one-key map {name: {params}}",
    );
    assert_fails(
        &edit("data:\n  dataset: synthetic", "data: synthetic"),
        "data",
        2,
        7,
        "invalid type: string \"synthetic\", expected the data section: a map with `dataset` \
         and optional `path`, `train-subset`, `test-subset`, `attack-subset`, `synthetic`",
    );
}

#[test]
fn bad_value() {
    assert_fails(
        &edit("lr: 0.01", "lr: -1"),
        "train.lr",
        7,
        7,
        "must be a finite number > 0, got -1",
    );
    assert_fails(
        &edit("{alpha: 0.1,", "{alpha: -1,"),
        "losses[2].lgm.alpha",
        11,
        18,
        "must be a finite number >= 0, got -1",
    );
    assert_fails(
        &edit("[0.0, 0.1, 0.3]", "[0.0, 0.1, 2]"),
        "attacks[0].fgsm.eps[2]",
        14,
        28,
        "must be in [0, 1], got 2",
    );
    // A scalar eps is named without an index.
    assert_fails(
        &edit("[0.0, 0.1, 0.3]", "2"),
        "attacks[0].fgsm.eps",
        14,
        17,
        "must be in [0, 1], got 2",
    );
    assert_fails(
        &edit("epochs: 4", "epochs: 0"),
        "train.epochs",
        6,
        11,
        "must be >= 1, got 0",
    );
    assert_fails(
        &edit("lr: 0.01", "lr: .nan"),
        "train.lr",
        7,
        7,
        "must be a finite number > 0, got NaN",
    );
    assert_fails(
        &edit("  - center\n", "  - {center: {alpha: 0}}\n"),
        "losses[1].center.alpha",
        10,
        22,
        "must be in (0, 1], got 0",
    );
    assert_fails(
        &edit("model: mlp", "model: {mlp: {dropout: 1.0}}"),
        "model.mlp.dropout",
        4,
        24,
        "must be in [0, 1), got 1",
    );
    assert_fails(
        &edit("name: t", "name: My Suite"),
        "name",
        1,
        7,
        "`My Suite` is not a valid suite name: use lowercase letters, digits, `_` and `-` (it \
         names a directory)",
    );
    assert_fails(
        &format!("{BASE}regression:\n  auroc: -0.1\n"),
        "regression.auroc",
        17,
        10,
        "must be a finite number >= 0, got -0.1",
    );
    assert_fails(
        &edit(
            "  dataset: synthetic\n",
            "  dataset: synthetic\n  synthetic:\n    classes: 11\n",
        ),
        "data.synthetic.classes",
        5,
        14,
        "must be in 2..=10, got 11",
    );
}

#[test]
fn values_that_depend_on_epochs() {
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule: {multistep: {milestones: [2, 5]}}\n",
        ),
        "train.schedule.multistep.milestones[1]",
        8,
        42,
        "milestone 5 is past the last epoch (train.epochs = 4)",
    );
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule: {multistep: {milestones: [3, 3]}}\n",
        ),
        "train.schedule.multistep.milestones[1]",
        8,
        42,
        "milestones must be strictly increasing, but 3 follows 3",
    );
    // The default of 5 epochs applies when `train.epochs` is not written.
    assert_fails(
        &edit(
            "  epochs: 4\n",
            "  schedule:\n    multistep:\n      milestones: [6]\n",
        ),
        "train.schedule.multistep.milestones[0]",
        8,
        20,
        "milestone 6 is past the last epoch (train.epochs = 5)",
    );
    assert_fails(
        &edit("lambda: 0.1}", "lambda: 0.1, warmup-epochs: 5}"),
        "losses[2].lgm.warmup-epochs",
        11,
        51,
        "must be <= train.epochs (4), got 5",
    );
}

#[test]
fn required_schedule_params() {
    // A bare `step` has nowhere to put step-size: the error lands on the
    // schedule key.
    assert_fails(
        &edit("  lr: 0.01\n", "  lr: 0.01\n  schedule: step\n"),
        "train.schedule.step.step-size",
        8,
        3,
        "missing field `step-size`: write `schedule: {step: {step-size: N}}`",
    );
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule: {multistep: {gamma: 0.5}}\n",
        ),
        "train.schedule.multistep.milestones",
        8,
        14,
        "missing field `milestones`: write `schedule: {multistep: {milestones: [E1, E2, ...]}}`",
    );
}

#[test]
fn options_in_the_wrong_place() {
    assert_fails(
        &edit(
            "dataset: synthetic\n",
            "dataset: mnist\n  synthetic: {classes: 3}\n",
        ),
        "data.synthetic",
        4,
        3,
        "synthetic options are only allowed with `dataset: synthetic`, not `mnist`",
    );
}

#[test]
fn empty_lists() {
    assert_fails(
        &edit(
            "losses:\n  - softmax\n  - center\n  - lgm: {alpha: 0.1, lambda: 0.1}\n",
            "losses: []\n",
        ),
        "losses",
        8,
        9,
        "must list at least one loss",
    );
    assert_fails(
        &edit("seeds: [0, 1, 2]", "seeds: []"),
        "seeds",
        12,
        8,
        "must list at least one seed",
    );
    assert_fails(
        &edit("[0.0, 0.1, 0.3]", "[]"),
        "attacks[0].fgsm.eps",
        14,
        17,
        "must list at least one eps",
    );
}

#[test]
fn missing_required_field() {
    assert_fails(
        &edit("  dataset: synthetic\n", "  train-subset: 10\n"),
        "data.dataset",
        2,
        1,
        "missing field `dataset`",
    );
    assert_fails(&edit("name: t\n", ""), "name", 1, 1, "missing field `name`");
    assert_fails(
        &edit("model: mlp\n", ""),
        "model",
        1,
        1,
        "missing field `model`",
    );
}

#[test]
fn unknown_names() {
    assert_fails(
        &edit("dataset: synthetic", "dataset: imagenet"),
        "data.dataset",
        3,
        12,
        "unknown dataset `imagenet`, expected one of `mnist`, `fashion-mnist`, `cifar10`, \
         `cifar100`, `synthetic`",
    );
    assert_fails(
        &edit("model: mlp", "model: resnet"),
        "model",
        4,
        8,
        "unknown model `resnet`, expected one of `mlp`, `small-cnn`, `lenetpp`, `resnet20`, `resnet32`, `resnet56`",
    );
    // In the map form the error is at the key, and the path ends in it.
    assert_fails(
        &edit("model: mlp", "model: {resnet: {depth: 20}}"),
        "model.resnet",
        4,
        9,
        "unknown model `resnet`, expected one of `mlp`, `small-cnn`, `lenetpp`, `resnet20`, `resnet32`, `resnet56`",
    );
    assert_fails(
        &edit("  - center\n", "  - focal\n"),
        "losses[1]",
        10,
        5,
        "unknown loss `focal`, expected one of `softmax`, `center`, `lsoftmax`, `lgm`",
    );
    assert_fails(
        &edit("  - fgsm: {eps", "  - pgd: {eps"),
        "attacks[0].pgd",
        14,
        5,
        "unknown attack `pgd`, expected one of `fgsm`, `bim`, `deepfool`",
    );
    assert_fails(
        &edit("lgm-likelihood]", "odin]"),
        "detectors[1]",
        15,
        26,
        "unknown detector `odin`, expected one of `max-softmax`, `lgm-likelihood`, \
         `mahalanobis`, `kd`, `kd-bu`, `lid`",
    );
    assert_fails(
        &edit("  lr: 0.01\n", "  lr: 0.01\n  optimizer: rmsprop\n"),
        "train.optimizer",
        8,
        14,
        "unknown optimizer `rmsprop`, expected one of `adam`, `sgd`",
    );
    assert_fails(
        &edit("  lr: 0.01\n", "  lr: 0.01\n  schedule: {linear: {}}\n"),
        "train.schedule.linear",
        8,
        14,
        "unknown schedule `linear`, expected one of `constant`, `cosine`, `step`, `multistep`",
    );
    assert_fails(
        &edit("{alpha: 0.1,", "{covariance: full, alpha: 0.1,"),
        "losses[2].lgm.covariance",
        11,
        23,
        "unknown variant `full`, expected one of `identity`, `isotropic`, `diagonal`",
    );
}

#[test]
fn duplicates() {
    assert_fails(
        &edit("seeds: [0, 1, 2]", "seeds: [0, 1, 0]"),
        "seeds[2]",
        12,
        15,
        "duplicate seed 0 (also seeds[0])",
    );
    // Same loss, same parameters once defaults are filled.
    assert_fails(
        &edit(
            "  - softmax\n",
            "  - softmax\n  - {center: {lambda: 0.01}}\n",
        ),
        "losses[2]",
        11,
        5,
        "duplicate of losses[1] (same loss with the same parameters)",
    );
    assert_fails(
        &edit("lgm-likelihood]", "lgm-likelihood, max-softmax]"),
        "detectors[2]",
        15,
        42,
        "duplicate of detectors[0]",
    );
    assert_fails(
        &edit("  lr: 0.01\n", "  lr: 0.01\n  lr: 0.02\n"),
        "train.lr",
        8,
        3,
        "duplicate field `lr`",
    );
}

#[test]
fn fixture_with_a_bad_value_names_its_file() {
    let path = fixture("bad-lgm-alpha.yaml");
    match Suite::load(&path).unwrap_err() {
        Error::Suite {
            file,
            line,
            column,
            field,
            msg,
        } => {
            assert_eq!(file, path);
            assert_eq!((line, column), (13, 14));
            assert_eq!(field, "losses[2].lgm.alpha");
            assert_eq!(msg, "must be a finite number >= 0, got -1");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Suite::load(&fixture("no-such-suite.yaml")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

// ---------------------------------------------------------------------- plan

#[test]
fn jobs_are_losses_outer_seeds_inner() {
    let suite = Suite::load(&fixture("full.yaml")).unwrap();
    let jobs = suite.jobs();
    assert_eq!(jobs.len(), 9);
    let order: Vec<(&str, u64)> = jobs
        .iter()
        .map(|j| (j.config.loss.name(), j.config.seed))
        .collect();
    assert_eq!(
        order,
        [
            ("softmax", 0),
            ("softmax", 1),
            ("softmax", 2),
            ("center", 0),
            ("center", 1),
            ("center", 2),
            ("lgm", 0),
            ("lgm", 1),
            ("lgm", 2),
        ]
    );
    for job in &jobs {
        assert_eq!(job.config.data, suite.data);
        assert_eq!(job.config.model, suite.model);
        assert_eq!(job.config.train, suite.train);
        assert_eq!(job.config.attacks, suite.attacks);
        assert_eq!(job.config.detectors, suite.detectors);
        assert_eq!(job.id, job_id(&job.config));
    }
}

#[test]
fn job_ids_are_stable_and_distinct() {
    let suite = Suite::load(&fixture("full.yaml")).unwrap();
    let a = suite.jobs();
    let b = Suite::load(&fixture("full-flow.yaml")).unwrap().jobs();
    assert_eq!(a, b, "same config, same ids, however the file is written");
    for job in &a {
        assert_eq!(job.id.len(), 16);
        assert!(job
            .id
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
    let mut ids: Vec<&str> = a.iter().map(|j| j.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), a.len());
}

#[test]
fn job_ids_change_with_any_field() {
    let base = Suite::load(&fixture("full.yaml")).unwrap().jobs()[8]
        .config
        .clone();
    let id = job_id(&base);

    let mut seed = base.clone();
    seed.seed = 3;
    let mut param = base.clone();
    if let LossSpec::Lgm { alpha, .. } = &mut param.loss {
        *alpha = 0.31;
    }
    let mut epochs = base.clone();
    epochs.train.epochs = 11;
    let mut eps = base.clone();
    eps.attacks = vec![AttackSpec::Fgsm { eps: vec![0.1] }];

    for changed in [seed, param, epochs, eps] {
        assert_ne!(changed, base);
        assert_ne!(job_id(&changed), id);
    }
    // Nothing outside the config (name, description, tolerances) counts.
    let mut other = Suite::load(&fixture("full.yaml")).unwrap();
    other.name = "renamed".into();
    other.regression = RegressionSpec::default();
    assert_eq!(other.jobs()[8].id, id);
}

/// The canonical JSON of the lgm job with seed 2 of `full.yaml`.
const GOLDEN_JSON: &str = r#"{"data":{"dataset":"synthetic","path":"/tmp/data","train_subset":400,"test_subset":200,"synthetic":{"seed":7,"classes":3,"train":500,"test":250,"side":16}},"model":{"kind":"small-cnn","feature_dim":32,"dropout":0.25},"train":{"epochs":10,"batch_size":64,"optimizer":{"sgd":{"momentum":0.5,"nesterov":true}},"lr":0.05,"schedule":{"multistep":{"milestones":[5,8],"gamma":0.5}},"weight_decay":0.0005,"augment":true},"loss":{"lgm":{"alpha":0.3,"lambda":0.2,"covariance":"diagonal","log_var_floor":-4.0,"warmup_epochs":2}},"seed":2,"attacks":[{"fgsm":{"eps":[0.0,0.05,0.1]}}],"detectors":["max-softmax","lgm-likelihood"]}"#;

#[test]
fn golden_job_id() {
    let config = JobConfig {
        data: full_suite().data,
        model: full_suite().model,
        train: full_suite().train,
        loss: full_suite().losses[2].clone(),
        seed: 2,
        attacks: full_suite().attacks,
        detectors: full_suite().detectors,
    };
    assert_eq!(serde_json::to_string(&config).unwrap(), GOLDEN_JSON);
    // Computed independently with Python over the same string:
    //   import hashlib
    //   j = open("golden.json").read().rstrip("\n")   # GOLDEN_JSON
    //   print(hashlib.sha256((j + "\n" + "0.1.0").encode()).hexdigest()[:16])
    //   # -> f8e805690d940583
    assert_eq!(hash_id(GOLDEN_JSON, "0.1.0"), "f8e805690d940583");
    assert_eq!(job_id(&config), hash_id(GOLDEN_JSON, lossbench::VERSION));
}
