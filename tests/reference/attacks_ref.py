"""Reference values for tests/attacks.rs: FGSM, BIM, PGD and PGDL2 (random
start off) from torchattacks,
DeepFool from foolbox and from an independent per-sample PyTorch transcription
of docs/definitions.md §2, all on one small fixed-weight model.

Run from the repository root:  .venv/bin/python tests/reference/attacks_ref.py
It writes (both committed):
  tests/reference/attacks_ref.safetensors  weights (named as in lossbench's
      VarStore), inputs, and every attack's output images
  tests/reference/attacks_ref.json         model spec, attack parameters,
      per-sample DeepFool L2 norms / iterations, the library versions

The model mirrors lossbench's `small-cnn` backbone (src/models/small_cnn.rs)
with the `softmax` head (src/heads/softmax.rs) layer for layer, normalisation
(x - mean) / std first, inside the model (src/models/mod.rs). Its weights are a
seeded init trained for a few hundred Adam steps on seeded blob images, so the
model is confident but not saturated. The inputs are 64 clean-correct test
images (64 is a power of two: torchattacks averages the loss over the batch
where lossbench sums it, and scaling by 2^-6 is exact in floating point, so
the gradients' signs agree bit for bit apart from threading noise).

Differences between the libraries and lossbench's definitions (docs/definitions.md), recorded here and in the JSON:
- torchattacks' BIM clipping is `min(max(x', max(x - eps, 0)), x + eps)` then
  `min(., 1)`, which equals the definition's clip to [0, 1] ∩ B∞(x, eps) for x in [0, 1].
- foolbox's L2DeepFool scales the cumulative perturbation by (1 + overshoot),
  as lossbench does, and checks the candidates (ŷ₀ first) of the clean logits, as
  lossbench does, but adds 1e-4 to the distance |g|/‖w‖ (lossbench: to |g|) and 1e-8 to
  every norm, runs one forward pass per candidate, and freezes samples on
  misclassification of the label (the same as "prediction changed" on
  clean-correct inputs).
- torchattacks' DeepFool (not used as a reference) applies the overshoot per
  step, uses every class and no 1e-4 term.
"""
import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
# The safetensors reader and writer the other reference scripts use (this
# file is also loaded by path, from benches/attack_peers.py).
sys.path.insert(0, str(HERE))
from torch_io import read_safetensors, write_safetensors  # noqa: E402,F401
SIDE, CHANNELS, CLASSES, FEATURE_DIM = 8, 1, 5, 16
N_INPUTS = 64
FGSM_EPS = [0.03, 0.1]
BIM = [  # (eps, alpha, steps)
    (0.1, 0.025, 10),
    (0.05, 0.01, 7),
]
PGD = [  # (eps, alpha, steps), random start off
    (0.1, 0.02, 12),
]
PGD_L2 = [  # (eps, alpha, steps), random start off
    (1.0, 0.2, 10),
    (0.3, 0.1, 7),
]
CW = [  # (binary_search_steps, steps, stepsize, initial_const, confidence), no early abort
    (6, 60, 0.05, 1e-3, 0.0),
    (4, 40, 0.05, 0.1, 0.5),
]
DEEPFOOL = [  # (candidates, overshoot, steps)
    (3, 0.02, 50),
    (10, 0.02, 50),  # capped at CLASSES
    (10, 0.5, 50),
]


class SmallCnn(nn.Module):
    """src/models/small_cnn.rs + src/heads/softmax.rs, parameters named as in
    lossbench's VarStore (see `state()`)."""

    def __init__(self, channels, side, classes, feature_dim, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, channels, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, channels, 1, 1))
        self.conv1 = nn.Conv2d(channels, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * (side // 4) * (side // 4), 128)
        self.feat = nn.Linear(128, feature_dim)
        self.head = nn.Linear(feature_dim, classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc(x.flatten(1)))
        return self.head(self.feat(x))

    def state(self):
        """Tensors under lossbench's VarStore names."""
        out = {"norm.mean": self.mean, "norm.std": self.std}
        for layer in ["conv1", "conv2", "fc", "feat"]:
            m = getattr(self, layer)
            out[f"small_cnn.{layer}.weight"] = m.weight
            out[f"small_cnn.{layer}.bias"] = m.bias
        out["head.fc.weight"] = self.head.weight
        out["head.fc.bias"] = self.head.bias
        return {k: v.detach().contiguous() for k, v in out.items()}


def blobs(gen, n, protos, noise=0.15):
    """Seeded blob images: a class prototype with a random contrast on noise."""
    y = torch.randint(0, protos.shape[0], (n,), generator=gen)
    a = 0.7 + 0.3 * torch.rand(n, 1, 1, 1, generator=gen)
    z = torch.randn(n, *protos.shape[1:], generator=gen)
    x = (0.1 + a * protos[y] + noise * z).clamp(0, 1)
    return x, y


def trained_model(gen, channels, side, classes, feature_dim, steps, n_train=2048):
    protos = torch.zeros(classes, channels, side, side)
    yy, xx = torch.meshgrid(torch.arange(side).float(), torch.arange(side).float(), indexing="ij")
    for k in range(classes):
        for _ in range(3):
            cy, cx = torch.rand(2, generator=gen) * (side - 1)
            protos[k] += 0.6 * torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (0.1 * side * side))
    protos = protos.clamp(0, 0.9)
    x, y = blobs(gen, n_train, protos)
    mean = x.mean(dim=(0, 2, 3)).tolist()
    std = x.std(dim=(0, 2, 3), unbiased=False).tolist()
    model = SmallCnn(channels, side, classes, feature_dim, mean, std)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for s in range(steps):
        idx = torch.randint(0, n_train, (64,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model, protos


def clean_correct(model, gen, protos, n):
    xs, ys = [], []
    while sum(len(v) for v in ys) < n:
        x, y = blobs(gen, 4 * n, protos)
        with torch.no_grad():
            ok = model(x).argmax(1) == y
        xs.append(x[ok])
        ys.append(y[ok])
    return torch.cat(xs)[:n].contiguous(), torch.cat(ys)[:n].contiguous()


def deepfool_spec(model, x, y, candidates, overshoot, max_iter):
    """docs/definitions.md §2 DeepFool, one sample at a time, straight from the text."""
    outs, iters = [], []
    for i in range(x.shape[0]):
        x0 = x[i:i + 1]
        with torch.no_grad():
            z = model(x0)[0]
        c = min(candidates, z.numel())
        cls = torch.argsort(z, descending=True)[:c]
        y0 = int(cls[0])
        xt, r_tot, n = x0.clone(), torch.zeros_like(x0), 0
        if y0 != int(y[i]):
            outs.append(xt)
            iters.append(0)
            continue
        for t in range(max_iter + 1):
            xt = xt.detach().requires_grad_(True)
            z = model(xt)[0]
            if int(z.argmax()) != y0 or t == max_iter:
                break
            best = None
            for k in cls[1:].tolist():
                g = z[k] - z[y0]
                (w,) = torch.autograd.grad(g, xt, retain_graph=True)
                dist = g.abs() / w.norm()
                if best is None or dist < best[0]:
                    best = (dist, g.detach(), w)
            _, g, w = best
            r_tot = r_tot + (g.abs() + 1e-4) / w.norm() ** 2 * w
            xt = (x0 + (1 + overshoot) * r_tot).clamp(0, 1)
            n += 1
        outs.append(xt.detach())
        iters.append(n)
    return torch.cat(outs), iters


def main():
    import foolbox as fb
    import torchattacks

    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(20240611)
    model, protos = trained_model(gen, CHANNELS, SIDE, CLASSES, FEATURE_DIM, steps=300)
    x, y = clean_correct(model, gen, protos, N_INPUTS)

    tensors = dict(model.state())
    tensors["input.x"] = x
    tensors["input.y"] = y
    meta = {
        "generator": "tests/reference/attacks_ref.py",
        "versions": {"torch": torch.__version__, "torchattacks": torchattacks.__version__,
                     "foolbox": fb.__version__},
        "model": {"kind": "small-cnn", "loss": "softmax", "shape": [CHANNELS, SIDE, SIDE],
                  "classes": CLASSES, "feature_dim": FEATURE_DIM, "dropout": 0.0},
        "fgsm": [], "bim": [], "pgd": [], "pgd_l2": [], "cw_l2": [], "deepfool": [],
    }
    for eps in FGSM_EPS:
        name = f"fgsm.eps{eps}"
        tensors[name] = torchattacks.FGSM(model, eps=eps)(x, y)
        meta["fgsm"].append({"eps": eps, "tensor": name})
    for eps, alpha, steps in BIM:
        name = f"bim.eps{eps}"
        tensors[name] = torchattacks.BIM(model, eps=eps, alpha=alpha, steps=steps)(x, y)
        meta["bim"].append({"eps": eps, "alpha": alpha, "steps": steps, "tensor": name})

    for eps, alpha, steps in PGD:
        name = f"pgd.eps{eps}"
        atk = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=False)
        tensors[name] = atk(x, y)
        meta["pgd"].append({"eps": eps, "alpha": alpha, "steps": steps, "tensor": name})
    for eps, alpha, steps in PGD_L2:
        name = f"pgd_l2.eps{eps}"
        atk = torchattacks.PGDL2(model, eps=eps, alpha=alpha, steps=steps, random_start=False)
        tensors[name] = atk(x, y)
        meta["pgd_l2"].append({"eps": eps, "alpha": alpha, "steps": steps, "tensor": name})

    fmodel = fb.PyTorchModel(model, bounds=(0, 1))
    for search, steps, stepsize, c0, kappa in CW:
        atk = fb.attacks.L2CarliniWagnerAttack(binary_search_steps=search, steps=steps,
                                               stepsize=stepsize, confidence=kappa,
                                               initial_const=c0, abort_early=False)
        fb_adv, _, fb_success = atk(fmodel, x, y, epsilons=None)
        meta["cw_l2"].append({
            "search_steps": search, "steps": steps, "step_size": stepsize,
            "initial_const": c0, "confidence": kappa,
            "foolbox_l2": (fb_adv - x).flatten(1).norm(dim=1).tolist(),
            "foolbox_success": fb_success.tolist(),
        })
    for candidates, overshoot, steps in DEEPFOOL:
        atk = fb.attacks.L2DeepFoolAttack(steps=steps, candidates=candidates, overshoot=overshoot)
        fb_adv, _, _ = atk(fmodel, x, y, epsilons=None)
        with torch.no_grad():
            fb_success = (model(fb_adv).argmax(1) != y).tolist()
        spec_adv, spec_iters = deepfool_spec(model, x, y, candidates, overshoot, steps)
        with torch.no_grad():
            spec_success = (model(spec_adv).argmax(1) != y).tolist()
        name = f"deepfool.c{candidates}.o{overshoot}"
        tensors[name] = spec_adv
        meta["deepfool"].append({
            "candidates": candidates, "overshoot": overshoot, "max_iter": steps,
            "tensor": name,
            "spec_l2": (spec_adv - x).flatten(1).norm(dim=1).tolist(),
            "spec_iters": spec_iters,
            "spec_success": spec_success,
            "foolbox_l2": (fb_adv - x).flatten(1).norm(dim=1).tolist(),
            "foolbox_success": fb_success,
        })

    write_safetensors(HERE / "attacks_ref.safetensors", tensors)
    with open(HERE / "attacks_ref.json", "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    for d in meta["cw_l2"]:
        ok = [l for l, s in zip(d["foolbox_l2"], d["foolbox_success"]) if s]
        print(f"cw-l2 search={d['search_steps']} steps={d['steps']} kappa={d['confidence']}: "
              f"success {len(ok)}/{len(d['foolbox_success'])}, l2 mean {np.mean(ok):.4f}")
    for d in meta["deepfool"]:
        s, fl = np.array(d["spec_l2"]), np.array(d["foolbox_l2"])
        print(f"deepfool c={d['candidates']} o={d['overshoot']}: spec l2 mean {s.mean():.4f}, "
              f"foolbox {fl.mean():.4f}, max rel diff {np.max(np.abs(s - fl) / fl):.4f}, "
              f"iters {np.bincount(d['spec_iters']).tolist()}, "
              f"success {sum(d['spec_success'])}/{sum(d['foolbox_success'])}")


if __name__ == "__main__":
    main()
