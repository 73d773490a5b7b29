"""Reference values for tests/heads_ref.rs, computed with PyTorch, written
independently of the Rust code from docs/definitions.md §1.

Run from the repository root:  .venv/bin/python tests/reference/heads_ref.py
It writes tests/reference/heads_ref.json (committed). Differences from the Rust
implementation on purpose: L-Softmax's psi uses torch.acos directly instead of a
Chebyshev expansion; L-GM computes d_k with explicit loops over classes.
"""
import json
import math
import pathlib

import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
N, D, K = 6, 3, 4


def tensor_json(t):
    return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}


def case(head, params, f, y, variables, loss_fn):
    f = f.clone().requires_grad_(True)
    vs = {k: v.clone().requires_grad_(True) for k, v in variables.items()}
    loss = loss_fn(f, y, vs)
    names = list(vs)
    grads = torch.autograd.grad(loss, [f] + [vs[n] for n in names], allow_unused=True)
    out = {
        "head": head,
        "params": params,
        "f": tensor_json(f),
        "y": y.tolist(),
        "vars": {n: tensor_json(v) for n, v in vs.items()},
        "loss": loss.item(),
        "grad_f": tensor_json(grads[0]),
        "grads": {n: tensor_json(g) for n, g in zip(names, grads[1:]) if g is not None},
    }
    return out


cases = []
f = torch.randn(N, D) * 2
y = torch.tensor([0, 1, 2, 3, 1, 2])

# softmax: z = W f + b, CE.
W = torch.randn(K, D)
b = torch.randn(K)
cases.append(case("softmax", {}, f, y, {"head.fc.weight": W, "head.fc.bias": b},
                  lambda f, y, v: torch.nn.functional.cross_entropy(
                      f @ v["head.fc.weight"].T + v["head.fc.bias"], y)))

# center: CE + lambda/2 * mean ||f - c_y||^2 (centres are not optimiser parameters).
C = torch.randn(K, D)
lam = 0.5


def center_loss(f, y, v):
    ce = torch.nn.functional.cross_entropy(f @ v["head.fc.weight"].T + v["head.fc.bias"], y)
    return ce + lam / 2 * ((f - C[y]) ** 2).sum(1).mean()


c = case("center", {"lambda": lam, "alpha": 0.5}, f, y,
         {"head.fc.weight": W, "head.fc.bias": b}, center_loss)
c["vars"]["head.centers"] = tensor_json(C)
# One centre update: c_j <- c_j - alpha * sum_{i: y_i = j} (c_j - f_i) / (1 + n_j).
new_c = C.clone()
for j in range(K):
    members = f[y == j]
    new_c[j] = C[j] - 0.5 * (C[j] - members).sum(0) / (1 + len(members))
c["centers_after_step"] = tensor_json(new_c)
cases.append(c)


# L-Softmax (Liu et al. 2016) with a fixed beta.
def lsoftmax_loss(m, beta):
    def fn(f, y, v):
        w = v["head.weight"]
        z = f @ w.T
        wn = w[y].norm(dim=1)
        fn_ = f.norm(dim=1)
        cos = (z.gather(1, y[:, None])[:, 0] / (wn * fn_)).clamp(-1, 1)
        theta = torch.acos(cos)
        k = torch.floor(theta * m / math.pi).clamp(0, m - 1).detach()
        psi = (-1) ** k * torch.cos(m * theta) - 2 * k
        target = wn * fn_ * (beta * cos + psi) / (1 + beta)
        z = z.scatter(1, y[:, None], target[:, None])
        return torch.nn.functional.cross_entropy(z, y)
    return fn


Wl = torch.randn(K, D)
for m in (1, 2, 3, 4):
    for beta in (0.0, 3.0):
        cases.append(case("lsoftmax", {"m": m, "beta": beta}, f, y, {"head.weight": Wl},
                          lsoftmax_loss(m, beta)))


# L-GM (Wan et al. 2018).
def lgm_loss(alpha, lam, cov, floor):
    def fn(f, y, v):
        mu = v["head.means"]
        cols, half_logdet = [], []
        for k in range(K):
            if cov == "identity":
                var = torch.ones(D)
            elif cov == "isotropic":
                var = torch.exp(v["head.log_var"][k, 0].clamp(min=floor)) * torch.ones(D)
            else:
                var = torch.exp(v["head.log_var"][k].clamp(min=floor))
            diff = f - mu[k]
            cols.append(0.5 * (diff * diff / var).sum(1))
            half_logdet.append(0.5 * torch.log(var).sum())
        d = torch.stack(cols, 1)
        h = torch.stack(half_logdet)
        margin = 1 + alpha * torch.nn.functional.one_hot(y, K)
        z = -d * margin - h
        l_cls = torch.nn.functional.cross_entropy(z, y)
        l_lkd = (d.gather(1, y[:, None])[:, 0] + h[y]).mean()
        return l_cls + lam * l_lkd
    return fn


mu = torch.randn(K, D)
for cov in ("identity", "isotropic", "diagonal"):
    variables = {"head.means": mu}
    if cov == "isotropic":
        variables["head.log_var"] = torch.randn(K, 1) * 0.5
    elif cov == "diagonal":
        lv = torch.randn(K, D) * 0.5
        lv[0, 0] = -9.0  # below the floor: clamped, so no gradient reaches it
        variables["head.log_var"] = lv
    params = {"alpha": 0.3, "lambda": 0.2, "covariance": cov, "log_var_floor": -6.0}
    cases.append(case("lgm", params, f, y, variables, lgm_loss(0.3, 0.2, cov, -6.0)))

out = pathlib.Path(__file__).with_suffix(".json")
out.write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1))
print(f"wrote {len(cases)} cases to {out}")
