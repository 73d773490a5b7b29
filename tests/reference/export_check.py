"""Run by tests/export.rs at test time:

    .venv/bin/python tests/reference/export_check.py DIR

For every `DIR/<stem>.json` lossbench exported, loads the model with
python/lossbench_models.py (strict state_dict load), runs it in eval mode on
the images of `DIR/input.safetensors` (`x`), and writes the logits and
features to `DIR/<stem>.torch.safetensors`, for the test to compare with
lossbench's own. Also checks that a traced copy (torch.jit.trace, what a
user hands back to lossbench) gives the same outputs bit for bit.
"""
import pathlib
import sys

import torch

from torch_io import lossbench_models, read_safetensors, write_safetensors

torch.set_num_threads(1)


def main(out):
    x = read_safetensors(out / "input.safetensors")["x"]
    done = 0
    for meta in sorted(out.glob("*.json")):
        model = lossbench_models.load(meta)
        with torch.no_grad():
            logits, features = model(x)
            traced = torch.jit.trace(model, x[:1])
            t_logits, t_features = traced(x)
        assert torch.equal(t_logits, logits) and torch.equal(t_features, features), meta
        write_safetensors(out / f"{meta.stem}.torch.safetensors",
                          {"logits": logits, "features": features})
        done += 1
    print(f"{done} models")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
