"""Reference values for tests/metrics.rs, computed with scikit-learn.

Run from the repository root with the project venv:

    .venv/bin/python tests/reference/metrics_ref.py

It writes tests/reference/metrics_ref.json: for each case the positive and
negative scores (positives = adversarial, label 1) and scikit-learn's
roc_auc_score, average_precision_score (also with the classes swapped and the
scores negated: AUPR-In) and roc_curve(drop_intermediate=False).
fpr_at_95tpr and det_acc follow docs/definitions.md §4 from that same curve. Scores are
printed with repr precision (17 significant digits), so Rust reads back the
exact doubles. ±inf is left out on purpose: scikit-learn finds distinct scores
with np.diff, where inf - inf = nan counts as a change.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve


def case(name, pos, neg):
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    s = np.concatenate([pos, neg])
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    # docs/definitions.md §4: FPR at the highest threshold whose TPR >= 0.95 (first >=).
    # Compared on counts, as the Rust side does, to avoid 0.95 rounding.
    tps = np.round(tpr * len(pos)).astype(np.int64)
    first = int(np.argmax(20 * tps >= 19 * len(pos)))
    return {
        "name": name,
        "pos": pos.tolist(),
        "neg": neg.tolist(),
        "auroc": float(roc_auc_score(y, s)),
        "aupr": float(average_precision_score(y, s)),
        # AUPR-In of out-of-distribution detection (docs/definitions.md §5): the
        # negatives (in-distribution) are the positive class, scored by -s.
        "aupr_in": float(average_precision_score(1 - y, -s)),
        "fpr_at_95tpr": float(fpr[first]),
        "det_acc": float(np.max(0.5 * (tpr + 1.0 - fpr))),
        "roc_fpr": fpr.tolist(),
        "roc_tpr": tpr.tolist(),
        # json has no inf: the first threshold (+inf) is written as null.
        "roc_thresholds": [None if np.isinf(t) else float(t) for t in thr],
    }


def main():
    rng = np.random.default_rng(20240611)
    cases = []
    # Overlapping Gaussians of several sizes, continuous scores (no ties).
    for n, m, shift in [(5, 7, 0.5), (50, 40, 1.0), (300, 500, 0.3), (1000, 1000, 2.0)]:
        cases.append(case(f"gauss_{n}_{m}", rng.normal(shift, 1.0, n), rng.normal(0.0, 1.0, m)))
    # Heavy ties: scores rounded to a coarse grid.
    for n, m in [(20, 30), (200, 150)]:
        cases.append(
            case(f"ties_{n}_{m}", np.round(rng.normal(0.4, 1.0, n), 1), np.round(rng.normal(0.0, 1.0, m), 1))
        )
    # Integer scores, many exact ties across the classes.
    cases.append(case("int_ties", rng.integers(0, 5, 40), rng.integers(0, 4, 60)))
    # Unbalanced classes.
    cases.append(case("unbalanced", rng.normal(1.0, 1.0, 3), rng.normal(0.0, 1.0, 97)))
    # Perfectly separable, inverted and constant.
    cases.append(case("separable", rng.uniform(2.0, 3.0, 25), rng.uniform(0.0, 1.0, 30)))
    cases.append(case("inverted", rng.uniform(0.0, 1.0, 25), rng.uniform(2.0, 3.0, 30)))
    cases.append(case("constant", np.full(10, 0.25), np.full(15, 0.25)))
    # Hand-sized case with a tie across classes and negative zero.
    cases.append(case("tiny", [0.8, 0.4, 0.0], [0.4, -0.0, -1.0, 0.1]))
    out = {"sklearn_version": sklearn.__version__, "cases": cases}
    path = pathlib.Path(__file__).with_name("metrics_ref.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path} ({len(cases)} cases, scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
