"""Run by tests/external.rs at test time:

    .venv/bin/python tests/reference/external_ref.py DIR

Writes into DIR a small PyTorch classifier of [N, 1, 8, 8] images in [0, 1]
(4 classes; its own normalisation inside), exported to TorchScript two ways,
the inputs, and torchattacks' FGSM and PGD on it, for the test to compare
with lossbench's attacks on the same file:

  logits.pt      torch.jit.trace of the model: images -> logits
  both.pt        torch.jit.script of the same weights: images -> (logits, features)
  ref.safetensors  x [64, 1, 8, 8], y [64] (the model's own predictions, so
                 every image is clean-correct), fgsm.eps<e>, pgd.eps<e> (the
                 attacks run on torch.jit.load("logits.pt"))
  ref.json       the attacks' parameters, the library versions

and the files lossbench must refuse, each with a clear error:

  state_dict.pt  torch.save of the weights (a state dict, not TorchScript)
  rgb.pt         a traced model of 3-channel images
  seven.pt       a traced model with 7 logits
  flat.pt        a scripted model whose "features" are [N, 2, 2]

The batch is 64, a power of two: torchattacks averages the loss over the
batch where lossbench sums it, a scaling by 2^-6 that is exact in floating
point, so the gradients' signs agree.
"""
import json
import pathlib
import sys

import torch
import torch.nn.functional as F
import torchattacks
from torch import nn

from torch_io import write_safetensors

torch.set_num_threads(1)

FGSM = [0.01, 0.1]
PGD = [(0.1, 0.025, 10), (0.02, 0.005, 7)]  # (eps, alpha, steps), random start off


class Small(nn.Module):
    """conv3x3(8)-ReLU-pool, linear 16 (the features), ReLU, linear 4."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.feat = nn.Linear(8 * 4 * 4, 16)
        self.fc = nn.Linear(16, 4)

    def features(self, x):
        x = (x - 0.5) / 0.25
        h = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.feat(h.flatten(1))

    def forward(self, x):
        return self.fc(F.relu(self.features(x)))


class SmallBoth(Small):
    def forward(self, x):
        f = self.features(x)
        return self.fc(F.relu(f)), f


class Rgb(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(x).mean((2, 3))


class Seven(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 7)

    def forward(self, x):
        return self.fc(x.flatten(1))


class Flat(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 4)

    def forward(self, x):
        return self.fc(x.flatten(1)), x.flatten(1)[:, :4].reshape(-1, 2, 2)


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(16)
    model = Small().eval()
    # Larger weights than the default init, so the logits spread.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    x = torch.rand(64, 1, 8, 8)
    torch.jit.trace(model, x[:1]).save(str(out / "logits.pt"))
    both = SmallBoth().eval()
    both.load_state_dict(model.state_dict())
    torch.jit.script(both).save(str(out / "both.pt"))
    torch.save(model.state_dict(), out / "state_dict.pt")
    torch.jit.trace(Rgb().eval(), torch.rand(1, 3, 8, 8)).save(str(out / "rgb.pt"))
    torch.jit.trace(Seven().eval(), x[:1]).save(str(out / "seven.pt"))
    torch.jit.script(Flat().eval()).save(str(out / "flat.pt"))

    loaded = torch.jit.load(str(out / "logits.pt")).eval()
    with torch.no_grad():
        y = loaded(x).argmax(1)
    tensors = {"x": x, "y": y}
    meta = {"torch": torch.__version__, "torchattacks": torchattacks.__version__,
            "fgsm": [], "pgd": []}
    for eps in FGSM:
        name = f"fgsm.eps{eps}"
        tensors[name] = torchattacks.FGSM(loaded, eps=eps)(x, y)
        meta["fgsm"].append({"eps": eps, "tensor": name})
    for eps, alpha, steps in PGD:
        name = f"pgd.eps{eps}"
        atk = torchattacks.PGD(loaded, eps=eps, alpha=alpha, steps=steps, random_start=False)
        tensors[name] = atk(x, y)
        meta["pgd"].append({"eps": eps, "alpha": alpha, "steps": steps, "tensor": name})
    write_safetensors(out / "ref.safetensors", tensors)
    (out / "ref.json").write_text(json.dumps(meta, indent=1) + "\n")
    with torch.no_grad():
        fooled = {k: (loaded(v).argmax(1) != y).sum().item()
                  for k, v in tensors.items() if "." in k}
    print(json.dumps(fooled))


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
