"""One training step from the same state on the CPU and on the GPU
(scripts/gpu-check.sh): the updates of every state tensor (parameters and
optimizer moments) compared. The GPU's matmuls and convolutions run in tf32
(10-bit mantissas), so the updates are compared as vectors: the relative
norm of their difference. Standard library only (the GPU machine's python
may have no numpy).

usage: gpu_check_compare.py START.safetensors CPU.safetensors GPU.safetensors"""
import json
import math
import struct
import sys
from array import array

# tf32 inputs, f32 accumulation: about 1e-3 relative error per GEMM; an
# Adam update divides moments, so allow 5%.
TOLERANCE = 5e-2


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__" or e["dtype"] != "F32":
            continue
        a, b = e["data_offsets"]
        values = array("f")
        values.frombytes(raw[8 + n + a:8 + n + b])
        if sys.byteorder != "little":
            values.byteswap()
        out[name] = values
    return out


def main():
    start, cpu, gpu = (read(p) for p in sys.argv[1:4])
    worst, failed = 0.0, []
    for name in sorted(start):
        if name not in cpu or name not in gpu:
            failed.append(f"{name}: missing")
            continue
        du = [c - s for c, s in zip(cpu[name], start[name])]
        dg = [g - s for g, s in zip(gpu[name], start[name])]
        if any(math.isnan(v) for v in dg):
            failed.append(f"{name}: NaN on the GPU")
            continue
        norm = math.sqrt(sum(v * v for v in du))
        diff = math.sqrt(sum((a - b) ** 2 for a, b in zip(du, dg)))
        if norm == 0:
            rel = 0.0 if diff == 0 else math.inf
        else:
            rel = diff / norm
        worst = max(worst, rel)
        if rel > TOLERANCE:
            failed.append(f"{name}: update differs by {rel:.3g} (relative)")
    print(f"one step, {len(start)} state tensors: largest relative "
          f"difference of the updates {worst:.3g} (tolerance {TOLERANCE})")
    for f in failed:
        print("FAIL", f)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
