#!/usr/bin/env python3
"""The inference library of `./model export` (issue 18): size, speed and
accuracy of the f32 and int8 (`--int8`) libraries against the program they
came from.

  export.py --nnc BUILD/bin/nnc [--models mlp,spec_cnn] [--steps N] [--runs 3]
            [--out bench/results]

Each model (examples/fashion_mlp.nn; examples/fashion_cnn.nn, SPEC 2.3's CNN
with batchnorm, which the library folds) is compiled with `nnc --int8`
(timed, as is the compile without it), trained `--steps N` on
Fashion-MNIST, exported in f32 and in int8 (`--int8 --calibrate 1000`),
and each library linked by `cc -O2 bench.c libmodel.a -lm`. The C harness
reads the 10,000 test images as raw pixel values and times model_predict
on one sample at a time (latency: the batch-1 code), on 64 samples per call
repeated (the same 64, in cache: the compiled batch's code), and on all of
them in one call (throughput from memory), one thread, and counts the
correct top classes. Beside them: `./model eval --threads 1` on the test
split (samples/s, accuracy) and the libraries' sizes. Medians of --runs.
"""
import argparse
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FASHION = Path("/usr/share/datasets/fashion-mnist")
MODELS = {"mlp": ROOT / "examples" / "fashion_mlp.nn",
          "spec_cnn": ROOT / "examples" / "fashion_cnn.nn"}

HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "model.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
  int n = atoi(argv[2]), single = atoi(argv[4]);
  float *in = malloc(sizeof(float) * (size_t)n * MODEL_INPUT_SIZE);
  float *out = malloc(sizeof(float) * (size_t)n * MODEL_OUTPUT_SIZE);
  unsigned char *labels = malloc(n);
  FILE *f = fopen(argv[1], "rb"), *l = fopen(argv[3], "rb");
  if (fread(in, sizeof(float), (size_t)n * MODEL_INPUT_SIZE, f) !=
          (size_t)n * MODEL_INPUT_SIZE || fread(labels, 1, n, l) != (size_t)n)
    return 2;
  double t0 = now();
  for (int i = 0; i < single; ++i)
    model_predict(in + (size_t)i * MODEL_INPUT_SIZE,
                  out + (size_t)i * MODEL_OUTPUT_SIZE, 1);
  double t1 = now();
  int calls = 20000000 / (MODEL_INPUT_SIZE * 64) + 1;
  for (int i = 0; i < calls; ++i)
    model_predict(in, out, 64);
  double t64 = now();
  model_predict(in, out, n);
  double t2 = now();
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    int best = 0;
    for (int c = 1; c < MODEL_OUTPUT_SIZE; ++c)
      if (out[i * MODEL_OUTPUT_SIZE + c] > out[i * MODEL_OUTPUT_SIZE + best])
        best = c;
    correct += best == labels[i];
  }
  printf("{\"latency_us\": %.3f, \"batch64_us\": %.3f, \"samples_per_s\": %.1f, "
         "\"accuracy\": %.6f}\n", 1e6 * (t1 - t0) / single,
         1e6 * (t64 - t1) / calls, n / (t2 - t64), (double)correct / n);
  return 0;
}
"""


def run(cmd, cwd):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def host():
    model = platform.processor()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def timed(cmd, cwd):
    start = time.perf_counter()
    run(cmd, cwd)
    return time.perf_counter() - start


def library(d, kind, exe, images, runs):
    """Links d/kind/libmodel.a with the harness; medians of its runs."""
    run(["cc", "-O2", "-o", d / f"bench_{kind}", d / "bench.c", "-I", d / kind,
         d / kind / "libmodel.a", "-lm"], d)
    rs = [json.loads(run([d / f"bench_{kind}", d / "raw.f32", len(images),
                          d / "labels.u8", 2000], d)) for _ in range(runs)]
    return {"kib": (d / kind / "libmodel.a").stat().st_size / 1024,
            "latency_us": statistics.median(r["latency_us"] for r in rs),
            "batch64_us": statistics.median(r["batch64_us"] for r in rs),
            "samples_per_s": statistics.median(r["samples_per_s"] for r in rs),
            "accuracy": rs[0]["accuracy"]}


def measure(args, name, work):
    d = Path(work) / name
    d.mkdir()
    exe = d / "model"
    compile_s = statistics.median(
        timed([args.nnc, MODELS[name], "-I", ROOT / "examples", "-o", d / "plain",
               "--no-cache"], d)
        for _ in range(args.runs))
    compile_int8_s = statistics.median(
        timed([args.nnc, MODELS[name], "-I", ROOT / "examples", "-o", exe, "--int8",
               "--no-cache"], d)
        for _ in range(args.runs))
    run([exe, "train", "--epochs", 1, "--steps", args.steps, "--quiet",
         "--checkpoint-dir", d / "ck"], d)
    ck = d / "ck" / "last.safetensors"
    run([exe, "export", "--weights", ck, "-o", d / "f32"], d)
    out = run([exe, "export", "--weights", ck, "-o", d / "int8", "--int8",
               "--calibrate", 1000], d)
    printed = dict(re.findall(r"accuracy +([0-9.]+) +([0-9.]+)", out)[:1])
    (d / "bench.c").write_text(HARNESS)
    images = idx(FASHION / "t10k-images-idx3-ubyte.gz").astype(np.float32)
    images.tofile(d / "raw.f32")
    idx(FASHION / "t10k-labels-idx1-ubyte.gz").tofile(d / "labels.u8")
    libs = {kind: library(d, kind, exe, images, args.runs) for kind in ("f32", "int8")}
    ev = [json.loads(run([exe, "eval", "--json", "--threads", 1, "--weights", ck],
                         d).strip().splitlines()[-1]) for _ in range(args.runs)]
    return {"model": name, "export_int8": out.strip().splitlines(),
            "compile_s": compile_s, "compile_int8_s": compile_int8_s,
            "printed_accuracy": printed, **{k: v for k, v in libs.items()},
            "eval_samples_per_s": statistics.median(e["samples_per_s"] for e in ev),
            "eval_accuracy": ev[0]["accuracy"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnc", default=str(ROOT / "build" / "bin" / "nnc"))
    ap.add_argument("--models", default="mlp,spec_cnn",
                    type=lambda s: [m for m in s.split(",") if m])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "results"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        rows = [measure(args, m, work) for m in args.models]
    lines = ["| model | library | KiB | 1 sample (us) | 64 per call (us) | samples/s "
             "(10,000 from memory) | test accuracy |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        for kind in ("f32", "int8"):
            lib = r[kind]
            lines.append(f"| {r['model']} | {kind} | {lib['kib']:,.0f} | "
                         f"{lib['latency_us']:,.1f} | {lib['batch64_us']:,.1f} | "
                         f"{lib['samples_per_s']:,.0f} | {lib['accuracy']:.4f} |")
        f, q = r["f32"], r["int8"]
        lines.append(f"| {r['model']} | int8 / f32 | {q['kib'] / f['kib']:.2f}x | "
                     f"{f['latency_us'] / q['latency_us']:.2f}x faster | "
                     f"{f['batch64_us'] / q['batch64_us']:.2f}x faster | "
                     f"{q['samples_per_s'] / f['samples_per_s']:.2f}x | "
                     f"{q['accuracy'] - f['accuracy']:+.4f} |")
    lines += ["", "| model | `./model eval` samples/s | eval accuracy | compile (s) | "
              "compile with `--int8` (s) |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['eval_samples_per_s']:,.0f} | "
                     f"{r['eval_accuracy']:.4f} | {r['compile_s']:.1f} | "
                     f"{r['compile_int8_s']:.1f} |")
    lines += ["", f"One thread; {args.steps} training steps; medians of {args.runs} runs; "
              "the 10,000 Fashion-MNIST test images (raw pixels into the library, the "
              "preprocessing inside it); int8 calibrated on the first 1,000 training "
              "images. Host: " + host() + "."]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "export.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "export.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
