//! The JSON Schema of `lossbench schema`: every suite lossbench ships or
//! tests with validates against it, and what the parser refuses (an unknown
//! key, a value out of range, an unknown name) the schema refuses too, so
//! an editor's live errors agree with `lossbench validate`.

use super::*;

use serde_json::Value as Json;

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&lossbench::suite::schema()).expect("the schema is a valid schema")
}

/// The suite text as the JSON an editor's YAML language server checks.
fn json(text: &str) -> Json {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The schema's complaints about `text`.
fn errors(text: &str) -> Vec<String> {
    let instance = json(text);
    validator()
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The `.yaml` files in `dir`, relative to the crate.
fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_and_fixture_suite_validates_against_the_schema() {
    let files: Vec<PathBuf> = ["suites", "tests/fixtures", "tests/fixtures/suites"]
        .iter()
        .flat_map(|d| yaml_files(d))
        .collect();
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let valid = Suite::parse(&text, &file).is_ok();
        let complaints = errors(&text);
        // The fixtures named bad-* are refused by the parser; the schema
        // must refuse them too, and accept every other file.
        assert_eq!(
            complaints.is_empty(),
            valid,
            "{}: parser ok = {valid}, schema errors: {complaints:?}",
            file.display()
        );
    }
}

#[test]
fn the_schema_refuses_what_the_parser_refuses() {
    assert!(errors(BASE).is_empty(), "{:?}", errors(BASE));
    let cases = [
        // Unknown keys, at the top, in a section, in a component's options.
        ("seeds:", "seed: 1\nseeds:"),
        ("  lr: 0.01\n", "  lr: 0.01\n  batch-szie: 3\n"),
        ("{alpha: 0.1, lambda: 0.1}", "{alpha: 0.1, lamda: 0.1}"),
        ("[max-softmax,", "[{max-softmax: {t: 1}},"),
        // Values out of range, of the wrong type, or past a limit.
        ("lr: 0.01", "lr: -1"),
        ("lr: 0.01", "lr: 0"),
        ("[0.0, 0.1, 0.3]", "[0.0, 0.1, 2]"),
        ("[0.0, 0.1, 0.3]", "[]"),
        ("epochs: 4", "epochs: 0"),
        ("epochs: 4", "epochs: 1000000"),
        ("epochs: 4", "epochs: 1.5"),
        ("seeds: [0, 1, 2]", "seeds: [0, 1, 0]"),
        ("seeds: [0, 1, 2]", "seeds: [-1]"),
        ("name: t", "name: My Suite"),
        // Unknown names, two names in one entry, a missing required option.
        ("  - center\n", "  - focal\n"),
        ("  - center\n", "  - lgn\n"),
        ("model: mlp", "model: {mlp: {}, small-cnn: {}}"),
        ("dataset: synthetic", "dataset: imagenet"),
        ("{alpha: 0.1,", "{covariance: full, alpha: 0.1,"),
        ("  lr: 0.01\n", "  lr: 0.01\n  schedule: step\n"),
        (
            "  lr: 0.01\n",
            "  lr: 0.01\n  schedule: {multistep: {gamma: 0.5}}\n",
        ),
        ("name: t\n", ""),
        // Labels and sweeps: a label that cannot be one, a second name in
        // a labelled entry, an unknown key beside the name, a one-value sweep.
        ("  - center\n", "  - center:\n    label: Centre\n"),
        ("  - center\n", "  - center:\n    lgm:\n    label: c\n"),
        ("  - center\n", "  - center:\n    labl: c\n"),
        ("  - center\n", "  - center:\n    sweep: {alpha: [0.5]}\n"),
    ];
    // What labels and sweeps allow, the schema allows.
    let labelled = edit(
        "  - center\n",
        "  - center:\n    label: c\n  - lgm:\n    sweep: {alpha: [0.1, 0.3]}\n",
    );
    let labelled = labelled.replace("  - lgm: {alpha: 0.1, lambda: 0.1}\n", "");
    assert!(
        Suite::parse(&labelled, Path::new("t.yaml")).is_ok(),
        "{labelled}"
    );
    assert!(errors(&labelled).is_empty(), "{:?}", errors(&labelled));
    for (from, to) in cases {
        let text = edit(from, to);
        assert!(Suite::parse(&text, Path::new("t.yaml")).is_err(), "{text}");
        assert!(!errors(&text).is_empty(), "the schema accepts:\n{text}");
    }
    // Regression tolerances: only gated metrics, never negative.
    for body in ["  clen_acc: 0.02\n", "  l2_mean: 0.5\n", "  auroc: -0.1\n"] {
        assert!(
            !errors(&format!("{BASE}regression:\n{body}")).is_empty(),
            "{body}"
        );
    }
}

#[test]
fn the_schema_documents_every_parameter_with_its_default() {
    let schema = lossbench::suite::schema();
    let lgm = &schema["properties"]["losses"]["items"]["anyOf"][1]["properties"]["lgm"];
    let alpha = &lgm["properties"]["alpha"];
    assert_eq!(alpha["default"], 0.1);
    assert_eq!(alpha["minimum"], 0.0);
    assert!(alpha["description"]
        .as_str()
        .unwrap()
        .starts_with("classification margin"));
    assert_eq!(lgm["additionalProperties"], false);
    assert_eq!(
        schema["properties"]["train"]["properties"]["epochs"]["maximum"],
        100_000
    );
    // A name with a required option is not offered bare.
    let schedule = &schema["properties"]["train"]["properties"]["schedule"]["anyOf"][0]["enum"];
    assert_eq!(schedule, &serde_json::json!(["constant", "cosine"]));
}

/// `auto` or a number (`kd.sigma`, `kd-bu.sigma`, `c`): parser and schema
/// accept both, refuse other words and numbers out of range alike, and the
/// resolved suite keeps `auto` as the word.
#[test]
fn auto_or_a_number_reads_and_validates_alike() {
    use lossbench::suite::spec::{KdParams, LidParams};
    use lossbench::suite::{AutoOr, DetectorSpec};
    let with = |detectors: &str| edit("[max-softmax, lgm-likelihood]", detectors);
    let good = [
        (
            "[kd]",
            DetectorSpec::Kd(KdParams {
                sigma: AutoOr::Auto,
                ..Default::default()
            }),
        ),
        (
            "[{kd: {sigma: 0.5}}]",
            DetectorSpec::Kd(KdParams {
                sigma: AutoOr::Fixed(0.5),
                ..Default::default()
            }),
        ),
        (
            "[{kd: {sigma: auto}}]",
            DetectorSpec::Kd(KdParams {
                sigma: AutoOr::Auto,
                ..Default::default()
            }),
        ),
        (
            "[{lid: {c: 2, noisy-negatives: false}}]",
            DetectorSpec::Lid(LidParams {
                c: AutoOr::Fixed(2.0),
                noisy_negatives: false,
                ..Default::default()
            }),
        ),
    ];
    for (detectors, want) in good {
        let text = with(detectors);
        let suite = Suite::parse(&text, Path::new("t.yaml")).unwrap();
        assert_eq!(suite.detectors, vec![want.clone()], "{detectors}");
        assert!(errors(&text).is_empty(), "{detectors}: {:?}", errors(&text));
        // The resolved JSON reads back.
        let json = serde_json::to_value(&suite.detectors[0]).unwrap();
        assert_eq!(serde_json::from_value::<DetectorSpec>(json).unwrap(), want);
    }
    let defaults = serde_json::to_value(DetectorSpec::Lid(LidParams::default())).unwrap();
    assert_eq!(defaults["lid"]["c"], "auto");
    assert_eq!(defaults["lid"]["noisy_negatives"], true);
    for (bad, msg) in [
        (
            "[{kd: {sigma: automatic}}]",
            "expected `auto` or a number, found text \"automatic\"",
        ),
        ("[{kd: {sigma: 1e-300}}]", "must be in [1e-6, 1e6]"),
        ("[{lid: {c: 0}}]", "must be a finite number > 0"),
        ("[{kd-bu: {c: true}}]", "expected `auto` or a number"),
    ] {
        let text = with(bad);
        let e = Suite::parse(&text, Path::new("t.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(msg), "{bad}: {e}");
        assert!(!errors(&text).is_empty(), "the schema accepts {bad}");
    }
}
