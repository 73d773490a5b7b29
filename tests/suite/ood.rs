//! The `ood:` section and `data.classes` (docs/definitions.md §5): what they
//! resolve to, the rows' labels, the job ids, and every mistake placed at
//! its file, line and column.

use lossbench::suite::spec::{GaussianParams, HeldOutParams, OodDatasetParams, UniformParams};
use lossbench::suite::OodSource;

use super::*;

/// `BASE` open-set: classes 0 and 2 of the synthetic dataset (line 4), and
/// an `ood:` section (line 17) of `body` (its first line is 18).
fn with_ood(body: &str) -> String {
    format!(
        "{}ood:\n{body}",
        edit(
            "  dataset: synthetic\n",
            "  dataset: synthetic\n  classes: [0, 2]\n"
        )
    )
}

#[test]
fn sources_resolve_with_their_defaults_and_labels() {
    let suite = parse(&with_ood(
        "  - held-out-classes\n  - uniform\n  - gaussian: {std: 0.5, n: 30}\n  - dataset: {name: mnist}\n",
    ));
    assert_eq!(suite.data.classes, Some(vec![0, 2]));
    assert_eq!(
        suite.ood,
        vec![
            OodSource::HeldOutClasses(HeldOutParams {
                n: None,
                ..Default::default()
            }),
            OodSource::Uniform(UniformParams {
                n: None,
                ..Default::default()
            }),
            OodSource::Gaussian(GaussianParams {
                mean: 0.5,
                std: 0.5,
                n: Some(30),
                ..Default::default()
            }),
            OodSource::Dataset(OodDatasetParams {
                name: DatasetName::Mnist,
                path: None,
                n: None,
                ..Default::default()
            }),
        ]
    );
    let labels: Vec<String> = suite.ood.iter().map(OodSource::label).collect();
    assert_eq!(
        labels,
        [
            "held-out-classes",
            "uniform",
            "gaussian(mean=0.5,std=0.5,n=30)",
            "dataset(name=mnist)"
        ]
    );
    // Every job carries the sources.
    assert!(suite.jobs().iter().all(|j| j.config.ood == suite.ood));
}

#[test]
fn detectors_may_score_abnormal_inputs_alone() {
    let text =
        with_ood("  - uniform\n").replace("attacks:\n  - fgsm: {eps: [0.0, 0.1, 0.3]}\n", "");
    let suite = parse(&text);
    assert!(suite.attacks.is_empty());
    assert_eq!(suite.detectors.len(), 2);
}

#[test]
fn sources_and_classes_change_the_job_ids_and_absent_ones_do_not() {
    let plain = parse(BASE).jobs();
    // Written empty, the section is the same suite as without it.
    let empty = parse(&format!("{BASE}ood: []\n")).jobs();
    assert_eq!(
        plain.iter().map(|j| &j.id).collect::<Vec<_>>(),
        empty.iter().map(|j| &j.id).collect::<Vec<_>>()
    );
    let json = serde_json::to_string(&plain[0].config).unwrap();
    assert!(
        !json.contains("\"ood\"") && !json.contains("\"classes\":null"),
        "{json}"
    );
    let noise = parse(&format!("{BASE}ood: [uniform]\n")).jobs();
    let open = parse(&with_ood("  - uniform\n")).jobs();
    assert_ne!(plain[0].id, noise[0].id);
    assert_ne!(noise[0].id, open[0].id);
}

#[test]
fn held_out_classes_need_data_classes() {
    assert_fails(
        &format!("{BASE}ood:\n  - uniform\n  - held-out-classes\n"),
        "ood[1]",
        18,
        5,
        "`held-out-classes` needs `data.classes`, the classes to train on; the test samples of \
         the others are the abnormal inputs",
    );
}

#[test]
fn unknown_source_and_field_are_named() {
    let (field, line, column, msg) = fail(&with_ood("  - held-out-class\n"));
    assert_eq!((field.as_str(), line, column), ("ood[0]", 18, 5));
    assert!(
        msg.starts_with("unknown abnormal source `held-out-class`"),
        "{msg}"
    );
    assert!(msg.contains("did you mean `held-out-classes`?"), "{msg}");
    let (field, line, column, msg) = fail(&with_ood("  - gaussian: {sdt: 0.5}\n"));
    assert_eq!(
        (field.as_str(), line, column),
        ("ood[0].gaussian.sdt", 18, 16)
    );
    assert!(msg.contains("(did you mean `std`?)"), "{msg}");
}

#[test]
fn bad_values_are_placed() {
    let (field, line, column, msg) = fail(&with_ood("  - gaussian: {std: 0}\n"));
    assert_eq!(
        (field.as_str(), line, column),
        ("ood[0].gaussian.std", 18, 21)
    );
    assert!(msg.contains("> 0"), "{msg}");
    let (field, _, _, msg) = fail(&with_ood("  - uniform: {n: 0}\n"));
    assert_eq!(field, "ood[0].uniform.n");
    assert!(msg.contains("1..="), "{msg}");
    assert_fails(
        &with_ood("  - dataset: {name: synthetic}\n"),
        "ood[0].dataset.name",
        18,
        21,
        "the synthetic dataset is no other dataset of the same images; use the `uniform` or \
         `gaussian` source for noise",
    );
    let (field, _, _, msg) = fail(&with_ood("  - dataset: {path: /x}\n"));
    assert_eq!(field, "ood[0].dataset.name");
    assert!(msg.contains("name"), "{msg}");
    assert_fails(
        &with_ood("  - uniform\n  - gaussian\n  - uniform\n"),
        "ood[2]",
        20,
        5,
        "duplicate of ood[0] (same abnormal source with the same parameters)",
    );
}

#[test]
fn noise_that_does_not_fit_in_memory_is_refused_before_any_training() {
    // 1e8 synthetic 12x12 images take 12 bytes a pixel: about 161 GiB, more
    // than half of any machine these tests run on; 1e6 take 1.6 GiB.
    let (field, line, column, msg) = fail(&with_ood("  - uniform\n  - gaussian: {n: 100000000}\n"));
    assert_eq!(
        (field.as_str(), line, column),
        ("ood[1].gaussian.n", 19, 19)
    );
    assert!(
        msg.starts_with("100000000 noise images need about 160.9 GiB"),
        "{msg}"
    );
    assert!(msg.contains("at most half"), "{msg}");
    parse(&with_ood("  - uniform: {n: 1000000}\n"));
}

#[test]
fn data_classes_are_checked() {
    let text = |classes: &str| with_ood("  - uniform\n").replace("[0, 2]", classes);
    let (field, line, column, msg) = fail(&text("[2, 0]"));
    assert_eq!((field.as_str(), line, column), ("data.classes[1]", 4, 16));
    assert!(msg.contains("strictly increasing"), "{msg}");
    assert_fails(
        &text("[1]"),
        "data.classes",
        4,
        12,
        "a classifier needs at least 2 classes, got 1",
    );
    let (field, _, _, msg) = fail(&text("[0, 100]"));
    assert_eq!(field, "data.classes[1]");
    assert!(msg.contains("0..=99"), "{msg}");
}
