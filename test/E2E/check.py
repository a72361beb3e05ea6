#!/usr/bin/env python3
"""Assertions for end-to-end tests on what compiled programs wrote.

  check.py tensor FILE.safetensors NAME VALUE TOL   |tensor - VALUE| <= TOL (all elements)
  check.py json-min FILE KEY MIN                    the last JSON object's KEY >= MIN
  check.py json-max FILE KEY MAX                    the last JSON object's KEY <= MAX
  check.py same A B PREFIX      tensors named PREFIX* are in both files and bit-identical
  check.py changed A B PREFIX   tensors named PREFIX* are in both files and all differ
"""
import json
import struct
import sys


def raw_tensors(path):
    """{name: bytes} of every tensor of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    return {k: raw[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]]
            for k, e in header.items() if k != "__metadata__"}


def tensor(path, name):
    tensors = raw_tensors(path)
    if name not in tensors:
        sys.exit(f"FAIL: {path} has no tensor {name!r}; it has {sorted(tensors)}")
    data = tensors[name]
    return list(struct.unpack("<%df" % (len(data) // 4), data))


def compare(kind, a_path, b_path, prefix):
    a, b = raw_tensors(a_path), raw_tensors(b_path)
    names = sorted(k for k in a if k.startswith(prefix))
    if not names:
        sys.exit(f"FAIL: {a_path} has no tensor named {prefix}*")
    for k in names:
        if k not in b:
            sys.exit(f"FAIL: {b_path} has no tensor {k!r}")
        if (a[k] == b[k]) != (kind == "same"):
            sys.exit(f"FAIL: {k} {'differs' if kind == 'same' else 'is unchanged'} "
                     f"between {a_path} and {b_path}")
    print(f"ok {len(names)} tensors {prefix}* {kind}")


def last_json(path):
    lines = [l for l in open(path).read().splitlines() if l.strip().startswith("{")]
    if not lines:
        sys.exit(f"FAIL: {path} holds no JSON object")
    return json.loads(lines[-1])


def main():
    kind = sys.argv[1]
    if kind == "tensor":
        path, name, value, tol = sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
        values = tensor(path, name)
        if any(abs(v - value) > tol for v in values):
            sys.exit(f"FAIL: {name} = {values}, expected {value} +- {tol}")
        print(f"ok {name} = {values}")
    elif kind in ("json-min", "json-max"):
        path, key, bound = sys.argv[2], sys.argv[3], float(sys.argv[4])
        obj = last_json(path)
        if key not in obj:
            sys.exit(f"FAIL: {key!r} not in {obj}")
        v = obj[key]
        if (kind == "json-min" and v < bound) or (kind == "json-max" and v > bound):
            sys.exit(f"FAIL: {key} = {v}, expected {'>=' if kind == 'json-min' else '<='} {bound}")
        print(f"ok {key} = {v}")
    elif kind in ("same", "changed"):
        compare(kind, sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown check {kind!r}")


if __name__ == "__main__":
    main()
