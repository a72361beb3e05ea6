#!/usr/bin/env python3
"""The inference library of `./model export` (issue 18): size, speed and
accuracy against the program it came from.

  export.py --nnc BUILD/bin/nnc [--models mlp,spec_cnn] [--steps N] [--runs 3]
            [--out bench/results]

Each model (examples/fashion_mlp.nn; examples/fashion_cnn.nn, SPEC 2.3's CNN
with batchnorm, which the library folds) is trained `--steps N` on
Fashion-MNIST, exported, and linked by `cc -O2 bench.c libmodel.a -lm`. The C
harness reads the 10,000 test images as raw pixel values and times
model_predict on one sample at a time (latency) and on all of them in one
call (throughput: whole batches of the compiled size), one thread, and
counts the correct top classes. Beside it: `./model eval --threads 1` on the
test split (samples/s, accuracy) and the library's size. Medians of --runs.
"""
import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import tempfile
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
  printf("{\"latency_us\": %.3f, \"samples_per_s\": %.1f, \"accuracy\": %.6f}\n",
         1e6 * (t1 - t0) / single, n / (t2 - t1), (double)correct / n);
  return 0;
}
"""


def run(cmd, cwd):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def measure(args, name, work):
    d = Path(work) / name
    d.mkdir()
    exe = d / "model"
    run([args.nnc, MODELS[name], "-I", ROOT / "examples", "-o", exe], d)
    run([exe, "train", "--epochs", 1, "--steps", args.steps, "--quiet",
         "--checkpoint-dir", d / "ck"], d)
    out = run([exe, "export", "--weights", d / "ck" / "last.safetensors", "-o", d / "lib"], d)
    (d / "bench.c").write_text(HARNESS)
    run(["cc", "-O2", "-o", d / "bench", d / "bench.c", "-I", d / "lib",
         d / "lib" / "libmodel.a", "-lm"], d)
    images = idx(FASHION / "t10k-images-idx3-ubyte.gz").astype(np.float32)
    images.tofile(d / "raw.f32")
    idx(FASHION / "t10k-labels-idx1-ubyte.gz").tofile(d / "labels.u8")
    lib, ev = [], []
    for _ in range(args.runs):
        lib.append(json.loads(run([d / "bench", d / "raw.f32", len(images),
                                   d / "labels.u8", 2000], d)))
        ev.append(json.loads(run([exe, "eval", "--json", "--threads", 1, "--weights",
                                  d / "ck" / "last.safetensors"], d).strip().splitlines()[-1]))
    size = (d / "lib" / "libmodel.a").stat().st_size
    return {"model": name, "export": out.strip().splitlines()[0],
            "library_kib": size / 1024,
            "latency_us": statistics.median(r["latency_us"] for r in lib),
            "library_samples_per_s": statistics.median(r["samples_per_s"] for r in lib),
            "library_accuracy": lib[0]["accuracy"],
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
    lines = ["| model | library KiB | latency, 1 sample (us) | library samples/s | "
             "`./model eval` samples/s | library accuracy | eval accuracy |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['library_kib']:,.0f} | {r['latency_us']:,.1f} | "
                     f"{r['library_samples_per_s']:,.0f} | {r['eval_samples_per_s']:,.0f} | "
                     f"{r['library_accuracy']:.4f} | {r['eval_accuracy']:.4f} |")
    lines += ["", f"One thread; {args.steps} training steps; medians of {args.runs} runs; "
              "the 10,000 Fashion-MNIST test images (raw pixels into the library, the "
              "preprocessing inside it)."]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "export.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "export.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
