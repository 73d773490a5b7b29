"""Side-by-side training throughput: lossbench against an equivalent PyTorch
eager loop (same model, batch, optimiser, data, thread count), run one after
the other in one invocation, printing images/s and the ratio.

    .venv/bin/python benches/train_peers.py [--threads 2] [--epochs 1] [--repeats 2]

The PyTorch model mirrors src/models/small_cnn.rs and src/heads/softmax.rs layer
for layer (normalisation inside the model, conv 32/64 3x3 pad 1 + ReLU + pool,
fc 128 + ReLU, feature layer 64, linear head), and its loop mirrors
src/train/mod.rs::fit: a seeded permutation per epoch, index_select batches,
Adam(1e-3), and per-step loss / accuracy accumulation.
"""
import argparse
import gzip
import json
import pathlib
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")


def read_idx(path, header):
    with gzip.open(path) as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=header)


class SmallCnn(nn.Module):
    def __init__(self, mean, std, feature_dim=64, classes=10):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 1, 1, 1))
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 7 * 7, 128)
        self.feat = nn.Linear(128, feature_dim)
        self.head = nn.Linear(feature_dim, classes)

    def features(self, x):
        x = (x - self.mean) / self.std
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc(x.flatten(1)))
        return self.feat(x)


def pytorch_run(x, y, epochs, batch):
    torch.manual_seed(0)
    mean, std = x.mean().item(), x.std(unbiased=False).item()
    model = SmallCnn(mean, std)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.long)
        for b in range(0, n, batch):
            idx = perm[b:b + batch]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            f = model.features(xb)
            logits = model.head(f)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * yb.shape[0]
                correct += (model.head(f.detach()).argmax(1) == yb).sum()
        final = loss_sum.item() / n
    seconds = time.perf_counter() - start
    return {"impl": "pytorch-eager", "threads": torch.get_num_threads(),
            "images": n * epochs, "seconds": round(seconds, 3),
            "images_per_s": round(n * epochs / seconds, 1), "final_loss": round(final, 4)}


def lossbench_run(epochs, batch, n, threads):
    out = subprocess.run(
        ["cargo", "bench", "--quiet", "--bench", "train_throughput", "--",
         "--epochs", str(epochs), "--batch", str(batch), "--train", str(n),
         "--threads", str(threads)],
        cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    images = read_idx(DATA / "train-images-idx3-ubyte.gz", 16)[: args.train * 784]
    labels = read_idx(DATA / "train-labels-idx1-ubyte.gz", 8)[: args.train]
    x = torch.from_numpy(images.copy()).view(-1, 1, 28, 28).float() / 255.0
    y = torch.from_numpy(labels.astype(np.int64))
    # Build once before timing (cargo bench compiles on first use).
    subprocess.run(["cargo", "bench", "--quiet", "--no-run", "--bench", "train_throughput"],
                   cwd=ROOT, check=True)
    rows = []
    for r in range(args.repeats):
        for run in (lambda: lossbench_run(args.epochs, args.batch, args.train, args.threads),
                    lambda: pytorch_run(x, y, args.epochs, args.batch)):
            row = run()
            row["repeat"] = r
            rows.append(row)
            print(json.dumps(row), flush=True)
    best = {}
    for row in rows:
        best[row["impl"]] = max(best.get(row["impl"], 0), row["images_per_s"])
    print(f"best images/s: lossbench {best['lossbench']:.0f}, pytorch-eager {best['pytorch-eager']:.0f}, "
          f"ratio {best['lossbench'] / best['pytorch-eager']:.2f}x")


if __name__ == "__main__":
    main()
