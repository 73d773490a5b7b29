"""Helpers of the reference scripts that tests/export.rs and tests/external.rs
run at test time with the venv's python: the repository's Python module on
the path, and a safetensors writer (by hand, so no extra package is needed).
"""
import json
import pathlib
import sys

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

import lossbench_models  # noqa: E402

read_safetensors = lossbench_models.read_safetensors


def write_safetensors(path, tensors):
    """The safetensors format: 8-byte little-endian header size, a JSON
    header, the raw little-endian data."""
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for b in blobs:
            f.write(b)
