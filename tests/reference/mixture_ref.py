"""Reference values for the L-GM mixture fit (metrics::mixture_fit) in
tests/metrics.rs, computed with numpy and scikit-learn from
docs/definitions.md §1.4 ("Fitted mixture"), independently of the Rust code.

Run from the repository root with the project venv:

    .venv/bin/python tests/reference/mixture_ref.py

It writes tests/reference/mixture_ref.json (committed).

- the empirical class means come from scikit-learn's NearestCentroid fitted
  on the features (its centroids_ are the per-class means), checked against
  a numpy mask-and-mean;
- d_k = |mu_k - m_k| for the classes with a sample (class 3 of 5 has none,
  and its learned mean must be left out);
- the separation is the mean of scipy's pdist over the empirical means.
"""

import json
import pathlib

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.neighbors import NearestCentroid

rng = np.random.default_rng(20250613)
cases = []
for name, n, d, k, absent in [("five_classes_one_absent", 60, 3, 5, 3), ("two_classes_2d", 9, 2, 2, None)]:
    present = [c for c in range(k) if c != absent]
    labels = np.array(present * (n // len(present)) + present[: n % len(present)])
    rng.shuffle(labels)
    centres = rng.normal(0, 3, (k, d))
    features = centres[labels] + rng.normal(0, 1, (n, d))
    means = centres + rng.normal(0, 0.5, (k, d))
    nc = NearestCentroid().fit(features, labels)
    emp = nc.centroids_  # rows follow nc.classes_ (sorted present classes)
    for row, c in zip(emp, nc.classes_):
        assert np.allclose(row, features[labels == c].mean(axis=0))
    dist = np.linalg.norm(means[nc.classes_] - emp, axis=1)
    sep = pdist(emp).mean()
    cases.append(
        {
            "name": name,
            "dim": d,
            "features": features.ravel().tolist(),
            "labels": labels.tolist(),
            "means": means.ravel().tolist(),
            "mean_dist": float(dist.mean()),
            "max_dist": float(dist.max()),
            "class_sep": float(sep),
            "relative": float(dist.mean() / sep),
        }
    )

path = pathlib.Path(__file__).with_name("mixture_ref.json")
path.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
for c in cases:
    print(c["name"], c["mean_dist"], c["max_dist"], c["class_sep"], c["relative"])
