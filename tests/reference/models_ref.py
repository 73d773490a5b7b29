"""Reference architectures for tests/models.rs, built in PyTorch layer by layer
from the model descriptions (src/models/*.rs docs, docs/definitions.md notation, the papers).

Run from the repository root:  .venv/bin/python tests/reference/models_ref.py
It writes tests/reference/models_ref.json (committed).

Parameter names mirror lossbench's var-store paths so that both sides can fill
the trainable parameters the same way and compare forward passes:
parameter j, in sorted-name order, gets element i set to
    sin(0.1 i + j) / sqrt(fan_in)   (tensors of 2+ dims; fan_in = numel / shape[0])
    0.5 + 0.25 sin(0.1 i + j)       (1-dim: biases, batch-norm affine, PReLU slopes)
and the input batch `x [2, C, H, W]` is `0.5 + 0.5 sin(0.37 i)` (in [0, 1]).
The forward pass runs in training mode (batch norm on batch statistics;
dropout is 0). Stored per model: the sorted trainable names and shapes, the
trainable parameter count, the widths of the tapped activations (LID layers)
and the features.

Architectures:
- mlp: flatten, linear 256, ReLU, linear 256, ReLU, linear feature_dim.
- small-cnn: conv3x3(32, pad 1), ReLU, maxpool 2, conv3x3(64, pad 1), ReLU,
  maxpool 2, linear 128, ReLU, linear feature_dim.
- lenetpp (Wen et al. 2016): (conv5x5 pad 2, PReLU per channel) x 2 per stage,
  widths 32-32, 64-64, 128-128, 2x2 max pooling after each stage, linear
  feature_dim.
- resnet20/32/56 (He et al. 2016, §4.2): conv3x3(16)-BN-ReLU, three stages of
  n = (depth - 2) / 6 basic blocks (16, 32, 64 channels, stride 2 entering
  stages 2 and 3), convolutions without bias, option-A shortcuts (subsample,
  zero-pad channels evenly), global average pooling, linear feature_dim.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F
from torch import nn

torch.set_default_dtype(torch.float64)


class Mlp(nn.Module):
    def __init__(self, shape, dim):
        super().__init__()
        self.fc1 = nn.Linear(shape[0] * shape[1] * shape[2], 256)
        self.fc2 = nn.Linear(256, 256)
        self.feat = nn.Linear(256, dim)

    def forward(self, x, taps):
        h = F.relu(self.fc1(x.flatten(1)))
        taps.append(h)
        h = F.relu(self.fc2(h))
        taps.append(h)
        return self.feat(h)


class SmallCnn(nn.Module):
    def __init__(self, shape, dim):
        super().__init__()
        c, h, w = shape
        self.conv1 = nn.Conv2d(c, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * (h // 4) * (w // 4), 128)
        self.feat = nn.Linear(128, dim)

    def forward(self, x, taps):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        taps.append(h)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        taps.append(h)
        h = F.relu(self.fc(h.flatten(1)))
        taps.append(h)
        return self.feat(h)


class ConvPrelu(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 5, padding=2)
        self.prelu = nn.Parameter(torch.full((cout,), 0.25))

    def forward(self, x):
        return F.prelu(self.conv(x), self.prelu)


class LeNetPP(nn.Module):
    def __init__(self, shape, dim):
        super().__init__()
        c, h, w = shape
        widths = [(c, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)]
        for i, (cin, cout) in enumerate(widths):
            self.add_module(f"conv{i + 1}", ConvPrelu(cin, cout))
        self.feat = nn.Linear(128 * (h // 8) * (w // 8), dim)

    def forward(self, x, taps):
        h = x
        for s in range(3):
            a, b = getattr(self, f"conv{2 * s + 1}"), getattr(self, f"conv{2 * s + 2}")
            h = F.max_pool2d(b(a(h)), 2)
            taps.append(h)
        return self.feat(h.flatten(1))


def conv3x3(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.stride == 1 and self.pad == 0:
            short = x
        else:  # option A
            short = x[:, :, :: self.stride, :: self.stride]
            short = F.pad(short, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(h + short)


class ResNet(nn.Module):
    def __init__(self, shape, dim, depth):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = conv3x3(shape[0], 16, 1)
        self.bn = nn.BatchNorm2d(16)
        cin = 16
        for s, cout in enumerate([16, 32, 64]):
            stage = nn.Module()
            for b in range(n):
                stage.add_module(f"block{b}", Block(cin, cout, 2 if s > 0 and b == 0 else 1))
                cin = cout
            self.add_module(f"stage{s + 1}", stage)
        self.feat = nn.Linear(64, dim)

    def forward(self, x, taps):
        h = F.relu(self.bn(self.conv(x)))
        taps.append(h)
        for s in range(3):
            for block in getattr(self, f"stage{s + 1}").children():
                h = block(h)
            taps.append(h)
        return self.feat(F.adaptive_avg_pool2d(h, 1).flatten(1))


MODELS = [
    ("mlp", "mlp", [1, 28, 28], 64, lambda s, d: Mlp(s, d)),
    ("small-cnn", "small_cnn", [3, 32, 32], 64, lambda s, d: SmallCnn(s, d)),
    ("lenetpp", "lenetpp", [1, 28, 28], 2, lambda s, d: LeNetPP(s, d)),
    ("resnet20", "resnet", [3, 32, 32], 64, lambda s, d: ResNet(s, d, 20)),
    ("resnet32", "resnet", [3, 32, 32], 64, lambda s, d: ResNet(s, d, 32)),
    ("resnet56", "resnet", [3, 32, 32], 64, lambda s, d: ResNet(s, d, 56)),
]


def fill(params):
    with torch.no_grad():
        for j, (_, p) in enumerate(sorted(params.items())):
            i = torch.arange(p.numel(), dtype=torch.float64)
            s = torch.sin(0.1 * i + j)
            if p.dim() >= 2:
                v = s / math.sqrt(p.numel() / p.shape[0])
            else:
                v = 0.5 + 0.25 * s
            p.copy_(v.view(p.shape))


def run(kind, prefix, shape, dim, build):
    model = build(shape, dim)
    params = {f"{prefix}.{n}": p for n, p in model.named_parameters()}
    fill(params)
    model.train()
    n = 2 * shape[0] * shape[1] * shape[2]
    x = (0.5 + 0.5 * torch.sin(0.37 * torch.arange(n, dtype=torch.float64))).view(2, *shape)
    taps = []
    with torch.no_grad():
        f = model(x, taps)
    names = sorted(params)
    return {
        "kind": kind,
        "shape": shape,
        "feature_dim": dim,
        "names": names,
        "shapes": [list(params[k].shape) for k in names],
        "count": sum(p.numel() for p in params.values()),
        "tap_widths": [t.flatten(1).shape[1] for t in taps],
        "features": f.reshape(-1).tolist(),
    }


# Anchor: with a 10-way feature layer the CIFAR ResNets have He et al.'s
# parameter counts (Table 6: 0.27M, 0.46M, 0.85M; exactly these with option A).
for depth, count in [(20, 269722), (32, 464154), (56, 853018)]:
    assert sum(p.numel() for p in ResNet([3, 32, 32], 10, depth).parameters()) == count

out = {"torch": torch.__version__, "models": [run(*m) for m in MODELS]}
for m in out["models"]:
    print(m["kind"], m["count"], m["tap_widths"])
path = pathlib.Path(__file__).with_suffix(".json")
path.write_text(json.dumps(out) + "\n")
print(f"wrote {path}")
