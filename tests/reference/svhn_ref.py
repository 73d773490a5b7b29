"""Writes small SVHN-format files with scipy (the library SVHN's users read
them with) and the images and labels they hold, for tests/data_formats.rs.

train_32x32.mat: compressed (MATLAB -v7), 2 images, labels stored as uint8.
test_32x32.mat: uncompressed (MATLAB -v6), 3 images, labels stored as double
(SVHN's own type). X is [32, 32, 3, N] uint8 as in SVHN; y is [N, 1] with 10
meaning the digit 0. The JSON gives each image as scipy reads it, reordered
to [N, 3, 32, 32] by numpy, and the labels with 10 mapped to 0.

Run from the repository root: .venv/bin/python tests/reference/svhn_ref.py
"""

import json
import os

import numpy as np
import scipy.io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "svhn")


def make(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, size=(n, 1)).astype(np.float64)
    y[0, 0] = 10.0  # the digit 0, as SVHN labels it
    return x, y


def main():
    os.makedirs(OUT, exist_ok=True)
    ref = {}
    for name, n, seed, compress, label_type in [
        ("train_32x32.mat", 2, 1, True, np.uint8),
        ("test_32x32.mat", 3, 2, False, np.float64),
    ]:
        x, y = make(n, seed)
        path = os.path.join(OUT, name)
        scipy.io.savemat(path, {"X": x, "y": y.astype(label_type)}, do_compression=compress)
        back = scipy.io.loadmat(path)
        assert back["X"].shape == (32, 32, 3, n) and back["X"].dtype == np.uint8
        chw = np.transpose(back["X"], (3, 2, 0, 1))  # [N, C, H, W]
        labels = back["y"].astype(np.int64).ravel() % 10
        ref[name] = {
            "n": n,
            "images": chw.reshape(-1).tolist(),
            "labels": labels.tolist(),
        }
    with open(os.path.join(HERE, "svhn_ref.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main()
