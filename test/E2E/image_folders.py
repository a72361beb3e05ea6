#!/usr/bin/env python3
"""Image folders for the images() end-to-end test, and checks of predict's CSV.

  image_folders.py make DIR PER_CLASS SEED [CLASS ...]   DIR/<class>/NNN.png, 3 classes by default
  image_folders.py corrupt FILE                          a file that starts like a PNG but is not one
  image_folders.py check-csv FILE.csv MIN_MATCH [ROWS]   header path,class,prob_<name>...; each row's
      probabilities sum to 1 and class is the most probable; at least MIN_MATCH of the rows have
      the class of their folder; with ROWS, exactly that many rows

PNG files are written by hand (zlib + CRC; python3 has no PIL here). The classes are easy to tell
apart: bird is a blue square, cat a red disk, dog a green bar, on a dark noisy background; sizes
vary (12 to 20 pixels) so that the loader's resize to 16 x 16 is exercised.
"""
import csv
import math
import os
import random
import struct
import sys
import zlib

COLOURS = {"bird": (40, 60, 220), "cat": (220, 50, 40), "dog": (50, 210, 60)}


def write_png(path, width, height, rgb_rows):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes(row) for row in rgb_rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def inside(cls, y, x, size):
    cy = cx = (size - 1) / 2
    if cls == "bird":
        return max(abs(y - cy), abs(x - cx)) < size / 4
    if cls == "cat":
        return math.hypot(y - cy, x - cx) < size / 3
    return abs(y - cy) < size / 6


def make(out, per_class, seed, classes):
    rng = random.Random(seed)
    for cls in classes:
        os.makedirs(os.path.join(out, cls), exist_ok=True)
        for i in range(per_class):
            size = rng.choice([12, 16, 16, 20])
            rows = []
            for y in range(size):
                row = []
                for x in range(size):
                    base = COLOURS[cls] if inside(cls, y, x, size) else (30, 30, 30)
                    row += [min(255, max(0, int(v + rng.gauss(0, 25)))) for v in base]
                rows.append(row)
            write_png(os.path.join(out, cls, "%03d.png" % i), size, size, rows)


def check_csv(path, min_match, rows_expected):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    names = [h[len("prob_"):] for h in header[2:]]
    if header[:2] != ["path", "class"] or not names or \
            any(not h.startswith("prob_") for h in header[2:]):
        sys.exit(f"FAIL: header {header}")
    if rows_expected is not None and len(rows) != rows_expected:
        sys.exit(f"FAIL: {len(rows)} rows, expected {rows_expected}")
    matches = 0
    for row in rows:
        probs = [float(p) for p in row[2:]]
        if abs(sum(probs) - 1) > 1e-4 or min(probs) < 0:
            sys.exit(f"FAIL: probabilities of {row[0]} sum to {sum(probs)}")
        if row[1] != names[probs.index(max(probs))]:
            sys.exit(f"FAIL: {row[0]}: class {row[1]} is not the most probable")
        matches += row[1] == os.path.basename(os.path.dirname(row[0]))
    if matches < min_match * len(rows):
        sys.exit(f"FAIL: only {matches} of {len(rows)} predictions match their folder")
    print(f"ok {matches} of {len(rows)} match; classes {names}")


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == "make":
        make(args[0], int(args[1]), int(args[2]), args[3:] or sorted(COLOURS))
    elif kind == "corrupt":
        with open(args[0], "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + b"this is not image data" * 4)
    elif kind == "check-csv":
        check_csv(args[0], float(args[1]), int(args[2]) if len(args) > 2 else None)
    else:
        sys.exit(f"unknown command {kind!r}")


if __name__ == "__main__":
    main()
