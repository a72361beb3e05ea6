#!/usr/bin/env python3
"""Writes an IDX image/label subset: the first N records (from an offset)
whose label is one of the given classes, as gzip IDX files.

  idx_filter.py IMAGES LABELS OUT_IMAGES OUT_LABELS N [--classes 0,1,2]
                [--offset K] [--end E]

Records are read from index K (default 0) up to E (default: all).
"""
import argparse
import gzip
import struct


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = list(struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim]))
    return raw[:4], dims, raw[4 + 4 * ndim:]


def write_idx(path, magic, dims, body):
    with gzip.open(path, "wb") as f:
        f.write(magic + struct.pack(">%dI" % len(dims), *dims) + body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("images")
    ap.add_argument("labels")
    ap.add_argument("out_images")
    ap.add_argument("out_labels")
    ap.add_argument("n", type=int)
    ap.add_argument("--classes", default="")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--end", type=int, default=-1)
    a = ap.parse_args()
    classes = {int(c) for c in a.classes.split(",") if c != ""}
    im_magic, im_dims, im_body = read_idx(a.images)
    lb_magic, lb_dims, lb_body = read_idx(a.labels)
    record = 1
    for d in im_dims[1:]:
        record *= d
    images, labels = [], []
    end = lb_dims[0] if a.end < 0 else min(a.end, lb_dims[0])
    for i in range(a.offset, end):
        if len(labels) == a.n:
            break
        if classes and lb_body[i] not in classes:
            continue
        labels.append(lb_body[i:i + 1])
        images.append(im_body[i * record:(i + 1) * record])
    write_idx(a.out_images, im_magic, [len(images)] + im_dims[1:], b"".join(images))
    write_idx(a.out_labels, lb_magic, [len(labels)], b"".join(labels))


if __name__ == "__main__":
    main()
