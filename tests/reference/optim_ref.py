"""Reference trajectories for tests/optim.rs, computed with torch.optim.

Run from the repository root:  .venv/bin/python tests/reference/optim_ref.py
It writes tests/reference/optim_ref.json (committed).

The problem: a linear map `z = X Wᵀ + b` with fixed `W [2, 3]`, `b [2]`, data
`X [5, 3]` and targets `T [5, 2]`; loss `mean((z − T)²)`. Each case runs
`STEPS` optimiser steps; before step `LR_DROP_AT` (0-based) the learning rate
is multiplied by `LR_DROP`, as an epoch schedule does between epochs, and the
parameters after every step are stored.
"""
import json
import pathlib

import torch

torch.set_default_dtype(torch.float64)
STEPS, LR_DROP_AT, LR_DROP = 6, 3, 0.1

W0 = torch.tensor([[0.5, -0.3, 0.8], [-0.2, 0.4, 0.1]])
B0 = torch.tensor([0.1, -0.2])
X = torch.tensor(
    [
        [1.0, 0.5, -0.3],
        [-0.7, 0.2, 0.9],
        [0.3, -1.1, 0.4],
        [0.0, 0.6, -0.8],
        [1.2, -0.4, 0.05],
    ]
)
T = torch.tensor([[1.0, 0.0], [-0.5, 0.7], [0.2, -0.3], [0.9, 0.4], [-0.1, 1.1]])

CASES = [
    {"name": "sgd", "optimizer": "sgd", "momentum": 0.0, "nesterov": False, "lr": 0.1, "weight_decay": 0.0},
    {"name": "sgd-momentum", "optimizer": "sgd", "momentum": 0.9, "nesterov": False, "lr": 0.1, "weight_decay": 0.0},
    {"name": "sgd-momentum-wd", "optimizer": "sgd", "momentum": 0.9, "nesterov": False, "lr": 0.1, "weight_decay": 0.05},
    {"name": "sgd-nesterov-wd", "optimizer": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.1, "weight_decay": 0.05},
    {"name": "adam", "optimizer": "adam", "beta1": 0.9, "beta2": 0.999, "lr": 0.05, "weight_decay": 0.0},
    {"name": "adam-wd", "optimizer": "adam", "beta1": 0.8, "beta2": 0.99, "lr": 0.05, "weight_decay": 0.05},
]


def run(case):
    w = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    if case["optimizer"] == "sgd":
        opt = torch.optim.SGD(
            [w, b],
            lr=case["lr"],
            momentum=case["momentum"],
            nesterov=case["nesterov"],
            weight_decay=case["weight_decay"],
        )
    else:
        opt = torch.optim.Adam(
            [w, b],
            lr=case["lr"],
            betas=(case["beta1"], case["beta2"]),
            weight_decay=case["weight_decay"],
        )
    traj = []
    for step in range(STEPS):
        if step == LR_DROP_AT:
            for g in opt.param_groups:
                g["lr"] = case["lr"] * LR_DROP
        opt.zero_grad()
        loss = ((X @ w.T + b - T) ** 2).mean()
        loss.backward()
        opt.step()
        traj.append({"w": w.detach().reshape(-1).tolist(), "b": b.detach().tolist()})
    return dict(case, trajectory=traj)


out = {
    "torch": torch.__version__,
    "steps": STEPS,
    "lr_drop_at": LR_DROP_AT,
    "lr_drop": LR_DROP,
    "w0": W0.reshape(-1).tolist(),
    "b0": B0.tolist(),
    "x": X.reshape(-1).tolist(),
    "t": T.reshape(-1).tolist(),
    "cases": [run(c) for c in CASES],
}
path = pathlib.Path(__file__).with_suffix(".json")
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
