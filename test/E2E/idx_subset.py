#!/usr/bin/env python3
"""Writes the first N records of an IDX file (plain or gzip) as a gzip IDX.

  idx_subset.py IN OUT N
"""
import gzip
import struct
import sys


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = list(struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim]))
    record = 1
    for d in dims[1:]:
        record *= d
    n = min(n, dims[0])
    dims[0] = n
    header = raw[:4] + struct.pack(">%dI" % ndim, *dims)
    body = raw[4 + 4 * ndim:4 + 4 * ndim + n * record]
    with gzip.open(dst, "wb") as f:
        f.write(header + body)


if __name__ == "__main__":
    main()
