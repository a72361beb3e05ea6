#!/usr/bin/env python3
"""safetensors interop check for nnrt's SafeTensorsTest.

  safetensors_interop.py check FILE   parses a file written by nnrt by hand
                                      (struct + json, no safetensors package),
                                      compares with the expected values via
                                      torch, exits 0 when they match
  safetensors_interop.py write FILE   writes a file the way the reference
                                      implementation lays it out (sorted by
                                      dtype size then name, padded header)
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": (torch.float32, 4), "I64": (torch.int64, 8),
          "I32": (torch.int32, 4), "U8": (torch.uint8, 1)}


def expected():
    return {
        "head.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8 - 0.5,
        "head.bias": torch.tensor([1.5, -2.25, 1e-7], dtype=torch.float32),
        "step": torch.tensor([938], dtype=torch.int64),
        "labels": torch.tensor([[0, 7], [-3, 2147483647]], dtype=torch.int32),
        "rng": torch.arange(32, dtype=torch.uint8),
        "empty": torch.zeros((0, 5), dtype=torch.float32),
    }


def read(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
    body = data[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        dtype, size = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        raw = bytearray(body[begin:end])
        count = (end - begin) // size
        t = torch.frombuffer(raw, dtype=dtype, count=count) if count else torch.zeros(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"])
    return tensors, meta


def check(path):
    tensors, meta = read(path)
    want = expected()
    assert set(tensors) == set(want), (sorted(tensors), sorted(want))
    for name, value in want.items():
        got = tensors[name]
        assert got.dtype == value.dtype and got.shape == value.shape, (name, got, value)
        assert torch.equal(got, value), (name, got, value)
    assert meta == {"format": "pt", "epoch": "3"}, meta


def write(path):
    tensors = expected()
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header, offset, blobs = {"__metadata__": {"format": "pt", "epoch": "3"}}, 0, []
    names = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
    for name in order:
        t = tensors[name].contiguous()
        blob = t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    {"check": check, "write": write}[sys.argv[1]](sys.argv[2])
