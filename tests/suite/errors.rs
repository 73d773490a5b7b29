//! Errors of reading: syntax, unknown keys and names, wrong types.

use super::*;

#[test]
fn message_format_is_file_line_column_field_message() {
    let err = Suite::load(&fixture("bad-batch-size.yaml")).unwrap_err();
    let text = err.to_string();
    let file = fixture("bad-batch-size.yaml");
    assert_eq!(
        text,
        format!(
            "{}:9:3: train.batch-szie: unknown field `batch-szie` (did you mean `batch-size`?), \
             expected one of `epochs`, `batch-size`, `optimizer`, `lr`, `schedule`, `weight-decay`, `augment`",
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
        "unknown field `seed` (did you mean `seeds`?), expected one of `name`, `description`, `data`, `model`, `train`, \
         `losses`, `seeds`, `attacks`, `detectors`, `ood`, `regression`",
    );
}

#[test]
fn unknown_key_in_a_section() {
    let (field, line, column, msg) = fail(&edit("  lr: 0.01\n", "  lr: 0.01\n  batch-szie: 3\n"));
    assert_eq!((field.as_str(), line, column), ("train.batch-szie", 8, 3));
    assert!(msg.starts_with(
        "unknown field `batch-szie` (did you mean `batch-size`?), expected one of `epochs`, \
         `batch-size`"
    ));

    assert_fails(
        &edit(
            "  dataset: synthetic\n",
            "  dataset: synthetic\n  synthetic: {sides: 4}\n",
        ),
        "data.synthetic.sides",
        4,
        15,
        &format!(
            "unknown field `sides` (did you mean `side`?), expected {}",
            expected_keys("dataset", "synthetic")
        ),
    );
}

/// The keys a component takes, as an unknown-key error lists them: taken
/// from the declarations (`lossbench list`), so that a new parameter needs no
/// edit here. Checked against literal lists in `expected_keys_are_the_declared_ones`.
fn expected_keys(kind: &str, name: &str) -> String {
    let entry = lossbench::suite::catalog::catalog()
        .into_iter()
        .find(|e| e.kind == kind && e.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"));
    let keys: Vec<String> = entry
        .params
        .iter()
        .map(|p| format!("`{}`", p.name))
        .collect();
    match keys.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", keys.join(", ")),
    }
}

#[test]
fn expected_keys_are_the_declared_ones() {
    // The message's three shapes, on today's declarations.
    assert_eq!(expected_keys("loss", "center"), "`lambda` or `alpha`");
    assert!(expected_keys("loss", "lgm").starts_with("one of `alpha`, `lambda`, `covariance`"));
    assert_eq!(expected_keys("detector", "kd"), "`sigma`");
}

#[test]
fn unknown_key_in_loss_params() {
    assert_fails(
        &edit("{alpha: 0.1, lambda: 0.1}", "{alpha: 0.1, lamda: 0.1}"),
        "losses[2].lgm.lamda",
        11,
        23,
        &format!(
            "unknown field `lamda` (did you mean `lambda`?), expected {}",
            expected_keys("loss", "lgm")
        ),
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
        &format!(
            "unknown field `beta`, expected {}",
            expected_keys("loss", "center")
        ),
    );
}

#[test]
fn params_given_to_a_name_that_takes_none() {
    assert_fails(
        &edit("[max-softmax,", "[{max-softmax: {t: 1}},"),
        "detectors[0].max-softmax.t",
        15,
        28,
        "`max-softmax` takes no parameters",
    );
    assert_fails(
        &edit("  - softmax\n", "  - softmax: {foo: 1}\n"),
        "losses[0].softmax.foo",
        9,
        15,
        "`softmax` takes no parameters",
    );
    // A value that is not a map at all says the same.
    assert_fails(
        &edit("  - softmax\n", "  - softmax: 1\n"),
        "losses[0].softmax",
        9,
        14,
        "`softmax` takes no parameters",
    );
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule: {cosine: {t-max: 4}}\n",
        ),
        "train.schedule.cosine.t-max",
        8,
        23,
        "`cosine` takes no parameters",
    );
    // `{}` and `null` stay accepted.
    parse(&edit(
        "  - softmax\n",
        "  - softmax: {}\n  - lsoftmax: null\n",
    ));
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
fn two_names_in_one_entry() {
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  optimizer: {adam: {beta1: 0.9}, sgd: {}}\n",
        ),
        "train.optimizer.sgd",
        8,
        35,
        "two optimizers given (`adam`, `sgd`); choose one",
    );
    assert_fails(
        &edit("model: mlp", "model: {mlp: {}, small-cnn: {}}"),
        "model.small-cnn",
        4,
        18,
        "two models given (`mlp`, `small-cnn`); choose one",
    );
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule:\n    cosine:\n    constant:\n",
        ),
        "train.schedule.constant",
        10,
        5,
        "two schedules given (`cosine`, `constant`); choose one",
    );
    // In a list, both were most likely meant: one dash is missing.
    assert_fails(
        &edit(
            "  - center\n",
            "  - lgm:\n      alpha: 0.2\n    center: {}\n",
        ),
        "losses[1].center",
        12,
        5,
        "two losses in one entry (`lgm`, `center`); give each its own list item (`- lgm` and \
         `- center`)",
    );
    assert_fails(
        &edit(
            "  - fgsm: {eps: [0.0, 0.1, 0.3]}",
            "  - {fgsm: {eps: 0.1}, bim: {}}",
        ),
        "attacks[0].bim",
        14,
        24,
        "two attacks in one entry (`fgsm`, `bim`); give each its own list item (`- fgsm` and \
         `- bim`)",
    );
    assert_fails(
        &edit(
            "  lr: 0.01\n",
            "  lr: 0.01\n  optimizer: {adam: {}, adam: {beta1: 0.5}}\n",
        ),
        "train.optimizer.adam",
        8,
        25,
        "`adam` is given twice",
    );
}

#[test]
fn wrong_type() {
    assert_fails(
        &edit("epochs: 4", "epochs: \"five\""),
        "train.epochs",
        6,
        11,
        "expected a whole number >= 0, found text \"five\"",
    );
    assert_fails(
        &edit("seeds: [0, 1, 2]", "seeds: 3"),
        "seeds",
        12,
        8,
        "expected a list, found 3",
    );
    assert_fails(
        &edit("seeds: [0, 1, 2]", "seeds: [0, -1]"),
        "seeds[1]",
        12,
        12,
        "expected a whole number >= 0, found -1",
    );
    assert_fails(
        &edit("{alpha: 0.1,", "{alpha: high,"),
        "losses[2].lgm.alpha",
        11,
        18,
        "expected a number, found text \"high\"",
    );
    assert_fails(
        &edit("[0.0, 0.1, 0.3]", "[0.0, 0.1, x]"),
        "attacks[0].fgsm.eps[2]",
        14,
        28,
        "expected a number, found text \"x\"",
    );
    assert_fails(
        &edit("  - softmax\n", "  - 3\n"),
        "losses[0]",
        9,
        5,
        "expected a loss name (`softmax`, `center`, `lsoftmax`, `lgm`, `external`) or a one-key map \
         {name: {params}}, found 3",
    );
    assert_fails(
        &edit("data:\n  dataset: synthetic", "data: synthetic"),
        "data",
        2,
        7,
        "expected the data section: a map with `dataset` and optional `path`, `train-subset`, \
         `test-subset`, `attack-subset`, `classes`, `synthetic`, found text \"synthetic\"",
    );
}

/// No Rust type name (u64, usize, f64, ...) reaches the user.
#[test]
fn wrong_type_in_plain_words() {
    let cases = [
        (
            "epochs: 4",
            "epochs: 1.5",
            "train.epochs",
            6,
            11,
            "expected a whole number >= 0, found 1.5",
        ),
        (
            "lr: 0.01",
            "lr: \"fast\"",
            "train.lr",
            7,
            7,
            "expected a number, found text \"fast\"",
        ),
        (
            "lr: 0.01",
            "lr: true",
            "train.lr",
            7,
            7,
            "expected a number, found true",
        ),
        (
            "lr: 0.01",
            "augment: yes",
            "train.augment",
            7,
            12,
            "expected true or false, found text \"yes\"",
        ),
        (
            "lr: 0.01",
            "augment: 1",
            "train.augment",
            7,
            12,
            "expected true or false, found 1",
        ),
        (
            "name: t",
            "name: [t]",
            "name",
            1,
            7,
            "expected text, found a list",
        ),
        (
            "seeds: [0, 1, 2]",
            "seeds: [0, ~]",
            "seeds[1]",
            12,
            12,
            "expected a whole number >= 0, found null",
        ),
        (
            "seeds: [0, 1, 2]",
            "seeds: [{a: 1}]",
            "seeds[0]",
            12,
            9,
            "expected a whole number >= 0, found a map",
        ),
        (
            "  - center\n",
            "  - lsoftmax: {m: 99999999999}\n",
            "losses[1].lsoftmax.m",
            10,
            19,
            "expected a whole number from 0 to 4294967295, found 99999999999",
        ),
        (
            "{alpha: 0.1,",
            "{covariance: [diagonal], alpha: 0.1,",
            "losses[2].lgm.covariance",
            11,
            23,
            "expected one of `identity`, `isotropic`, `diagonal`, found a list",
        ),
        (
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule: {multistep: {milestones: [2, x]}}\n",
            "train.schedule.multistep.milestones[1]",
            8,
            42,
            "expected a whole number >= 0, found text \"x\"",
        ),
        (
            "seeds: [0, 1, 2]\n",
            "seeds: [0]\nregression: {auroc: high}\n",
            "regression.auroc",
            13,
            21,
            "expected a number, found text \"high\"",
        ),
    ];
    for (from, to, field, line, column, msg) in cases {
        assert_fails(&edit(from, to), field, line, column, msg);
    }
}
