//! The JUnit file read back as CI consumers read it: well-formed XML, the
//! testsuites / testsuite / testcase / failure / skipped elements, counts that
//! add up, and names with quotes, ampersands and angle brackets intact.

use std::collections::BTreeMap;

use lossbench::compare::{self, Input, Options};
use lossbench::results::MetricRow;

use super::xml::{parse, Element};
use super::{fixture_comparison, row};

/// Parses a JUnit file and checks what CI consumers read: a `<testsuites>`
/// root holding `<testsuite>`s of `<testcase>`s (each with `classname` and
/// `name`), at most one `<failure>` (with `type` and `message`) or
/// `<skipped>` in a case, and `tests`, `failures`, `errors`, `skipped` on the
/// root and each suite equal to what the cases hold. Returns the root.
pub fn check_junit(doc: &str) -> Element {
    let root = parse(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"));
    assert_eq!(root.name, "testsuites");
    let mut totals = [0; 4];
    for suite in &root.children {
        assert_eq!(suite.name, "testsuite");
        assert!(suite.attr("name").is_some());
        let mut counts = [0; 4];
        for case in suite.children.iter().filter(|c| c.name != "properties") {
            assert_eq!(case.name, "testcase");
            assert!(case.attr("classname").is_some() && case.attr("name").is_some());
            assert!(case.children.len() <= 1, "{case:?}");
            counts[0] += 1;
            for outcome in &case.children {
                match outcome.name.as_str() {
                    "failure" => {
                        assert!(
                            outcome.attr("type").is_some() && outcome.attr("message").is_some()
                        );
                        counts[1] += 1;
                    }
                    "skipped" => counts[3] += 1,
                    other => panic!("<{other}> in a testcase"),
                }
            }
        }
        for (i, attr) in ["tests", "failures", "errors", "skipped"]
            .iter()
            .enumerate()
        {
            assert_eq!(suite.count(attr), counts[i], "testsuite {attr}");
            totals[i] += counts[i];
        }
    }
    for (i, attr) in ["tests", "failures", "errors", "skipped"]
        .iter()
        .enumerate()
    {
        assert_eq!(root.count(attr), totals[i], "testsuites {attr}");
    }
    root
}

#[test]
fn junit_escapes_awkward_names_and_its_counts_add_up() {
    check_junit(&compare::junit(&fixture_comparison()));
    let (dataset, loss) = ("syn\"th'&<x>", "lgm(alpha=0.1)");
    let (attack, detector) = ("bim(eps=0.1,a=0.025)", "a<b>&\"c\"");
    let side = |cand: bool| -> Vec<MetricRow> {
        let mut rows = vec![
            row(
                loss,
                0,
                attack,
                detector,
                "all",
                "clean_acc",
                if cand { 0.5 } else { 0.9 },
            ),
            row(loss, 0, attack, detector, "all", "x&y<z>", 1.0),
            row(loss, 0, attack, detector, "all", "asr", 0.3),
        ];
        if !cand {
            rows.push(row(loss, 0, attack, detector, "all", "robust_acc", 0.4));
        }
        for r in &mut rows {
            r.dataset = dataset.into();
        }
        rows
    };
    let b = Input::from_rows("base \"<&>\".csv", side(false), BTreeMap::new());
    let c = Input::from_rows("cand.csv", side(true), BTreeMap::new());
    let opts = Options {
        default_tolerance: Some(0.05),
        ..Options::default()
    };
    let cmp = compare::compare(&b, &c, &opts).unwrap();
    let doc = compare::junit(&cmp);
    let root = check_junit(&doc);
    assert_eq!(
        [
            root.count("tests"),
            root.count("failures"),
            root.count("skipped")
        ],
        [4, 2, 1],
        "{doc}"
    );
    let suite = &root.children[0];
    assert_eq!(
        suite.attr("name"),
        Some("lossbench compare: cand.csv vs base \"<&>\".csv")
    );
    let case = |metric: &str| {
        let name = format!("{metric} [{attack} / {detector} / all]");
        suite
            .children_named("testcase")
            .find(|t| t.attr("name") == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no testcase {name:?} in\n{doc}"))
    };
    let reg = case("clean_acc");
    assert_eq!(
        reg.attr("classname"),
        Some(format!("{dataset}.small-cnn.{loss}").as_str())
    );
    let failure = &reg.children[0];
    assert_eq!(
        (failure.name.as_str(), failure.attr("type")),
        ("failure", Some("regression"))
    );
    assert!(failure.text.contains("baseline: 0.9000") && failure.text.contains('\n'));
    assert_eq!(case("robust_acc").children[0].attr("type"), Some("missing"));
    assert_eq!(case("x&y<z>").children[0].name, "skipped");
    assert!(case("asr").children.is_empty());
}
