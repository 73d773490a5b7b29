//! Values that parse but cannot run: sizes past lossbench's limits, a
//! model that cannot take the image size, a kernel bandwidth whose scores
//! would all be infinite; and files that are not a suite at all (endless,
//! huge, not UTF-8) or start with a byte-order mark.

use super::*;

#[test]
fn sizes_past_the_limits_are_refused_naming_the_field_and_the_limit() {
    // Each of these crashed the run (exit 101 or 134) before the limits.
    assert_fails(
        &edit("epochs: 4", "epochs: 1000000000000"),
        "train.epochs",
        6,
        11,
        "must be in 1..=100000, got 1000000000000",
    );
    assert_fails(
        &edit("epochs: 4", "epochs: 18446744073709551615"),
        "train.epochs",
        6,
        11,
        "must be in 1..=100000, got 18446744073709551615",
    );
    assert_fails(
        &edit("model: mlp", "model: {mlp: {feature-dim: 100000000000}}"),
        "model.mlp.feature-dim",
        4,
        28,
        "must be in 1..=4096, got 100000000000",
    );
    assert_fails(
        &edit(
            "dataset: synthetic",
            "dataset: synthetic\n  synthetic: {train: 10000000000}",
        ),
        "data.synthetic.train",
        4,
        22,
        "must be in 1..=1000000, got 10000000000",
    );
    assert_fails(
        &edit("lr: 0.01", "lr: 0.01\n  batch-size: 1000000"),
        "train.batch-size",
        8,
        15,
        "must be in 1..=65536, got 1000000",
    );
}

#[test]
fn a_model_needs_images_its_pooling_can_halve() {
    // lenetpp pools three times: 7 -> 3 -> 1 -> 0 pixels.
    assert_fails(
        &edit(
            "dataset: synthetic\nmodel: mlp",
            "dataset: synthetic\n  synthetic: {side: 7}\nmodel: lenetpp",
        ),
        "data.synthetic.side",
        4,
        21,
        "`lenetpp` needs images of at least 8x8 pixels (its pooling halves the side 3 times), \
         got 7",
    );
    let ok = parse(&edit(
        "dataset: synthetic\nmodel: mlp",
        "dataset: synthetic\n  synthetic: {side: 8}\nmodel: lenetpp",
    ));
    assert_eq!(ok.data.synthetic.side, 8);
}

#[test]
fn a_kd_bandwidth_that_underflows_every_kernel_is_refused() {
    assert_fails(
        &edit("[max-softmax, lgm-likelihood]", "[{kd: {sigma: 1e-300}}]"),
        "detectors[0].kd.sigma",
        15,
        26,
        "must be in [1e-6, 1e6], got 1e-300",
    );
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_key() {
    let with_bom = format!("\u{feff}{BASE}");
    assert_eq!(parse(&with_bom), parse(BASE));
}

#[test]
fn files_that_are_not_a_short_yaml_text_are_refused_without_reading_them_whole() {
    let whole_file = |path: &Path| match Suite::load(path) {
        Err(Error::Suite { field, msg, .. }) => {
            assert_eq!(field, "(the file)");
            msg
        }
        other => panic!("{other:?}"),
    };
    // Endless: read until memory ran out before the limit.
    assert!(whole_file(Path::new("/dev/zero")).contains("larger than 1024 KiB"));
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.yaml");
    std::fs::write(&big, format!("{BASE}#{}\n", "x".repeat(1 << 20))).unwrap();
    assert!(whole_file(&big).contains("larger than 1024 KiB"));
    let binary = tmp.path().join("binary.yaml");
    std::fs::write(&binary, b"name: t\n\xff\xfe\n").unwrap();
    assert!(whole_file(&binary).contains("not UTF-8 text (invalid byte at offset 8)"));
}
