"""Run by tests/external.rs at test time, and what README shows a user:

    .venv/bin/python tests/reference/trace_export.py MODEL.json OUT.pt

Loads a model lossbench exported (python/lossbench_models.py) and saves it
traced to TorchScript, (logits, features) out, for `model: torchscript`.
"""
import sys

import torch

from torch_io import lossbench_models

model = lossbench_models.load(sys.argv[1])
example = torch.rand(1, *model.input_shape)
with torch.no_grad():
    torch.jit.trace(model, example).save(sys.argv[2])
