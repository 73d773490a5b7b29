"""lossbench's models in PyTorch: every backbone and head, and `load`, which
rebuilds a model lossbench trained from the files it exports beside each
checkpoint (results/<suite>/checkpoints/<key>.safetensors and <key>.json).

    import sys; sys.path.insert(0, "python")
    import lossbench_models
    model = lossbench_models.load("results/<suite>/checkpoints/<key>.json")
    logits, features = model(x)        # x: [N, C, H, W] in [0, 1], float32

The module is in eval mode: batch norm uses its running statistics and
dropout is off, as in lossbench's evaluation. The logits are the inference
logits (no training margin: L-GM's are -d_k - 1/2 log|Lambda_k|, L-Softmax's
W f without the margin). Its `state_dict()` keys are the names in the
safetensors file, so fine-tuning and saving work as for any PyTorch model;
`model.head.log_likelihood(features)` gives L-GM's log N(f; mu_k, Lambda_k).

To use it as an external model in a lossbench suite, trace it:

    torch.jit.trace(model, torch.rand(1, *model.input_shape)).save("model.pt")

The weights are read with the `safetensors` package when it is installed,
else with the small reader below (the format is an 8-byte header length, a
JSON header, then the raw little-endian tensors). Only torch is needed.

The definitions follow src/models/*.rs and src/heads/*.rs layer for layer;
tests/export.rs checks them against lossbench on every backbone and head.
"""
import json
import math
import pathlib
import struct

import torch
import torch.nn.functional as F
from torch import nn

FORMAT = "lossbench-model"
FORMAT_VERSION = 1


# --------------------------------------------------------------------------
# Backbones: [N, C, H, W] (normalised) -> features [N, D]


class Normalize(nn.Module):
    """Per-channel (x - mean) / std, the first layer of every model."""

    def __init__(self, channels):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, channels, 1, 1))
        self.register_buffer("std", torch.ones(1, channels, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class Mlp(nn.Module):
    """flatten, linear 256, ReLU, linear 256, ReLU, dropout, linear D."""

    def __init__(self, shape, dim, dropout):
        super().__init__()
        self.fc1 = nn.Linear(shape[0] * shape[1] * shape[2], 256)
        self.fc2 = nn.Linear(256, 256)
        self.dropout = nn.Dropout(dropout)
        self.feat = nn.Linear(256, dim)

    def forward(self, x):
        h = F.relu(self.fc2(F.relu(self.fc1(x.flatten(1)))))
        return self.feat(self.dropout(h))


class SmallCnn(nn.Module):
    """conv3x3(32)-ReLU-pool, conv3x3(64)-ReLU-pool, linear 128-ReLU,
    dropout, linear D."""

    def __init__(self, shape, dim, dropout):
        super().__init__()
        c, h, w = shape
        self.conv1 = nn.Conv2d(c, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * (h // 4) * (w // 4), 128)
        self.dropout = nn.Dropout(dropout)
        self.feat = nn.Linear(128, dim)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.relu(self.fc(h.flatten(1)))
        return self.feat(self.dropout(h))


class ConvPrelu(nn.Module):
    """conv5x5 (pad 2) then PReLU with one slope per channel (`prelu`)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 5, padding=2)
        self.prelu = nn.Parameter(torch.full((cout,), 0.25))

    def forward(self, x):
        return F.prelu(self.conv(x), self.prelu)


class LeNetPP(nn.Module):
    """LeNet++ (Wen et al. 2016): (conv5x5, PReLU) x 2 per stage, widths
    32, 64, 128, max pooling after each stage, dropout, linear D."""

    WIDTHS = [(None, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128)]

    def __init__(self, shape, dim, dropout):
        super().__init__()
        c, h, w = shape
        for i, (cin, cout) in enumerate(self.WIDTHS):
            setattr(self, f"conv{i + 1}", ConvPrelu(c if cin is None else cin, cout))
        self.dropout = nn.Dropout(dropout)
        self.feat = nn.Linear(128 * (h // 8) * (w // 8), dim)

    def forward(self, x):
        h = x
        for stage in range(3):
            a = getattr(self, f"conv{2 * stage + 1}")
            b = getattr(self, f"conv{2 * stage + 2}")
            h = F.max_pool2d(b(a(h)), 2)
        return self.feat(self.dropout(h.flatten(1)))


class Block(nn.Module):
    """A basic block with an option-A shortcut (subsample, zero-pad the
    new channels evenly before and after)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride = stride
        self.pad = cout - cin

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.stride == 1 and self.pad == 0:
            shortcut = x
        else:
            sub = x[:, :, :: self.stride, :: self.stride]
            before = self.pad // 2
            shortcut = F.pad(sub, (0, 0, 0, 0, before, self.pad - before))
        return F.relu(h + shortcut)


class ResNet(nn.Module):
    """CIFAR ResNet (He et al. 2016, section 4.2) of depth 6n + 2."""

    def __init__(self, shape, dim, dropout, depth):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(shape[0], 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        cin = 16
        for stage, cout in enumerate([16, 32, 64]):
            blocks = nn.ModuleDict()
            for b in range(n):
                stride = 2 if stage > 0 and b == 0 else 1
                blocks[f"block{b}"] = Block(cin, cout, stride)
                cin = cout
            setattr(self, f"stage{stage + 1}", blocks)
        self.dropout = nn.Dropout(dropout)
        self.feat = nn.Linear(64, dim)

    def forward(self, x):
        h = F.relu(self.bn(self.conv(x)))
        for stage in (self.stage1, self.stage2, self.stage3):
            for block in stage.values():
                h = block(h)
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return self.feat(self.dropout(h))


# The attribute each backbone sits under (its prefix in the names).
BACKBONES = {
    "mlp": ("mlp", lambda s, d, p: Mlp(s, d, p)),
    "small-cnn": ("small_cnn", lambda s, d, p: SmallCnn(s, d, p)),
    "lenetpp": ("lenetpp", lambda s, d, p: LeNetPP(s, d, p)),
    "resnet20": ("resnet", lambda s, d, p: ResNet(s, d, p, 20)),
    "resnet32": ("resnet", lambda s, d, p: ResNet(s, d, p, 32)),
    "resnet56": ("resnet", lambda s, d, p: ResNet(s, d, p, 56)),
}


# --------------------------------------------------------------------------
# Heads: features [N, D] -> inference logits [N, K]


class SoftmaxHead(nn.Module):
    """z = W f + b."""

    def __init__(self, dim, classes, params):
        super().__init__()
        self.fc = nn.Linear(dim, classes)

    def forward(self, f):
        return self.fc(f)


class CenterHead(SoftmaxHead):
    """z = W f + b; the class centres are kept as the buffer `centers`."""

    def __init__(self, dim, classes, params):
        super().__init__(dim, classes, params)
        self.register_buffer("centers", torch.zeros(classes, dim))


class LsoftmaxHead(nn.Module):
    """z = W f (no bias); the angular margin is for training only."""

    def __init__(self, dim, classes, params):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(classes, dim))

    def forward(self, f):
        return f @ self.weight.t()


class LgmHead(nn.Module):
    """L-GM (Wan et al. 2018): z_k = -d_k - 1/2 log|Lambda_k|,
    d_k = 1/2 (f - mu_k)^T Lambda_k^-1 (f - mu_k), Lambda_k = I, sigma_k^2 I
    or diag(sigma_k^2) from `log_var` clamped below at `log_var_floor`; the
    margin alpha is for training only."""

    def __init__(self, dim, classes, params):
        super().__init__()
        self.covariance = params["covariance"]
        self.floor = float(params["log_var_floor"])
        self.dim = dim
        self.means = nn.Parameter(torch.zeros(classes, dim))
        if self.covariance == "isotropic":
            self.log_var = nn.Parameter(torch.zeros(classes, 1))
        elif self.covariance == "diagonal":
            self.log_var = nn.Parameter(torch.zeros(classes, dim))
        elif self.covariance != "identity":
            raise ValueError(f"unknown L-GM covariance {self.covariance!r}")

    def forward(self, f):
        sq = (f.unsqueeze(1) - self.means.unsqueeze(0)).square()  # [N, K, D]
        if self.covariance == "identity":
            return -0.5 * sq.sum(2)
        lv = self.log_var.clamp_min(self.floor)
        d = 0.5 * (sq * torch.exp(-lv).unsqueeze(0)).sum(2)
        half_logdet = 0.5 * (lv.squeeze(1) * self.dim if lv.shape[1] == 1 else lv.sum(1))
        return -d - half_logdet.unsqueeze(0)

    def log_likelihood(self, f):
        """log N(f; mu_k, Lambda_k) for every class, [N, K]."""
        return self.forward(f) - 0.5 * self.dim * math.log(2 * math.pi)


HEADS = {
    "softmax": SoftmaxHead,
    "center": CenterHead,
    "lsoftmax": LsoftmaxHead,
    "lgm": LgmHead,
}


class LossbenchNet(nn.Module):
    """normalise -> backbone -> features -> head; forward gives
    (logits [N, K], features [N, D]) for images [N, C, H, W] in [0, 1]."""

    def __init__(self, meta):
        super().__init__()
        shape = list(meta["input_shape"])
        model = meta["model"]
        if meta["backbone"] not in BACKBONES:
            raise ValueError(f"unknown backbone {meta['backbone']!r}")
        if meta["head"]["name"] not in HEADS:
            raise ValueError(f"unknown head {meta['head']['name']!r}")
        attr, build = BACKBONES[meta["backbone"]]
        self.input_shape = shape
        self.classes = int(meta["classes"])
        self.norm = Normalize(shape[0])
        self.backbone_attr = attr
        setattr(self, attr, build(shape, int(model["feature_dim"]), float(model["dropout"])))
        self.head = HEADS[meta["head"]["name"]](
            int(model["feature_dim"]), self.classes, meta["head"]["params"]
        )

    def features(self, x):
        return getattr(self, self.backbone_attr)(self.norm(x))

    def forward(self, x):
        f = self.features(x)
        return self.head(f), f


# --------------------------------------------------------------------------
# Files


_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
    "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
    "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def read_safetensors(path):
    """A safetensors file as {name: tensor}, with the `safetensors` package
    when it is installed, else by reading the format directly."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        pass
    else:
        return load_file(str(path))
    raw = pathlib.Path(path).read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    data = raw[8 + size:]
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        dtype = _DTYPES[h["dtype"]]
        if a == b:
            t = torch.empty(h["shape"], dtype=dtype)
        else:
            t = torch.frombuffer(bytearray(data[a:b]), dtype=dtype).reshape(h["shape"])
        out[name] = t
    return out


def build(meta):
    """An untrained model as described by an export's JSON (a dict)."""
    if meta.get("format") != FORMAT:
        raise ValueError(f"not a lossbench model description (format {meta.get('format')!r})")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(
            f"format_version {meta['format_version']} is newer than this module's "
            f"{FORMAT_VERSION}; use the python/lossbench_models.py of that lossbench"
        )
    return LossbenchNet(meta)


def load(json_path, device="cpu"):
    """The model exported as `json_path` (its weights file beside it), in
    eval mode on `device`."""
    json_path = pathlib.Path(json_path)
    meta = json.loads(json_path.read_text())
    model = build(meta)
    weights = json_path.parent / pathlib.Path(meta["weights"]).name
    model.load_state_dict(read_safetensors(weights), strict=True)
    return model.to(device).eval()


def find(checkpoints, loss=None, seed=None):
    """The exports in a checkpoints directory (results/<suite>/checkpoints),
    as {json path: description}, those of loss label `loss` and seed `seed`
    when given."""
    out = {}
    for path in sorted(pathlib.Path(checkpoints).glob("*.json")):
        try:
            meta = json.loads(path.read_text())
        except (ValueError, OSError):
            continue
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            continue
        if loss is not None and meta.get("loss_label") != loss:
            continue
        if seed is not None and meta.get("seed") != seed:
            continue
        out[path] = meta
    return out


def trace(json_path, out_path):
    """Saves the exported model traced to TorchScript, (logits, features)
    out: what a suite's `model: {torchscript: {path: ...}}` takes."""
    model = load(json_path)
    example = torch.rand(1, *model.input_shape)
    with torch.no_grad():
        torch.jit.trace(model, example).save(str(out_path))


def _main(argv):
    import argparse

    parser = argparse.ArgumentParser(
        prog="lossbench_models.py",
        description="lossbench's exported models in PyTorch.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="the exports in a checkpoints directory")
    p.add_argument("checkpoints")
    p.add_argument("--loss")
    p.add_argument("--seed", type=int)
    p = sub.add_parser("trace", help="save an export as a TorchScript file")
    p.add_argument("json")
    p.add_argument("out")
    args = parser.parse_args(argv)
    if args.command == "list":
        for path, m in find(args.checkpoints, args.loss, args.seed).items():
            print(f"{path}\t{m.get('dataset')}\t{m['backbone']}\t{m['loss_label']}\tseed {m.get('seed')}")
    else:
        trace(args.json, args.out)
        print(args.out)


if __name__ == "__main__":
    import sys

    _main(sys.argv[1:])
