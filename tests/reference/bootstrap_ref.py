"""Reference values for the paired AUROC bootstrap in tests/metrics.rs,
computed with numpy and scikit-learn from docs/definitions.md §4,
independently of the Rust code.

Run from the repository root with the project venv:

    .venv/bin/python tests/reference/bootstrap_ref.py

It writes tests/reference/bootstrap_ref.json (committed).

For a set of n (clean, adversarial) pairs, the paired bootstrap draws n pair
indices with replacement. With n small, every one of the n**n index tuples
can be listed: taking each once is the exact bootstrap distribution of the
AUROC, and its 2.5 % and 97.5 % quantiles (numpy's default, linear
interpolation) are the interval the Rust test asks for when it feeds the
same enumeration to `auroc_bootstrap_ci_paired_with`. The order of the
tuples does not matter to a quantile.

Each AUROC is the Mann-Whitney form of §4, checked against scikit-learn's
roc_auc_score on random finite scores (scikit-learn refuses infinite ones).

For contrast, each case also stores the exact interval of the unpaired
bootstrap (every n-tuple of positives times every n-tuple of negatives),
which differs when the pairing matters.
"""

import itertools
import json
import pathlib

import numpy as np
from sklearn.metrics import roc_auc_score


def auc(pos, neg):
    """The Mann-Whitney form P(pos > neg) + P(pos = neg) / 2, which orders
    infinite scores as numbers (scikit-learn refuses them)."""
    p = np.asarray(pos)[:, None]
    q = np.asarray(neg)[None, :]
    return float(np.mean((p > q) + 0.5 * (p == q)))


def sk_auc(pos, neg):
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    return float(roc_auc_score(y, np.r_[pos, neg]))


# The Mann-Whitney form is scikit-learn's AUROC where both apply.
check = np.random.default_rng(1)
for _ in range(200):
    a = np.round(check.normal(0.3, 1, 5), 1)
    b = np.round(check.normal(0, 1, 4), 1)
    assert abs(auc(a, b) - sk_auc(a, b)) < 1e-12


def paired(pos, neg):
    n = len(pos)
    stats = [auc(pos[list(t)], neg[list(t)]) for t in itertools.product(range(n), repeat=n)]
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return float(lo), float(hi), len(stats)


def unpaired(pos, neg):
    n = len(pos)
    tuples = list(itertools.product(range(n), repeat=n))
    stats = [auc(pos[list(a)], neg[list(b)]) for a in tuples for b in tuples]
    lo, hi = np.quantile(stats, [0.025, 0.975])
    return float(lo), float(hi)


rng = np.random.default_rng(20250612)
cases = {
    # Ties within and across pairs.
    "ties_3": (np.array([0.9, 0.4, 0.6]), np.array([0.2, 0.5, 0.6])),
    # Each adversarial score a little above its own clean score, the images
    # far apart: pairing keeps every resample near-separable.
    "shifted_4": (np.array([1.3, 5.2, 2.3, 8.1]), np.array([1.0, 5.0, 2.0, 8.0])),
    # Infinite scores and a few coarse random ones.
    "inf_5": (
        np.array([np.inf, 1.0, 0.5, -np.inf, 2.0]),
        np.array([0.0, 1.0, np.inf, -1.0, 0.5]),
    ),
    "random_6": (
        np.round(rng.normal(0.5, 1.0, 6), 1),
        np.round(rng.normal(0.0, 1.0, 6), 1),
    ),
}
out = []
for name, (pos, neg) in cases.items():
    lo, hi, count = paired(pos, neg)
    entry = {
        "name": name,
        "pos": [repr(float(v)) for v in pos],
        "neg": [repr(float(v)) for v in neg],
        "resamples": count,
        "paired": [lo, hi],
        "auroc": auc(pos, neg),
    }
    if len(pos) <= 4:
        entry["unpaired"] = list(unpaired(pos, neg))
    out.append(entry)

path = pathlib.Path(__file__).with_name("bootstrap_ref.json")
path.write_text(json.dumps({"cases": out}, indent=1) + "\n")
print(json.dumps(out, indent=1))
