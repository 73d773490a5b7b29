//! Errors of the raw layer: syntax, unknown keys, wrong types.

use super::*;

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
