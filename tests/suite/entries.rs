//! Labelled and swept entries of `losses:` and `attacks:`: variants of one
//! component side by side, sweeps written once, the errors placed where
//! they are written, and job ids of unlabelled suites unchanged.

use super::*;
use lossbench::attacks;
use lossbench::suite::spec::{BimParams, LgmParams};
use lossbench::suite::BimStop;

const VARIANTS: &str = "  - lgm: {covariance: identity}\n    label: lgm-identity\n  - lgm: {covariance: diagonal}\n    label: lgm-diagonal\n";

#[test]
fn two_variants_of_one_loss_under_labels() {
    let suite = parse(&edit("  - lgm: {alpha: 0.1, lambda: 0.1}\n", VARIANTS));
    let labels: Vec<&str> = suite.losses.iter().map(|l| l.label()).collect();
    assert_eq!(
        labels,
        ["softmax", "center", "lgm-identity", "lgm-diagonal"]
    );
    let LossSpec::Lgm(p) = &suite.losses[3].spec else {
        panic!("{:?}", suite.losses[3])
    };
    assert_eq!(p.covariance, Covariance::Diagonal);
    // Each job carries its label, and the two variants are distinct jobs.
    let jobs = suite.jobs();
    let by_label = |l: &str| jobs.iter().filter(|j| j.config.loss.label() == l).count();
    assert_eq!((by_label("lgm-identity"), by_label("lgm-diagonal")), (3, 3));
    let mut ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12);
}

#[test]
fn a_sweep_is_one_entry_per_value_with_a_derived_label() {
    let suite = parse(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm: {lambda: 0.2}\n    sweep: {alpha: [0.1, 0.3, 1.0]}\n",
    ));
    let labels: Vec<&str> = suite.losses.iter().map(|l| l.label()).collect();
    assert_eq!(
        labels,
        [
            "softmax",
            "center",
            "lgm-alpha-0.1",
            "lgm-alpha-0.3",
            "lgm-alpha-1"
        ]
    );
    let alphas: Vec<f64> = suite.losses[2..]
        .iter()
        .map(|l| match &l.spec {
            LossSpec::Lgm(LgmParams { alpha, lambda, .. }) => {
                assert_eq!(*lambda, 0.2);
                *alpha
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(alphas, [0.1, 0.3, 1.0]);

    // (A label says the value as a number: `1.0` is `1`.)
    // Two swept parameters: every combination, the last varying fastest,
    // under the entry's own label.
    let suite = parse(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm:\n    label: g\n    sweep: {alpha: [0.1, 0.3], covariance: [identity, diagonal]}\n",
    ));
    let labels: Vec<&str> = suite.losses[2..].iter().map(|l| l.label()).collect();
    assert_eq!(
        labels,
        [
            "g-alpha-0.1-covariance-identity",
            "g-alpha-0.1-covariance-diagonal",
            "g-alpha-0.3-covariance-identity",
            "g-alpha-0.3-covariance-diagonal"
        ]
    );
}

#[test]
fn sweep_and_label_mistakes_are_placed_where_written() {
    // A swept value out of range: at the value in the sweep.
    assert_fails(
        &edit(
            "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
            "  - lgm:\n    sweep: {alpha: [0.1, -1]}\n",
        ),
        "losses[2].sweep.alpha[1]",
        12,
        26,
        "must be a finite number >= 0, got -1",
    );
    // An unknown parameter to sweep.
    let (field, _, _, msg) = fail(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm:\n    sweep: {alpah: [0.1, 0.3]}\n",
    ));
    assert_eq!(field, "losses[2].sweep.alpah");
    assert!(
        msg.contains("unknown field `alpah` (did you mean `alpha`?)"),
        "{msg}"
    );
    // Set and swept at once.
    let (field, _, _, msg) = fail(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm: {alpha: 0.1}\n    sweep: {alpha: [0.1, 0.3]}\n",
    ));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        (
            "losses[2].sweep.alpha",
            "`alpha` is both set under `lgm` and swept"
        )
    );
    // One value is not a sweep.
    let (field, _, _, msg) = fail(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm:\n    sweep: {alpha: [0.1]}\n",
    ));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        (
            "losses[2].sweep.alpha",
            "expected a list of at least two values to sweep"
        )
    );
    // A label that cannot be one, and a label used twice.
    let (field, _, _, msg) = fail(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm:\n    label: L/GM\n",
    ));
    assert_eq!(field, "losses[2].label");
    assert!(msg.starts_with("`L/GM` is not a valid label"), "{msg}");
    let (field, _, _, msg) = fail(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm:\n    label: a\n  - lgm: {alpha: 1}\n    label: a\n",
    ));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        ("losses[3]", "label `a` is used twice (also losses[2])")
    );
    // A label that is another entry's name.
    let (field, _, _, msg) = fail(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - lgm:\n    label: softmax\n",
    ));
    assert_eq!(field, "losses[2]");
    assert!(
        msg.starts_with("a second `softmax` loss (losses[0]"),
        "{msg}"
    );
    // A label with no component.
    let (field, _, _, msg) = fail(&edit(
        "  - lgm: {alpha: 0.1, lambda: 0.1}\n",
        "  - label: x\n",
    ));
    assert_eq!(
        (field.as_str(), msg.as_str()),
        (
            "losses[2]",
            "an entry with `label` or `sweep` needs a name too"
        )
    );
}

#[test]
fn labelled_attacks_go_under_their_label_with_their_parameters() {
    let suite = parse(&edit(
        "  - fgsm: {eps: [0.0, 0.1, 0.3]}\n",
        "  - bim: {stop: first}\n    label: bim-a\n  - bim: {stop: last}\n    label: bim-b\n  - bim\n",
    ));
    let labels: Vec<String> = suite
        .attacks
        .iter()
        .flat_map(attacks::build)
        .map(|a| a.label())
        .collect();
    assert_eq!(
        labels,
        [
            "bim-a(eps=0.1,a=0.025,T=10,stop=first)",
            "bim-b(eps=0.1,a=0.025,T=10,stop=last)",
            "bim(eps=0.1,a=0.025,T=10,stop=last)"
        ]
    );
    assert_eq!(
        suite.attacks[0].spec,
        AttackSpec::Bim(BimParams {
            stop: BimStop::First,
            ..Default::default()
        })
    );
}

#[test]
fn unlabelled_suites_keep_their_job_ids() {
    // The id of BASE's first job, from before labels existed (lossbench
    // 0.1.0): an unlabelled entry serialises as the bare component.
    let suite = parse(BASE);
    let json = serde_json::to_string(&suite.jobs()[0].config).unwrap();
    assert!(
        json.contains(r#""loss":"softmax","seed":0,"attacks":[{"fgsm":{"eps":[0.0,0.1,0.3]}}]"#),
        "{json}"
    );
    let labelled = parse(&edit("  - softmax\n", "  - softmax:\n    label: plain\n"));
    let json = serde_json::to_string(&labelled.jobs()[0].config).unwrap();
    assert!(
        json.contains(r#""loss":{"label":"plain","spec":"softmax"}"#),
        "{json}"
    );
}
