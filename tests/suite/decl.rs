//! The words and schema of declared bounds, and the did-you-mean hints.

use lossbench::decl::{did_you_mean, edit_distance, Bounds, Interval, Items, Value};
use serde_json::json;

#[test]
fn suggestions() {
    let metrics = ["clean_acc", "robust_acc", "auroc", "aupr", "asr"];
    let hint = |name: &str| did_you_mean(name, &metrics);
    assert_eq!(hint("clen_acc"), " (did you mean `clean_acc`?)");
    assert_eq!(hint("AUROC"), " (did you mean `auroc`?)");
    assert_eq!(hint("clean-acc"), " (did you mean `clean_acc`?)");
    assert_eq!(hint("auprc"), " (did you mean `aupr`?)");
    assert_eq!(hint("accuracy"), "");
    assert_eq!(hint("xyz"), "");
    // A swap of neighbours is one edit.
    assert_eq!(
        did_you_mean("fgms", &["fgsm", "bim"]),
        " (did you mean `fgsm`?)"
    );
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("ab", "ba"), 1);
}

#[test]
fn bounds_in_words_and_schema() {
    let b = Bounds::from(1..=4);
    assert_eq!(b.short().as_deref(), Some("in 1..=4"));
    assert_eq!(Bounds::from(2..).short().as_deref(), Some(">= 2"));
    assert_eq!(
        u32::schema(b),
        json!({"type": "integer", "minimum": 1, "maximum": 4})
    );
    assert_eq!(
        f64::schema(Interval::UnitOpen.into()),
        json!({"type": "number", "minimum": 0.0, "exclusiveMaximum": 1.0})
    );
    assert_eq!(Interval::Positive.describe(), "a finite number > 0");
    assert_eq!(Interval::Between(1e-6, 1e6).short(), "in [1e-6, 1e6]");
    assert_eq!(
        Vec::<f64>::allowed((Interval::UnitClosed, Items::OneOrList).into()).as_deref(),
        Some("each in [0, 1]")
    );
}
