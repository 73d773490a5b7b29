"""Side-by-side attack throughput: lossbench's FGSM, BIM, PGD, C&W-L2 and
DeepFool against torchattacks (FGSM, BIM, PGD, CW, DeepFool) and foolbox
(L2DeepFoolAttack), on the same
weights, the same inputs and the same thread count, in one invocation,
printing images/s for each and the ratios.

    .venv/bin/python benches/attack_peers.py [--threads 2] [--n 512] [--batch 256]
        [--repeats 3] [--min-seconds 3] [--rounds 2] [--eps 0.1] [--train-steps 400]
        [--attacks fgsm,bim,pgd,cw-l2,deepfool] [--cw-steps 50] [--profile bench|dev]
        [--torchattacks-deepfool-n 256] [--reuse]

Model: lossbench's `small-cnn` with a softmax head (the PyTorch mirror in
tests/reference/attacks_ref.py), 1x28x28, 10 classes, feature size 64,
trained for --train-steps Adam steps on Fashion-MNIST
(/usr/share/datasets/fashion-mnist; seeded blob images if it is missing) so
that DeepFool needs a realistic number of iterations. Inputs: the first --n
clean-correct test images. Weights and inputs go to
target/attack_peers/fixture.safetensors, which `cargo bench --bench
attack_throughput` reads.

Settings as in lossbench's defaults: FGSM eps; BIM eps, a = eps/4, T = 10;
PGD as BIM with torchattacks' random start (L-inf); C&W-L2 --cw-steps Adam
steps at c = 1, κ = 0, lr 0.01 (torchattacks' `CW` has no binary search, so
lossbench runs one search step without early abort; torchattacks' CW may
stop early when its summed loss rises, which only helps its figure);
DeepFool overshoot 0.02, 50 iterations, 10 candidates (foolbox; torchattacks
has no candidates and always uses every class, here also 10). Every
implementation attacks the inputs in batches of --batch; the best of at
least --repeats timed runs after a warm-up, and of as many more as fill
--min-seconds, counts. lossbench and the peers alternate for --rounds rounds. The best round of
each counts for its images/s; the last column adds the ratio within each
round and their median, which one outlier round (the machine's other load
changes between rounds) cannot move. torchattacks' DeepFool loops
over samples in Python and runs on the first --torchattacks-deepfool-n images
only (images/s is per image either way).

Like is timed against like. torchattacks returns the images only; it is
compared with lossbench's `Attack::perturb` (`lossbench-images`, the images
and iteration counts). `torchattacks+check` adds the forward pass that finds
which samples were fooled, and is compared with lossbench's `Attack::run`
(images, success flags, L2 and L-inf norms), which is what a lossbench run
calls. DeepFool learns its successes in its own loop, so its two lossbench
rows do the same work; foolbox returns images and success flags.
"""
import argparse
import gzip
import importlib.util
import json
import pathlib
import subprocess
import time

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")
OUT = ROOT / "target" / "attack_peers"


def reference_module():
    spec = importlib.util.spec_from_file_location(
        "attacks_ref", ROOT / "tests" / "reference" / "attacks_ref.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_idx(path, header):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def dataset(gen, ref):
    if (DATA / "train-images-idx3-ubyte.gz").exists():
        def load(prefix, n=None):
            x = read_idx(DATA / f"{prefix}-images-idx3-ubyte.gz", 16)
            y = read_idx(DATA / f"{prefix}-labels-idx1-ubyte.gz", 8)
            x = torch.from_numpy(x.copy()).view(-1, 1, 28, 28).float() / 255.0
            return x, torch.from_numpy(y.astype(np.int64))
        return load("train"), load("t10k"), "fashion-mnist"
    protos = torch.rand(10, 1, 28, 28, generator=gen) * 0.8
    return ref.blobs(gen, 20000, protos), ref.blobs(gen, 4000, protos), "blobs"


def load_fixture(path, ref):
    t = ref.read_safetensors(path)
    model = ref.SmallCnn(1, 28, 10, 64, [0.0], [1.0])
    state = model.state()
    with torch.no_grad():
        for name, param in state.items():
            param.copy_(t[name])
    # state() returns detached views sharing storage with the parameters.
    model.eval()
    return model, t["input.x"], t["input.y"], path


def make_fixture(args, ref):
    path = OUT / "fixture.safetensors"
    if args.reuse and path.exists():
        print(f"model: reusing {path}", flush=True)
        return load_fixture(path, ref)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    (xtr, ytr), (xte, yte), source = dataset(gen, ref)
    mean = [xtr.mean().item()]
    std = [xtr.std(unbiased=False).item()]
    model = ref.SmallCnn(1, 28, 10, 64, mean, std)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(args.train_steps):
        idx = torch.randint(0, xtr.shape[0], (128,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        ok = model(xte).argmax(1) == yte
    print(f"model: small-cnn on {source}, {args.train_steps} steps, "
          f"test accuracy {ok.float().mean().item():.3f}", flush=True)
    x, y = xte[ok][: args.n].contiguous(), yte[ok][: args.n].contiguous()
    OUT.mkdir(parents=True, exist_ok=True)
    tensors = dict(model.state())
    tensors["input.x"] = x
    tensors["input.y"] = y
    path = OUT / "fixture.safetensors"
    ref.write_safetensors(path, tensors)
    return model, x, y, path


def timed(fn, x, y, batch, repeats, min_seconds):
    """Best of at least `repeats` timed runs, and of as many more as it takes
    to spend `min_seconds` in them (a fast attack is timed many times)."""
    def run():
        for s in range(0, x.shape[0], batch):
            fn(x[s:s + batch], y[s:s + batch])
    run()  # warm-up
    best, total, k = float("inf"), 0.0, 0
    while k < repeats or total < min_seconds:
        t = time.perf_counter()
        run()
        dt = time.perf_counter() - t
        best, total, k = min(best, dt), total + dt, k + 1
    return best


def with_check(model, attack):
    """The attack followed by the success check lossbench's attacks include."""
    def run(xb, yb):
        adv = attack(xb, yb)
        with torch.no_grad():
            return adv, model(adv).argmax(1) != yb
    return run


def peers(model, x, y, args):
    import foolbox as fb
    import torchattacks

    eps = args.eps
    fgsm = torchattacks.FGSM(model, eps=eps)
    bim = torchattacks.BIM(model, eps=eps, alpha=eps / 4, steps=10)
    pgd = torchattacks.PGD(model, eps=eps, alpha=eps / 4, steps=10, random_start=True)
    cw = torchattacks.CW(model, c=1.0, kappa=0.0, steps=args.cw_steps, lr=0.01)
    fmodel = fb.PyTorchModel(model, bounds=(0, 1))
    fb_df = fb.attacks.L2DeepFoolAttack(steps=50, candidates=10, overshoot=0.02)
    n_ta_df = min(args.torchattacks_deepfool_n, x.shape[0])
    runs = [r for r in [
        ("torchattacks", "fgsm", fgsm, x, y),
        ("torchattacks+check", "fgsm", with_check(model, fgsm), x, y),
        ("torchattacks", "bim", bim, x, y),
        ("torchattacks+check", "bim", with_check(model, bim), x, y),
        ("torchattacks", "pgd", pgd, x, y),
        ("torchattacks+check", "pgd", with_check(model, pgd), x, y),
        ("torchattacks", "cw-l2", cw, x, y),
        ("torchattacks+check", "cw-l2", with_check(model, cw), x, y),
        ("torchattacks", "deepfool", torchattacks.DeepFool(model, steps=50, overshoot=0.02),
         x[:n_ta_df], y[:n_ta_df]),
        ("foolbox", "deepfool", lambda xb, yb: fb_df(fmodel, xb, yb, epsilons=None), x, y),
    ] if r[1] in args.attacks.split(",")]
    rows = []
    for impl, attack, fn, xs, ys in runs:
        seconds = timed(fn, xs, ys, args.batch, args.repeats, args.min_seconds)
        rows.append({"impl": impl, "attack": attack, "threads": torch.get_num_threads(),
                     "images": xs.shape[0], "batch": args.batch, "seconds": round(seconds, 4),
                     "images_per_s": round(xs.shape[0] / seconds, 1)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def lossbench(path, args, *extra, impl="lossbench"):
    cmd = ["cargo", "bench", "--quiet", "--profile", args.profile, "--bench", "attack_throughput", "--",
           "--fixture", str(path), "--threads", str(args.threads), "--batch", str(args.batch),
           "--repeats", str(args.repeats), "--min-seconds", str(args.min_seconds),
           "--eps", str(args.eps), "--cw-steps", str(args.cw_steps), *extra]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    for row in rows:
        # "lossbench" or "lossbench-images" (Attack::perturb only).
        row["impl"] = impl + row["impl"][len("lossbench"):]
        print(json.dumps(row), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=3.0,
                    help="time each attack for at least this long (best run counts)")
    ap.add_argument("--attacks", default="fgsm,bim,pgd,cw-l2,deepfool")
    ap.add_argument("--cw-steps", type=int, default=50,
                    help="Adam steps of C&W (lossbench: one search step at c = 1)")
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--train-steps", type=int, default=400)
    ap.add_argument("--torchattacks-deepfool-n", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=2,
                    help="alternating rounds of lossbench and the peers; the best counts")
    ap.add_argument("--profile", default="bench",
                    help="cargo profile of lossbench's side: bench (optimised, the default) or dev "
                         "(the build `make run` uses; no optimised build needed)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse target/attack_peers/fixture.safetensors instead of training")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ref = reference_module()
    model, x, y, path = make_fixture(args, ref)
    # Build once before timing (cargo bench compiles on first use).
    subprocess.run(["cargo", "bench", "--quiet", "--profile", args.profile, "--no-run",
                    "--bench", "attack_throughput"], cwd=ROOT, check=True)
    n_sub = min(args.torchattacks_deepfool_n, x.shape[0])
    rows = []
    for rnd in range(args.rounds):
        new = lossbench(path, args, "--attacks", args.attacks)
        if "deepfool" in args.attacks.split(","):
            new += lossbench(path, args, "--attacks", "deepfool", "--n", str(n_sub),
                             impl=f"lossbench[:{n_sub}]")
        new += peers(model, x, y, args)
        for r in new:
            r["round"] = rnd
        rows += new
    ips = {}
    per_round = {}
    for r in rows:
        key = (r["impl"], r["attack"])
        ips[key] = max(ips.get(key, 0.0), r["images_per_s"])
        per_round[key + (r["round"],)] = r["images_per_s"]
    print(f"\nimages/s, {args.threads} thread(s), batch {args.batch}, {x.shape[0]} images "
          f"(torchattacks DeepFool: the first {n_sub}, against lossbench on the same {n_sub}):")
    pairs = [
        ("fgsm", "lossbench-images", "torchattacks"),
        ("fgsm", "lossbench", "torchattacks+check"),
        ("bim", "lossbench-images", "torchattacks"),
        ("bim", "lossbench", "torchattacks+check"),
        ("pgd", "lossbench-images", "torchattacks"),
        ("pgd", "lossbench", "torchattacks+check"),
        ("cw-l2", "lossbench-images", "torchattacks"),
        ("cw-l2", "lossbench", "torchattacks+check"),
        ("deepfool", f"lossbench[:{n_sub}]", "torchattacks"),
        ("deepfool", "lossbench", "foolbox"),
    ]
    print(f"{'attack':<10}{'lossbench':>18}{'images/s':>10}{'peer':>20}{'images/s':>10}"
          f"{'ratio':>9}   per round (median)")
    for attack, ours, peer in pairs:
        if (ours, attack) not in ips:
            continue
        a, b = ips[(ours, attack)], ips[(peer, attack)]
        # The ratio within each round (both sides timed minutes apart at
        # most), which one outlier round cannot move the way it moves a best.
        ratios = [per_round[(ours, attack, k)] / per_round[(peer, attack, k)]
                  for k in range(args.rounds)
                  if (ours, attack, k) in per_round and (peer, attack, k) in per_round]
        each = " ".join(f"{v:.2f}" for v in ratios)
        print(f"{attack:<10}{ours:>18}{a:>10.1f}{peer:>20}{b:>10.1f}{a / b:>8.2f}x   "
              f"{each} ({float(np.median(ratios)):.2f}x)")


if __name__ == "__main__":
    main()
