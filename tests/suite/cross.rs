//! Errors across sections: regression tolerances on metrics that are never
//! gated, and settings that would only be skipped after training.

use super::*;

/// `BASE` with a `regression:` section of `body` (its lines start at 17).
fn with_regression(body: &str) -> String {
    format!("{BASE}regression:\n{body}")
}

#[test]
fn regression_metric_must_be_known() {
    let (field, line, column, msg) = fail(&with_regression("  clen_acc: 0.02\n"));
    assert_eq!(
        (field.as_str(), line, column),
        ("regression.clen_acc", 17, 3)
    );
    let prefix = "unknown metric `clen_acc` (did you mean `clean_acc`?); a tolerance needs one of \
                  `clean_acc`, `robust_acc`, `defended_acc`, `auroc`";
    assert!(msg.starts_with(prefix), "{msg}");
    for gateable in ["`asr`", "`fpr_at_95tpr`", "`seconds`", "`images_per_s`"] {
        assert!(msg.contains(gateable), "{gateable}: {msg}");
    }
    for informational in ["n_eval", "l2_mean", "iters_mean"] {
        assert!(!msg.contains(informational), "{informational}: {msg}");
    }

    // Nothing close: no suggestion.
    let (field, _, _, msg) = fail(&with_regression("  auroc: 0.1\n  accuracy: 0.02\n"));
    assert_eq!(field, "regression.accuracy");
    assert!(
        msg.starts_with("unknown metric `accuracy`; a tolerance needs one of `clean_acc`"),
        "{msg}"
    );
}

#[test]
fn regression_metric_must_be_gated() {
    let (field, line, column, msg) = fail(&with_regression("  l2_mean: 0.5\n"));
    assert_eq!(
        (field.as_str(), line, column),
        ("regression.l2_mean", 17, 3)
    );
    assert!(
        msg.starts_with(
            "`l2_mean` is informational, never gated, so a tolerance on it has no effect; a \
             tolerance needs one of `clean_acc`"
        ),
        "{msg}"
    );
    // Flow style: the error is at the key, not at its value.
    let (field, line, column, msg) =
        fail(&format!("{BASE}regression: {{auroc: 0.1, n_eval: 3}}\n"));
    assert_eq!(
        (field.as_str(), line, column),
        ("regression.n_eval", 16, 26)
    );
    assert!(
        msg.starts_with("`n_eval` is informational, never gated"),
        "{msg}"
    );
}

#[test]
fn regression_metric_names_that_gate() {
    // Timing metrics gate under an explicit tolerance.
    let suite = parse(&with_regression(
        "  clean_acc: 0.02\n  fpr_at_95tpr: 0.1\n  seconds: 30\n  images_per_s: 100\n",
    ));
    assert_eq!(suite.regression.tolerances.len(), 4);
    assert_eq!(suite.regression.tolerances["seconds"], 30.0);
    // The name is checked before the value.
    let (field, _, _, msg) = fail(&with_regression("  n_pairs: -1\n"));
    assert_eq!(field, "regression.n_pairs");
    assert!(msg.starts_with("`n_pairs` is informational"), "{msg}");
}

#[test]
fn kd_bu_needs_dropout() {
    let text = edit("lgm-likelihood]", "{kd-bu: {samples: 5}}]");
    assert_fails(
        &text,
        "detectors[1]",
        15,
        26,
        "`kd-bu` needs model dropout > 0 (its uncertainty feature uses MC dropout); set \
         model.mlp.dropout",
    );
    // The model's own name is in the advice.
    let (_, _, _, msg) = fail(&text.replace("model: mlp", "model: {small-cnn: {dropout: 0}}"));
    assert!(msg.ends_with("set model.small-cnn.dropout"), "{msg}");
    let suite = parse(&text.replace("model: mlp", "model: {mlp: {dropout: 0.2}}"));
    assert_eq!(suite.detectors.len(), 2);
}

#[test]
fn detectors_need_an_attack() {
    let msg = "detectors score adversarial examples or abnormal inputs, but neither `attacks` \
               nor `ood` lists any; add an attack or an abnormal source, or remove the detectors";
    assert_fails(
        &edit("attacks:\n  - fgsm: {eps: [0.0, 0.1, 0.3]}\n", ""),
        "detectors",
        13,
        1,
        msg,
    );
    assert_fails(
        &edit(
            "attacks:\n  - fgsm: {eps: [0.0, 0.1, 0.3]}\n",
            "attacks: []\n",
        ),
        "detectors",
        14,
        1,
        msg,
    );
    // No detectors, no attacks: a clean-accuracy suite.
    let suite = parse(&edit(
        "attacks:\n  - fgsm: {eps: [0.0, 0.1, 0.3]}\ndetectors: [max-softmax, lgm-likelihood]\n",
        "detectors: []\n",
    ));
    assert!(suite.attacks.is_empty() && suite.detectors.is_empty());
}

#[test]
fn synthetic_data_has_no_path() {
    assert_fails(
        &edit(
            "  dataset: synthetic\n",
            "  dataset: synthetic\n  path: /data\n",
        ),
        "data.path",
        4,
        3,
        "the synthetic dataset is generated, not read, so `path` is not used; remove it",
    );
}

#[test]
fn two_variants_of_one_loss() {
    assert_fails(
        &edit("  - center\n", "  - lgm: {alpha: 0.3}\n"),
        "losses[2]",
        11,
        5,
        "a second `lgm` loss (losses[1] is `lgm` too): results are keyed by label, so give each \
         a distinct `label:`",
    );
    let (field, line, column, msg) = fail(&edit("  - softmax\n", "  - {center: {lambda: 0.1}}\n"));
    assert_eq!((field.as_str(), line, column), ("losses[1]", 10, 5));
    assert!(
        msg.starts_with("a second `center` loss (losses[0] is `center` too)"),
        "{msg}"
    );
    // The same parameters once defaults are filled: the duplicate message.
    assert_fails(
        &edit("  - center\n", "  - lgm\n"),
        "losses[2]",
        11,
        5,
        "duplicate of losses[1] (same loss with the same parameters)",
    );
}
