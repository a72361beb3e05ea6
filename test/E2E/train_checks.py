#!/usr/bin/env python3
"""Data makers and assertions for the training end-to-end tests.

  train_checks.py blobs OUT.csv N FEATURES CLASSES SEED   a separable CSV (f0..fK, label)
  train_checks.py images OUT_PREFIX N SIZE SEED           IDX images (N x SIZE x SIZE, 2 classes)
  train_checks.py dirty IN.csv OUT.csv MISSING DUPS SEED  blank a field in MISSING rows, append DUPS duplicates
  train_checks.py same A.safetensors B.safetensors [NAME ...]  every tensor (or those named) bit-identical
  train_checks.py differ A.safetensors B.safetensors NAME tensor NAME differs
  train_checks.py epochs-equal A.jsonl B.jsonl FROM       epoch events >= FROM equal (no timings)
  train_checks.py done LOG KEY VALUE                      the done event's KEY is VALUE
  train_checks.py lr LOG BASE SPE EPOCHS KIND [ARGS]      logged lr = the documented schedule
      KIND cosine WARMUP MIN_LR | step EVERY GAMMA
"""
import json
import math
import random
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = (info["dtype"], info["shape"], raw[8 + n + a:8 + n + b])
    return out, header.get("__metadata__", {})


def events(path, kind):
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")
            and json.loads(l).get("event") == kind]


def fail(msg):
    sys.exit("FAIL: " + msg)


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == "blobs":
        out, n, feats, classes, seed = args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4])
        rng = random.Random(seed)
        centres = [[rng.gauss(0, 1.5) for _ in range(feats)] for _ in range(classes)]
        with open(out, "w") as f:
            f.write(",".join(["f%d" % i for i in range(feats)] + ["label"]) + "\n")
            for _ in range(n):
                c = rng.randrange(classes)
                row = ["%.5f" % (centres[c][i] + rng.gauss(0, 1.0)) for i in range(feats)]
                f.write(",".join(row + [str(c)]) + "\n")
    elif kind == "images":
        prefix, n, size, seed = args[0], int(args[1]), int(args[2]), int(args[3])
        rng = random.Random(seed)
        pixels, labels = bytearray(), bytearray()
        for _ in range(n):
            c = rng.randrange(2)
            for y in range(size):
                for x in range(size):
                    # class 0: a bright square near the centre, class 1: a ring
                    d = max(abs(y - size / 2), abs(x - size / 2))
                    on = d < size / 4 if c == 0 else size / 4 <= d < size / 2 - 1
                    pixels.append(min(255, max(0, int((200 if on else 20) + rng.gauss(0, 20)))))
            labels.append(c)
        with open(prefix + "-images.idx", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, size, size) + bytes(pixels))
        with open(prefix + "-labels.idx", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + bytes(labels))
    elif kind == "dirty":
        src, out, missing, dups, seed = args[0], args[1], int(args[2]), int(args[3]), int(args[4])
        lines = open(src).read().splitlines()
        header, rows = lines[0], lines[1:]
        if len(set(rows)) != len(rows):
            fail(f"{src} already has duplicate rows")
        rng = random.Random(seed)
        picked = rng.sample(range(len(rows)), missing + dups)
        for i in picked[:missing]:
            fields = rows[i].split(",")
            fields[rng.randrange(len(fields) - 1)] = rng.choice(["", "NaN", "nan"])
            rows[i] = ",".join(fields)
        rows += [rows[i] for i in picked[missing:]]
        rng.shuffle(rows)
        with open(out, "w") as f:
            f.write("\n".join([header] + rows) + "\n")
    elif kind == "same":
        (a, _), (b, _) = tensors(args[0]), tensors(args[1])
        if args[2:]:
            missing = [k for k in args[2:] if k not in a or k not in b]
            if missing:
                fail(f"tensors missing: {missing}")
            a = {k: a[k] for k in args[2:]}
            b = {k: b[k] for k in args[2:]}
        if sorted(a) != sorted(b):
            fail(f"tensor names differ: {sorted(a)} vs {sorted(b)}")
        bad = [k for k in a if a[k] != b[k]]
        if bad:
            fail(f"tensors differ: {bad}")
        print(f"ok {len(a)} tensors identical")
    elif kind == "differ":
        (a, _), (b, _) = tensors(args[0]), tensors(args[1])
        if a[args[2]] == b[args[2]]:
            fail(f"{args[2]} is the same in both")
        print(f"ok {args[2]} differs")
    elif kind == "epochs-equal":
        first = int(args[2])
        strip = lambda e: {k: v for k, v in e.items() if k not in ("seconds", "samples_per_s")}
        a = [strip(e) for e in events(args[0], "epoch") if e["epoch"] >= first]
        b = [strip(e) for e in events(args[1], "epoch") if e["epoch"] >= first]
        if not a or a != b:
            fail(f"epochs from {first} differ:\n{a}\n{b}")
        print(f"ok {len(a)} epochs equal")
    elif kind == "done":
        done = events(args[0], "done")
        if not done:
            fail("no done event")
        v = done[-1].get(args[1])
        if str(v) != args[2]:
            fail(f"done {args[1]} = {v!r}, expected {args[2]}")
        print(f"ok {args[1]} = {v}")
    elif kind == "lr":
        log, base, spe, epochs, sched = args[0], float(args[1]), int(args[2]), int(args[3]), args[4]
        eps = events(log, "epoch")
        if len(eps) != epochs:
            fail(f"{len(eps)} epochs logged, expected {epochs}")
        for e in eps:
            step = e["epoch"] * spe - 1  # the epoch's last step, from 0
            if sched == "cosine":
                warmup, min_lr = float(args[5]), float(args[6])
                ws = math.floor(warmup * spe + 0.5)
                total = epochs * spe
                if step < ws:
                    want = base * (step + 1) / ws
                else:
                    p = min((step - ws) / max(total - ws, 1), 1.0)
                    want = min_lr + (base - min_lr) * (1 + math.cos(math.pi * p)) / 2
            elif sched == "step":
                every, gamma = int(args[5]), float(args[6])
                want = base * gamma ** ((step // spe) // every)
            else:
                fail("unknown schedule " + sched)
            want32 = struct.unpack("<f", struct.pack("<f", want))[0]
            if abs(e["lr"] - want32) > 1e-7 * abs(want32) + 1e-12:
                fail(f"epoch {e['epoch']}: lr {e['lr']!r}, expected {want32!r}")
            print(f"ok epoch {e['epoch']} lr {e['lr']}")
    else:
        sys.exit(f"unknown command {kind!r}")


if __name__ == "__main__":
    main()
