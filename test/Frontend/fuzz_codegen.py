#!/usr/bin/env python3
"""Deterministic fuzzing of nnc's code generation and of the programs it
links (run by fuzz-codegen.test and scripts/sanitize.sh).

Generates small valid models within the grammar -- random layer sequences
from the catalogue (dense, conv2d, pools, flatten, reshape, activations,
dropout, batchnorm, layernorm, add and concat through named values and
blocks, groups, repeat, labels, init, l2), random small shapes, losses,
optimizers, schedules, dataset settings, now and then a broken data file --
a quarter of them, and SPEC examples shrunk, mutated (numbers, names,
deleted and duplicated layer lines) so that they still pass `nnc --check`.
Each is compiled with `nnc FILE -o PROG` (some with --batch) under a
wall-clock and an address-space limit: nnc must exit 0, or 1 with a proper
diagnostic -- never 2, 3, a signal or a hang. Each program that compiles
runs `info`, `train --steps 2` on a tiny generated CSV or IDX data set (some
with --batch, --lr, --seed, --epochs, then --resume), and when the training
wrote a checkpoint `eval` and `predict`; each must exit 0 or 1 with a
one-line `error:` -- never 2, 3, a signal or a hang. Output that looks like
a crash or a sanitizer report fails the case in any event.

usage: fuzz_codegen.py NNC SPEC_DIR WORK_DIR [--count N] [--seed S]
         [--timeout T] [--mem-mb M] [--jobs J] [--spec-count K]
--mem-mb 0 lifts the address-space limit (AddressSanitizer reserves
terabytes of shadow memory).
"""
import argparse
import gzip
import math
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from fuzz import CRASH as CRASH_BYTES  # fuzz.py beside this file

CRASH = [c.decode() for c in CRASH_BYTES]
DIAG = re.compile(r"^(.+?:\d+:\d+: error: |nnc: error: )", re.M)
ACTIVATIONS = ["relu", "sigmoid", "tanh", "gelu", "softmax", "leaky_relu",
               "leaky_relu(alpha = 0.2)"]
INITS = ["default", "kaiming_uniform", "kaiming_normal", "xavier_uniform",
         "xavier_normal", "normal", "uniform", "zeros", "ones"]
MAX_ELEMENTS = 600  # per-sample values of any layer: keeps compiles fast


def prod(shape):
    return math.prod(shape)


def fmt_shape(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


class ModelGen:
    """Random layer sequences that follow the shape rules of
    frontend/SemaShapes.cpp, so that nearly all of them compile."""

    def __init__(self, rng):
        self.rng = rng
        self.blocks = []  # block declarations the model uses
        self.lines = []
        self.counter = 0

    def fresh(self, prefix):
        self.counter += 1
        return "%s%d" % (prefix, self.counter)

    def weighted_opts(self):
        r, opts = self.rng, []
        if r.random() < 0.2:
            opts.append("init = " + r.choice(INITS))
        if r.random() < 0.1:
            opts.append("l2 = 0.001")
        if r.random() < 0.1:
            opts.append("bias = false")
        return opts

    @staticmethod
    def call(name, args):
        return "%s(%s)" % (name, ", ".join(args)) if args else name

    def emit(self, text, indent):
        self.lines.append("  " * indent + text)

    # One step on a rank-3 value [C, H, W]; returns the new shape.
    def step3(self, shape, indent):
        r = self.rng
        c, h, w = shape
        choices = ["conv", "conv", "pool", "act", "bn", "ln", "drop",
                   "residual", "branches", "flatten", "reshape"]
        kind = r.choice(choices)
        if kind == "conv":
            f = r.randint(1, 6)
            k = r.randint(1, min(3, h, w))
            kernel = str(k)
            kh = kw = k
            if r.random() < 0.2 and min(h, w) >= 2:
                kh, kw = r.randint(1, min(3, h)), r.randint(1, min(3, w))
                kernel = "[%d, %d]" % (kh, kw)
            args = [str(f), kernel]
            stride = r.choice([1, 1, 1, 2])
            if stride != 1:
                args.append("stride = %d" % stride)
            pad = r.choice(["valid", "valid", "same", "int"])
            if pad == "same" and stride == 1:
                args.append("padding = same")
                oh, ow = h, w
            else:
                p = r.randint(0, min(kh, kw) // 2) if pad == "int" else 0
                if p:
                    args.append("padding = %d" % p)
                oh = (h + 2 * p - kh) // stride + 1
                ow = (w + 2 * p - kw) // stride + 1
            if oh < 1 or ow < 1 or f * oh * ow > MAX_ELEMENTS:
                return self.step3_act(shape, indent)
            args += self.weighted_opts()
            label = (self.fresh("conv") + ": ") if r.random() < 0.15 else ""
            self.emit(label + self.call("conv2d", args), indent)
            return (f, oh, ow)
        if kind == "pool":
            if min(h, w) < 2:
                return self.step3_act(shape, indent)
            name = r.choice(["maxpool", "avgpool"])
            if r.random() < 0.4:
                self.emit(name, indent)
                return (c, h // 2, w // 2)
            s = r.randint(1, min(3, h, w))
            args = [str(s)]
            stride = s
            if r.random() < 0.4:
                stride = r.randint(1, s)
                args.append("stride = %d" % stride)
            if stride == 1 and r.random() < 0.4:
                args.append("padding = same")
                return self.emit(self.call(name, args), indent) or shape
            self.emit(self.call(name, args), indent)
            return (c, (h - s) // stride + 1, (w - s) // stride + 1)
        if kind == "act":
            return self.step3_act(shape, indent)
        if kind == "bn":
            self.emit(r.choice(["batchnorm", "batchnorm(momentum = 0.2)",
                                "batchnorm(eps = 0.001)"]), indent)
            return shape
        if kind == "ln":
            self.emit("layernorm", indent)
            return shape
        if kind == "drop":
            self.emit("dropout(%s)" % r.choice(["0", "0.1", "0.5", "0.9"]),
                      indent)
            return shape
        if kind == "residual":
            return self.residual(shape, indent)
        if kind == "branches":
            return self.branches(shape, indent)
        if kind == "flatten":
            self.emit("flatten", indent)
            return (prod(shape),)
        # reshape: swap H and W, or fold channels into rows
        if r.random() < 0.5:
            target = (c, w, h)
        else:
            target = (1, c * h, w)
        self.emit("reshape(%s)" % fmt_shape(target), indent)
        return target

    def step3_act(self, shape, indent):
        self.emit(self.rng.choice(ACTIVATIONS), indent)
        return shape

    def residual(self, shape, indent):
        """A block with a skip connection: add(skip) on the block's input."""
        r = self.rng
        name = self.fresh("res")
        c = shape[0]
        body = ["  skip = input"]
        if len(shape) == 3:
            body.append("  conv2d(channels, 3, padding = same)")
        else:
            body.append("  dense(channels)")
        if r.random() < 0.5:
            body.append("  batchnorm")
        body.append("  " + r.choice(ACTIVATIONS))
        body.append("  add(skip)")
        self.blocks.append("block %s(channels: int) {\n%s\n}\n" %
                           (name, "\n".join(body)))
        call = "%s(%d)" % (name, c)
        if r.random() < 0.3:
            self.emit("repeat %d { %s }" % (r.randint(1, 3), call), indent)
        else:
            self.emit(call, indent)
        return shape

    def branches(self, shape, indent):
        """Inline named values: two branches joined by concat or add."""
        r = self.rng
        v, a, b = self.fresh("v"), self.fresh("a"), self.fresh("b")
        self.emit("%s = %s" % (v, r.choice(["relu", "dropout(0.1)",
                                             "batchnorm", "tanh"])), indent)
        if len(shape) == 3:
            c, h, w = shape
            f1, f2 = r.randint(1, 4), r.randint(1, 4)
            if (f1 + f2) * h * w > MAX_ELEMENTS:
                return shape
            self.emit("%s = %s -> conv2d(%d, 1)" % (a, v, f1), indent)
            self.emit("%s = %s -> conv2d(%d, 3, padding = same) -> relu" %
                      (b, v, f2), indent)
            if r.random() < 0.5:
                self.emit("concat(%s, %s)" % (a, b), indent)
            else:
                self.emit("concat(%s)" % a, indent)  # running value b, then a
            return (f1 + f2, h, w)
        f = shape[0]
        if r.random() < 0.5:
            u = r.randint(1, 8)
            self.emit("%s = %s -> dense(%d)" % (a, v, u), indent)
            self.emit("concat(%s, %s)" % (v, a), indent)
            return (f + u,)
        self.emit("%s = %s -> dense(%d) -> relu" % (a, v, f), indent)
        self.emit("add(%s)" % v, indent)
        return shape

    # One step on a rank-1 value [F].
    def step1(self, shape, indent):
        r = self.rng
        (f,) = shape
        kind = r.choice(["dense", "dense", "act", "bn", "ln", "drop",
                         "residual", "branches", "reshape", "group"])
        if kind == "dense":
            args = [str(r.randint(1, 16))] + self.weighted_opts()
            label = (self.fresh("fc") + ": ") if r.random() < 0.15 else ""
            self.emit(label + self.call("dense", args), indent)
            return (int(args[0]),)
        if kind == "act":
            self.emit(r.choice(ACTIVATIONS), indent)
            return shape
        if kind == "bn":
            self.emit("batchnorm", indent)
            return shape
        if kind == "ln":
            self.emit(r.choice(["layernorm", "layernorm(eps = 0.0001)"]),
                      indent)
            return shape
        if kind == "drop":
            self.emit("dropout(%s)" % r.choice(["0.2", "0.5"]), indent)
            return shape
        if kind == "residual":
            return self.residual(shape, indent)
        if kind == "branches":
            return self.branches(shape, indent)
        if kind == "reshape":
            divs = [d for d in range(1, f + 1) if f % d == 0]
            d = r.choice(divs)
            if r.random() < 0.5:
                target = (1, d, f // d)
            else:
                target = (d, f // d)
            self.emit("reshape(%s)" % fmt_shape(target), indent)
            return target
        # group with a repeat of a shape-preserving body
        name = self.fresh("g")
        self.emit("group %s {" % name, indent)
        if r.random() < 0.5:
            self.emit("repeat %d {" % r.randint(1, 3), indent + 1)
            self.emit("dense(%d)" % f, indent + 2)
            self.emit(r.choice(ACTIVATIONS), indent + 2)
            self.emit("}", indent + 1)
        else:
            shape = self.step1(shape, indent + 1)
        self.emit("}", indent)
        return shape

    # One step on a rank-2 value [T, F] (dense takes rank 1 only).
    def step2(self, shape, indent):
        r = self.rng
        t, f = shape
        kind = r.choice(["act", "ln", "drop", "flatten", "flatten"])
        if kind == "act":
            self.emit(r.choice(ACTIVATIONS), indent)
            return shape
        if kind == "ln":
            self.emit("layernorm", indent)
            return shape
        if kind == "drop":
            self.emit("dropout(0.3)", indent)
            return shape
        self.emit("flatten", indent)
        return (t * f,)

    def body(self, shape, steps):
        for _ in range(steps):
            if len(shape) == 3:
                shape = self.step3(shape, 1)
            elif len(shape) == 2:
                shape = self.step2(shape, 1)
            else:
                shape = self.step1(shape, 1)
        if len(shape) == 3 and self.rng.random() < 0.4:
            self.emit("global_avgpool", 1)
            shape = (shape[0],)
        elif len(shape) != 1:
            self.emit("flatten", 1)
            shape = (prod(shape),)
        return shape


def gen_case(rng, idx):
    """A generated model, its training run, and the data it reads:
    (what, source text, {file name: bytes})."""
    task = rng.choice(["classify", "classify", "binary", "regress"])
    image = rng.random() < 0.5
    if image:
        c = rng.choice([1, 1, 2, 3])
        h, w = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 9]), rng.randint(2, 9)
        in_shape = (c, h, w)
    else:
        in_shape = (rng.randint(1, 12),)
    use_idx = (image and in_shape[0] == 1 and task == "classify" and
               rng.random() < 0.6)
    if task == "classify":
        out, loss = rng.randint(2, 5), "cross_entropy"
        if rng.random() < 0.3:
            loss = "cross_entropy(label_smoothing = 0.1)"
        metrics = rng.sample(["accuracy", "precision", "recall", "f1",
                              "confusion"], rng.randint(0, 3))
    elif task == "binary":
        out, loss = 1, "binary_cross_entropy"
        metrics = rng.sample(["accuracy", "precision", "recall", "f1"],
                             rng.randint(0, 2))
    else:
        out = rng.randint(1, 3)
        loss = rng.choice(["mse", "mae", "huber", "huber(delta = 0.5)"])
        metrics = rng.sample(["mse", "mae", "r2"], rng.randint(0, 2))

    gen = ModelGen(rng)
    shape = gen.body(in_shape, rng.randint(1, 6))
    if rng.random() < 0.2:
        gen.emit(rng.choice(ACTIVATIONS), 1)
    head = "head: " if rng.random() < 0.3 else ""
    gen.emit("%sdense(%d)" % (head, out), 1)

    n = rng.randint(6, 40)
    batch = rng.choice([1, 2, 3, 5, 8, 12, 64])  # 64: more than the rows
    validation = rng.random() < 0.5
    files = {}
    ds = ["dataset data {"]
    if use_idx:
        ds.append('  train = idx("train-images.idx", "train-labels.idx")')
        files.update(idx_files("train", n, in_shape[1], in_shape[2], out, rng))
    else:
        feats = ["f%d" % i for i in range(prod(in_shape))]
        targets = ["y%d" % i for i in range(out)] if task == "regress" \
            else ["label"]
        missing = rng.random() < 0.2
        src = 'csv("train.csv"'
        if rng.random() < 0.3:
            src += ", features = [%s]" % ", ".join('"%s"' % f for f in feats)
        if len(targets) > 1:
            src += ", target = [%s]" % ", ".join('"%s"' % t for t in targets)
        else:
            src += ', target = "%s"' % targets[0]
        ds.append("  train = " + src + ")")
        files["train.csv"] = csv_file(feats, targets, n, task, out, rng,
                                      missing)
        if rng.random() < 0.2:
            ds.append("  test = " + src.replace("train.csv", "test.csv") + ")")
            files["test.csv"] = csv_file(feats, targets, rng.randint(1, 9),
                                         task, out, rng, False)
        clean = []
        if missing:
            clean.append(rng.choice(["drop_missing", "fill_missing(mean)",
                                     "fill_missing(median)",
                                     "fill_missing(0)"]))
        if rng.random() < 0.2:
            clean.append("drop_duplicates")
        if rng.random() < 0.2:
            clean.append("clip(-1, 1)")
        if clean:
            ds.append("  clean { %s }" % "; ".join(clean))
    if validation:
        ds.append("  validation = split(train, %s, seed = %d)" %
                  (rng.choice(["0.2", "0.5", "0.1"]), rng.randint(0, 9)))
    pre = []
    if use_idx:
        pre.append("scale(1 / 255)")
        if rng.random() < 0.3:
            pre.append("normalize(mean = 0.5, std = 0.25)")
    else:
        pre += rng.sample(["standardize", "minmax", "scale(0.5)"],
                          rng.randint(0, 1))
    if pre:
        ds.append("  preprocess { %s }" % "; ".join(pre))
    aug = []
    if rng.random() < 0.3:
        aug.append("noise(std = 0.05)")
    if image and use_idx:
        if rng.random() < 0.3:
            aug.append("flip(%s, p = 0.5)" %
                       rng.choice(["horizontal", "vertical"]))
        if rng.random() < 0.2:
            aug.append("rotate(degrees = 15)")
        if in_shape[1] == in_shape[2] and rng.random() < 0.2:
            aug.append("random_crop(%d, padding = 1)" % in_shape[1])
    if aug:
        ds.append("  augment { %s }" % "; ".join(aug))
    ds.append("  batch = %d" % batch)
    if rng.random() < 0.5:
        ds.append("  shuffle = %s" % rng.choice(["true", "false"]))
    ds.append("}")
    kind = "generated"
    if rng.random() < 0.15:
        kind += ", " + fault(rng, files, out)

    tr = ["train run%d {" % idx, "  model = m", "  data = data",
          "  loss = " + loss, "  optimizer = " + optimizer(rng),
          "  epochs = %d" % rng.randint(1, 3)]
    sched = schedule(rng)
    if sched:
        tr.append("  schedule = " + sched)
    if metrics:
        tr.append("  metrics = [%s]" % ", ".join(metrics))
    if rng.random() < 0.2:
        tr.append("  clip_grad_norm = %s" % rng.choice(["1.0", "0.1"]))
    if validation and rng.random() < 0.3:
        tr.append("  early_stopping = { monitor: val_loss, patience: 1 }")
    if rng.random() < 0.5:
        tr.append("  seed = %d" % rng.randint(0, 99))
    tr.append("}")

    text = "// generated case %d\n" % idx
    text += "".join(b + "\n" for b in gen.blocks)
    text += "\n".join(ds) + "\n\n"
    text += "model m(x: f32%s) -> f32[%d] {\n" % (fmt_shape(in_shape), out)
    text += "\n".join(gen.lines) + "\n}\n\n" + "\n".join(tr) + "\n"
    return kind, text, files, run_options(rng, batch)


def fault(rng, files, classes):
    """Breaks the training data the way users' files are broken: the
    program must stop with a one-line error, not crash."""
    name = sorted(files)[0]
    data = files[name]
    if name.endswith(".csv"):
        lines = data.decode().split("\n")
        i = rng.randrange(1, max(2, len(lines) - 1))
        kind = rng.randrange(5)
        if kind == 0:
            lines, what = lines[:1], "header only"
        elif kind == 1:
            lines[i], what = lines[i].rsplit(",", 1)[0], "short row"
        elif kind == 2:
            lines[i], what = "abc," + lines[i].split(",", 1)[-1], "text field"
        elif kind == 3:
            bad = rng.choice([str(classes + 3), "-1", "1e40", "nan", "0.5"])
            lines[i] = lines[i].rsplit(",", 1)[0] + "," + bad
            what = "label " + bad
        else:
            lines[i] += "\r"
            lines.insert(i, "")
            what = "CR and blank line"
        files[name] = "\n".join(lines).encode()
        return "%s: %s" % (name, what)
    else:
        kind = rng.randrange(3)
        if kind == 0:
            files[name] = data[:rng.randrange(len(data))]
            return name + ": truncated"
        if kind == 1:
            files[name] = b"\x00\x00\x08\x01" + data[4:]
            return name + ": wrong magic"
        files[name] = data[:4] + struct.pack(">I", 1 << 30) + data[8:]
        return name + ": 2^30 samples announced"


def run_options(rng, batch):
    """Command-line options of the case: nnc's --batch, and the program's
    train options (a smaller batch, another rate, seed or length) plus
    whether to resume from the checkpoint for two more steps."""
    opts = {"nnc": [], "train": [], "resume": rng.random() < 0.2}
    if rng.random() < 0.15:
        batch = rng.choice([1, 3, 16])
        opts["nnc"] = ["--batch", str(batch)]
    if rng.random() < 0.3:
        opts["train"] += ["--batch", str(rng.randint(1, batch))]
    for flag, values in (("--lr", ["0.5", "1e-5"]), ("--seed", ["0", "77"]),
                         ("--epochs", ["1", "2"])):
        if rng.random() < 0.15:
            opts["train"] += [flag, rng.choice(values)]
    return opts


def optimizer(rng):
    kind = rng.choice(["sgd", "adam", "adamw", "rmsprop"])
    args = []
    if kind == "sgd":
        args.append("lr = %s" % rng.choice(["0.1", "0.01"]))
        if rng.random() < 0.5:
            args.append("momentum = 0.9")
            if rng.random() < 0.5:
                args.append("nesterov = true")
    elif rng.random() < 0.7:
        args.append("lr = %s" % rng.choice(["0.01", "0.001"]))
    if kind in ("adam", "adamw") and rng.random() < 0.3:
        args.append("beta2 = 0.99")
    if kind == "rmsprop" and rng.random() < 0.3:
        args.append("momentum = 0.5")
    if rng.random() < 0.3:
        args.append("weight_decay = 0.001")
    return "%s(%s)" % (kind, ", ".join(args))


def schedule(rng):
    return rng.choice([None, None, "constant", "step(every = 1, gamma = 0.5)",
                       "exponential(gamma = 0.9)",
                       "cosine(warmup = 1, min_lr = 0.0001)", "cosine",
                       "linear(warmup = 0.5, end_lr = 0.0001)"])


def csv_file(feats, targets, n, task, out, rng, missing):
    rows = [",".join(feats + targets)]
    for _ in range(n):
        vals = ["%.4f" % rng.gauss(0, 1) for _ in feats]
        if missing and rng.random() < 0.2:
            vals[rng.randrange(len(vals))] = ""
        if task == "classify":
            ys = [str(rng.randrange(out))]
        elif task == "binary":
            ys = [str(rng.randrange(2))]
        else:
            ys = ["%.4f" % rng.gauss(0, 1) for _ in targets]
        rows.append(",".join(vals + ys))
    return ("\n".join(rows) + "\n").encode()


def idx_files(prefix, n, h, w, classes, rng, gz=False):
    images = struct.pack(">IIII", 0x803, n, h, w) + \
        bytes(rng.randrange(256) for _ in range(n * h * w))
    labels = struct.pack(">II", 0x801, n) + \
        bytes(rng.randrange(classes) for _ in range(n))
    if gz:
        return {prefix + "-images.idx.gz": gzip.compress(images, mtime=0),
                prefix + "-labels.idx.gz": gzip.compress(labels, mtime=0)}
    return {prefix + "-images.idx": images, prefix + "-labels.idx": labels}


# --- SPEC examples, shrunk and mutated ----------------------------------------

# Sizes that make the SPEC models compile in seconds: 28 x 28 images become
# 12 x 12, wide layers narrow.
SHRINK = [(rb"\b28\b", b"12"), (rb"\b32\b", b"4"), (rb"\b64\b", b"8"),
          (rb"\b128\b", b"16"), (rb"\b30\b", b"6")]
SWAPS = [[b"relu", b"tanh", b"gelu", b"sigmoid"],
         [b"maxpool", b"avgpool"],
         [b"adam", b"adamw", b"rmsprop"],
         [b"cosine", b"linear"],
         [b"accuracy", b"f1", b"precision", b"recall"]]


def spec_mutate(rng, src):
    kind = rng.randrange(4)
    if kind == 0:  # another small integer
        nums = list(re.finditer(rb"(?<![.\d])\d+(?![.\d])", src))
        t = rng.choice(nums)
        return src[:t.start()] + str(rng.randint(1, 9)).encode() + \
            src[t.end():]
    if kind == 1:  # another name of the same kind
        group = rng.choice(SWAPS)
        hits = [m for g in group for m in re.finditer(rb"\b%s\b" % g, src)]
        if not hits:
            return src
        t = rng.choice(hits)
        return src[:t.start()] + rng.choice(group) + src[t.end():]
    # delete or duplicate a line of a model body
    lines = src.split(b"\n")
    body = []
    inside = False
    for i, line in enumerate(lines):
        if line.startswith(b"model ") or line.startswith(b"block "):
            inside = True
        elif line.startswith(b"}"):
            inside = False
        elif inside and line.strip():
            body.append(i)
    if not body:
        return src
    i = rng.choice(body)
    if kind == 2:
        del lines[i]
    else:
        lines.insert(i, lines[i])
    return b"\n".join(lines)


def spec_data(src, rng):
    """Tiny data files under the paths the (mutated) example reads."""
    files = {}
    m = re.search(rb"model \w+\(\w+: f32\[([\d, ]+)\]\) -> f32\[(\d+)\]", src)
    if not m:
        return files
    in_shape = [int(d) for d in m.group(1).split(b",")]
    out = int(m.group(2))
    loss = re.search(rb"loss = (\w+)", src)
    task = {b"cross_entropy": "classify", b"binary_cross_entropy": "binary"} \
        .get(loss.group(1) if loss else b"", "regress")
    for s in re.finditer(rb'idx\("([^"]+)",\s*"([^"]+)"\)', src):
        h, w = ([1, 1] + in_shape)[-2:]
        n = rng.randint(8, 30)
        images = struct.pack(">IIII", 0x803, n, h, w) + \
            bytes(rng.randrange(256) for _ in range(n * h * w))
        labels = struct.pack(">II", 0x801, n) + \
            bytes(rng.randrange(max(out, 1)) for _ in range(n))
        for path, data in ((s.group(1), images), (s.group(2), labels)):
            if path.endswith(b".gz"):
                data = gzip.compress(data, mtime=0)
            files[path.decode()] = data
    for s in re.finditer(rb'csv\("([^"]+)"([^)]*)\)', src):
        feats = re.search(rb"features = \[([^\]]*)\]", s.group(2))
        feats = re.findall(rb'"([^"]*)"', feats.group(1)) if feats else \
            [b"f%d" % i for i in range(prod(in_shape))]
        target = re.search(rb'target = "([^"]*)"', s.group(2))
        targets = [target.group(1) if target else b"y"]
        files[s.group(1).decode()] = csv_file(
            [f.decode() for f in feats], [t.decode() for t in targets],
            rng.randint(8, 30), task, out, rng, False)
    return files


def spec_cases(rng, spec_dir, count, nnc, work, limits):
    seeds = []
    for name in sorted(os.listdir(spec_dir)):
        with open(os.path.join(spec_dir, name), "rb") as f:
            data = f.read()
        # The runnable examples: a train block and no imports.
        if name.endswith(".nn") and b"\ntrain" in data and \
                b"import" not in data:
            for pat, repl in SHRINK:
                data = re.sub(pat, repl, data)
            seeds.append((name, data))
    cases = []
    for i in range(count):
        name, src = seeds[i % len(seeds)]
        data, attempt = checked_mutant(rng, src, nnc, work, limits, 8)
        kinds = "shrunk" if data is None else "mutant %d" % attempt
        data = src if data is None else data
        cases.append(("%s, %s" % (name, kinds), data, spec_data(data, rng),
                      {"nnc": [], "train": [], "resume": False}))
    return cases


def checked_mutant(rng, src, nnc, work, limits, attempts):
    """(a mutant of src that passes --check, the attempt that made it), or
    (None, None) when no attempt did."""
    probe = os.path.join(work, "probe.nn")
    for attempt in range(attempts):
        data = src
        for _ in range(rng.randint(1, 3)):
            data = spec_mutate(rng, data)
        with open(probe, "wb") as f:
            f.write(data)
        if run([nnc, probe, "--check"], work, limits)[0] == 0:
            return data, attempt
    return None, None


# --- running ------------------------------------------------------------------

def run(cmd, cwd, limits):
    timeout, mem_mb = limits

    def limit():
        if mem_mb:
            resource.setrlimit(resource.RLIMIT_AS,
                               (mem_mb << 20, mem_mb << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout,
                           preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return None, "", "timeout after %gs" % timeout
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def verdict(what, rc, out, err, diag):
    if rc is None:
        return "%s: %s" % (what, err)
    for c in CRASH:
        if c in out or c in err:
            return "%s: exit %d, output contains %r: %s" % (
                what, rc, c, err[-600:])
    if rc < 0:
        return "%s: killed by signal %d: %s" % (what, -rc, err[-300:])
    if rc not in (0, 1):
        return "%s: exit status %d: %s" % (what, rc, (out + err)[-600:])
    if rc == 1 and not diag.search(err):
        return "%s: exit 1 without a proper error line: %r" % (what, err[-300:])
    return None


PROGRAM_ERROR = re.compile(r"^error: \S", re.M)


def check_case(nnc, path, opts, limits):
    """(why the case fails or None, how far it got: 'rejected', 'compiled'
    or 'trained', the last error line of the step that stopped it)."""
    work = os.path.dirname(path)
    prog = os.path.join(work, "prog")

    def last_line(err):
        lines = [l for l in err.splitlines() if "error:" in l]
        return lines[-1] if lines else ""

    rc, out, err = run([nnc, path, "-o", prog] + opts["nnc"], work, limits)
    why = verdict("nnc -o", rc, out, err, DIAG)
    if why or rc != 0:
        return why, "rejected", last_line(err)
    ckpt = os.path.join(work, "ckpt", "last.safetensors")
    data = [f for f in sorted(os.listdir(work))
            if f in ("train.csv", "test.csv") or f.endswith("images.idx")]
    steps = [["info"],
             ["train", "--steps", "2", "--quiet", "--threads", "1",
              "--checkpoint-dir", "ckpt"] + opts["train"],
             ["eval", "--weights", ckpt, "--split", "train"]]
    if opts["resume"]:
        steps.insert(2, ["train", "--steps", "4", "--quiet", "--threads", "1",
                         "--checkpoint-dir", "ckpt", "--resume", ckpt])
    if data:
        source = data[0]
        if source.endswith(".csv"):
            # predict applies no clean block: rows with an empty field out
            with open(os.path.join(work, source)) as f:
                rows = [r for r in f.read().split("\n")
                        if r and "" not in r.split(",")]
            source = "predict-input.csv"
            with open(os.path.join(work, source), "w") as f:
                f.write("\n".join(rows) + "\n")
        steps.append(["predict", "--weights", ckpt, "--input", source,
                      "--output", "pred.csv"])
    stage = "compiled"
    for args in steps:
        rc, out, err = run([prog] + args, work, limits)
        why = verdict("prog " + args[0], rc, out, err, PROGRAM_ERROR)
        if why:
            return why, stage, ""
        if args[0] == "train":
            if rc != 0 or not os.path.exists(ckpt):
                return None, stage, last_line(err)
            stage = "trained"
    return None, stage, last_line(err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nnc")
    ap.add_argument("spec_dir")
    ap.add_argument("work_dir")
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--spec-count", type=int, default=4)
    ap.add_argument("--seed", type=int, default=20240701)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--mem-mb", type=int, default=4096)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", action="store_true",
                    help="a line per case: how far it got, the last error")
    args = ap.parse_args()

    nnc = shutil.which(args.nnc) or args.nnc
    nnc = os.path.abspath(nnc)
    limits = (args.timeout, args.mem_mb)
    rng = random.Random(args.seed)
    os.makedirs(args.work_dir, exist_ok=True)
    cases = [gen_case(rng, i) for i in range(args.count)]
    # A quarter of the generated models mutated as the SPEC examples are
    # (deleted, duplicated lines; other numbers and names): unused values,
    # odd shapes that still pass --check.
    for i, (kind, text, files, opts) in enumerate(cases):
        if rng.random() < 0.25:
            data, attempt = checked_mutant(rng, text.encode(), nnc,
                                           args.work_dir, limits, 4)
            if data is not None:
                cases[i] = (kind + ", mutant %d" % attempt, data, files, opts)
    cases += spec_cases(rng, args.spec_dir, args.spec_count, nnc,
                        args.work_dir, limits)

    paths = []
    for i, (kind, text, files, _) in enumerate(cases):
        d = os.path.join(args.work_dir, "case%02d" % i)
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "model.nn")
        with open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
        for name, data in files.items():
            fp = os.path.join(d, name)
            os.makedirs(os.path.dirname(fp), exist_ok=True)
            with open(fp, "wb") as f:
                f.write(data)
        paths.append(path)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(
            lambda pc: check_case(nnc, pc[0], pc[1][3], limits),
            zip(paths, cases)))

    reached = [stage for _, stage, _ in results]
    failures = [(p, c[0], why) for p, c, (why, _, _) in
                zip(paths, cases, results) if why]
    if args.verbose:
        for p, c, (_, stage, note) in zip(paths, cases, results):
            print("%s [%s]: %s %s" % (os.path.basename(os.path.dirname(p)),
                                      c[0], stage, note))
    print("fuzz-codegen: %d models, %d failures (seed %d)" %
          (len(cases), len(failures), args.seed))
    print("fuzz-codegen: %d rejected by nnc, %d compiled, %d trained" %
          (reached.count("rejected"), reached.count("compiled"),
           reached.count("trained")))
    for path, kind, why in failures:
        print("FAIL %s [%s]: %s" % (path, kind, why))
    # The generator is meant to produce valid models: when most stop short
    # of training, nnc or the generator changed, and the fuzz tests little.
    if 2 * reached.count("trained") < len(cases):
        print("FAIL: only %d of %d models trained" %
              (reached.count("trained"), len(cases)))
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
