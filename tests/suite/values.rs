//! Errors of validation: values out of range, empty lists, unknown names,
//! duplicates.

use super::*;

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
        "must be in 1..=100000, got 0",
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
        "`My Suite` is not a valid name: use 1 to 100 lowercase letters, digits, `_` and \
         `-` (it names a directory)",
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
        "missing field `step-size`: write `schedule: {step: {step-size: 3}}`",
    );
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule: {multistep: {gamma: 0.5}}\n",
        ),
        "train.schedule.multistep.milestones",
        8,
        14,
        "missing field `milestones`: write `schedule: {multistep: {milestones: [3, 6]}}`",
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
        "must list at least one value",
    );
    assert_fails(
        &edit("[0.0, 0.1, 0.3]", "[]"),
        "attacks[0].fgsm.eps",
        14,
        17,
        "must list at least one value",
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
    // The names come from the declaration, so a new dataset needs no edit.
    let datasets: Vec<String> = lossbench::suite::DatasetName::ALL
        .iter()
        .map(|d| format!("`{}`", d.name()))
        .collect();
    assert_fails(
        &edit("dataset: synthetic", "dataset: imagenet"),
        "data.dataset",
        3,
        12,
        &format!(
            "unknown dataset `imagenet`, expected one of {}",
            datasets.join(", ")
        ),
    );
    assert_fails(
        &edit("model: mlp", "model: resnet"),
        "model",
        4,
        8,
        "unknown model `resnet` (did you mean `resnet20`?), expected one of `mlp`, `small-cnn`, `lenetpp`, `resnet20`, `resnet32`, `resnet56`",
    );
    // In the map form the error is at the key, and the path ends in it.
    assert_fails(
        &edit("model: mlp", "model: {resnet: {depth: 20}}"),
        "model.resnet",
        4,
        9,
        "unknown model `resnet` (did you mean `resnet20`?), expected one of `mlp`, `small-cnn`, `lenetpp`, `resnet20`, `resnet32`, `resnet56`",
    );
    assert_fails(
        &edit("  - center\n", "  - focal\n"),
        "losses[1]",
        10,
        5,
        "unknown loss `focal`, expected one of `softmax`, `center`, `lsoftmax`, `lgm`",
    );
    assert_fails(
        &edit("  - fgsm: {eps", "  - jsma: {eps"),
        "attacks[0].jsma",
        14,
        5,
        "unknown attack `jsma`, expected one of `fgsm`, `bim`, `pgd`, `cw-l2`, `deepfool`",
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
        "unknown covariance `full`, expected one of `identity`, `isotropic`, `diagonal`",
    );
}

#[test]
fn duplicates() {
    assert_fails(
        &edit("seeds: [0, 1, 2]", "seeds: [0, 1, 0]"),
        "seeds[2]",
        12,
        15,
        "duplicate value 0 (also seeds[0])",
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
        "duplicate of detectors[0] (same detector with the same parameters)",
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
