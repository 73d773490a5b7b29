//! What surrounds the verdicts: each metric's tolerance and where it came
//! from, the notes on the two inputs (missing manifests, differing suites,
//! devices or tolerances) and the warning when nothing was gated.
//!
//! A metric's tolerance is the first of: `--tolerance`, the candidate
//! manifest's `suite.regression.tolerances`, the baseline manifest's, and
//! (in [`super::compare`]'s per-row step) `--default-tolerance`. The baseline
//! manifest is a fallback so that a candidate given as a bare metrics file is
//! still gated by the suite it is compared against.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::markdown::num;
use super::{Input, Options, Row, Status, Tolerance, ToleranceSource};

/// Whether a side brought suite tolerances (a manifest, or tolerances given
/// in memory).
fn has_suite(input: &Input) -> bool {
    input.info.manifest.is_some() || !input.tolerances.is_empty()
}

/// The explicit tolerances by metric (CLI, candidate suite, baseline suite,
/// in that order of precedence), with notes on where the suites disagree or
/// are absent.
pub(super) fn tolerances(
    baseline: &Input,
    candidate: &Input,
    opts: &Options,
    notes: &mut Vec<String>,
) -> BTreeMap<String, Tolerance> {
    let mut out = BTreeMap::new();
    for (tols, source) in [
        (&baseline.tolerances, ToleranceSource::BaselineSuite),
        (&candidate.tolerances, ToleranceSource::CandidateSuite),
        (&opts.tolerances, ToleranceSource::Cli),
    ] {
        for (metric, &value) in tols {
            out.insert(metric.clone(), Tolerance { value, source });
        }
    }

    if !has_suite(candidate) {
        notes.push(if !baseline.tolerances.is_empty() {
            "no manifest.json beside the candidate's metrics: the baseline suite's \
             tolerances apply"
                .into()
        } else if baseline.info.manifest.is_some() {
            "no manifest.json beside the candidate's metrics, and the baseline's has no \
             regression tolerances"
                .into()
        } else {
            "no manifest.json beside either side's metrics: no suite tolerances apply".into()
        });
    } else if has_suite(baseline) {
        let metrics: BTreeSet<&String> = baseline
            .tolerances
            .keys()
            .chain(candidate.tolerances.keys())
            .collect();
        let differing: Vec<String> = metrics
            .into_iter()
            .filter_map(|m| {
                let (b, c) = (baseline.tolerances.get(m), candidate.tolerances.get(m));
                let show = |t: Option<&f64>| t.map_or("none".into(), |&v| num(v));
                (b != c).then(|| format!("`{m}` (baseline {}, candidate {})", show(b), show(c)))
            })
            .collect();
        if !differing.is_empty() {
            notes.push(format!(
                "the suites' regression tolerances differ: {}; each metric takes \
                 --tolerance, else the candidate's, else the baseline's",
                differing.join(", ")
            ));
        }
    }
    out
}

/// Top-level sections of the resolved suite that are not compared: they do
/// not change what a run computes for a seed.
const IGNORED_SECTIONS: [&str; 4] = ["name", "description", "seeds", "regression"];

/// The sections named first, in the order a suite file has them.
const SECTION_ORDER: [&str; 6] = ["data", "model", "train", "losses", "attacks", "detectors"];

/// The top-level sections in which two manifests' resolved suites differ
/// (ignoring [`IGNORED_SECTIONS`]); `data`, `model`, `train`, `losses`,
/// `attacks`, `detectors` first, then any other section by name. A key absent
/// on one side equals `null` on the other, so a manifest from an older
/// lossbench that did not write a newer optional field does not differ.
pub fn suite_differences(baseline: &Value, candidate: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (b, c) = (
        baseline.as_object().unwrap_or(&empty),
        candidate.as_object().unwrap_or(&empty),
    );
    let mut names: Vec<&str> = SECTION_ORDER.to_vec();
    let mut others: BTreeSet<&str> = b.keys().chain(c.keys()).map(String::as_str).collect();
    others.retain(|k| !SECTION_ORDER.contains(k));
    names.extend(others);
    names
        .into_iter()
        .filter(|s| !IGNORED_SECTIONS.contains(s))
        .filter(|s| !loosely_equal(b.get(*s), c.get(*s)))
        .map(str::to_owned)
        .collect()
}

/// JSON equality where an absent key equals `null` and numbers compare as
/// `f64` (`1` equals `1.0`).
fn loosely_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    let null = Value::Null;
    match (a.unwrap_or(&null), b.unwrap_or(&null)) {
        (Value::Object(x), Value::Object(y)) => x
            .keys()
            .chain(y.keys())
            .all(|k| loosely_equal(x.get(k), y.get(k))),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| loosely_equal(Some(p), Some(q)))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (x, y) => x == y,
    }
}

/// The note when both manifests hold a suite and the suites differ.
pub(super) fn suite_note(baseline: &Input, candidate: &Input) -> Option<String> {
    let (Some(b), Some(c)) = (&baseline.suite, &candidate.suite) else {
        return None;
    };
    let differ = suite_differences(b, c);
    (!differ.is_empty()).then(|| {
        format!(
            "the runs differ in: {} (suite sections of the two manifests; seeds, description \
             and regression not compared): differences there are expected, not regressions",
            differ.join(", ")
        )
    })
}

/// The warning when no row went through the rule: such a comparison cannot
/// fail on a regression, whatever the numbers.
pub(super) fn warnings(
    rows: &[Row],
    tolerances: &BTreeMap<String, Tolerance>,
    opts: &Options,
) -> Vec<String> {
    if rows
        .iter()
        .any(|r| matches!(r.status, Status::Regression | Status::Improved | Status::Ok))
    {
        return Vec::new();
    }
    let warning = if tolerances.is_empty() && opts.default_tolerance.is_none() {
        "no metric was gated: no tolerance from --tolerance, either manifest, or \
         --default-tolerance; every metric is reported only, so this comparison cannot \
         fail on a regression"
    } else if !rows
        .iter()
        .any(|r| r.baseline.is_some() && r.candidate.is_some())
    {
        "no metric was gated: no row (dataset, model, loss, attack, detector, subset, \
         metric) is in both inputs"
    } else {
        "no metric was gated: no metric in both inputs has a tolerance that applies \
         (see each row's note); this comparison cannot fail on a regression"
    };
    vec![warning.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn suite_differences_name_the_top_level_sections() {
        let b = json!({
            "name": "ci", "description": "a", "seeds": [0, 1],
            "regression": {"tolerances": {"auroc": 0.05}},
            "data": {"dataset": "synthetic", "path": null},
            "model": {"kind": "small-cnn"}, "train": {"epochs": 3, "lr": 0.003},
            "losses": ["softmax"], "attacks": [{"fgsm": {"eps": [0.1]}}],
            "detectors": ["max-softmax"],
        });
        assert!(suite_differences(&b, &b).is_empty());
        // Ignored sections, a null against an absent key, 3 against 3.0.
        let mut c = b.clone();
        c["name"] = json!("other");
        c["description"] = json!("b");
        c["seeds"] = json!([5]);
        c["regression"] = json!({});
        c["data"]["attack_subset"] = Value::Null;
        c["data"].as_object_mut().unwrap().remove("path");
        c["train"]["epochs"] = json!(3.0);
        assert!(suite_differences(&b, &c).is_empty(), "{c}");
        // Listed in suite order, whatever order they were changed in.
        c["attacks"][0]["fgsm"]["eps"] = json!([0.2]);
        c["train"]["lr"] = json!(0.01);
        c["eval"] = json!({"batch_size": 64});
        assert_eq!(suite_differences(&b, &c), ["train", "attacks", "eval"]);
        c["losses"] = json!(["softmax", "lgm"]);
        assert_eq!(
            suite_differences(&b, &c),
            ["train", "losses", "attacks", "eval"]
        );
    }
}
