#!/usr/bin/env python3
"""Renames one tensor of a safetensors file in place (to give an nnc
checkpoint a PyTorch-style key).

  st_rename.py FILE.safetensors OLD NEW
"""
import sys

import torch

from e2e_util import read_safetensors_typed, write_safetensors


def main():
    path, old, new = sys.argv[1:4]
    tensors = read_safetensors_typed(path)
    if old not in tensors:
        sys.exit(f"FAIL: {path} has no tensor {old!r}")
    out = {(new if k == old else k): torch.from_numpy(a.copy())
           for k, (_, a) in tensors.items()}
    write_safetensors(path, out)


if __name__ == "__main__":
    main()
