"""`./model export --int8 --calibrate N`: the int8 inference library (SPEC
2.12, issue 18) on Fashion-MNIST.

usage: export_int8_check.py WORKDIR EXAMPLES [CASE ...]

- mlp: SPEC 2.2's MLP (`nnc --int8`), trained 300 steps, exported in int8
  with 1,000 calibration samples. The f32 and int8 test accuracies export
  prints are within 1 point. The library, linked with `cc main.c
  libmodel.a -lm` and fed the 10,000 raw test images, scores the printed
  int8 accuracy and its probabilities equal a NumPy model of the same
  scheme (u8 activations over the first 1,000 training images' [min, max]
  of each layer's input, s8 weights per output channel, i32 sums); one
  sample at a time (the batch-1 code) gives what whole batches give. Its
  archive holds no f32 copy of the quantized weights (smaller than 40% of
  the f32 library).
- cnn: SPEC 2.3's CNN (conv2d + batchnorm folded, padding, pools),
  trained 200 steps, exported in int8: accuracies within 1 point, the
  library scores the printed int8 accuracy, one sample at a time as in
  bulk.
- errors: --int8 on a program compiled without it, --calibrate without
  --int8: usage errors naming the fix, nothing written.
- unscored: a regression whose dataset has neither test nor validation
  split is exported, and export says it scored nothing (not a table of
  zeros).
"""
import gzip
import os
import re
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import expect_error, read_safetensors, run, run_cases  # noqa: E402

NNC = shutil.which("nnc") or "nnc"
EXAMPLES = sys.argv.pop(2) if len(sys.argv) > 2 else "examples"
FASHION = "/usr/share/datasets/fashion-mnist"

MAIN_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

/* main RAW N LABELS OUT: the accuracy on N images; probabilities to OUT. */
int main(int argc, char **argv) {
  int n = atoi(argv[2]);
  float *in = malloc(sizeof(float) * (size_t)n * MODEL_INPUT_SIZE);
  float *out = malloc(sizeof(float) * (size_t)n * MODEL_OUTPUT_SIZE);
  unsigned char *labels = malloc(n);
  FILE *f = fopen(argv[1], "rb"), *l = fopen(argv[3], "rb");
  if (!f || !l ||
      fread(in, sizeof(float), (size_t)n * MODEL_INPUT_SIZE, f) !=
          (size_t)n * MODEL_INPUT_SIZE ||
      fread(labels, 1, n, l) != (size_t)n)
    return 2;
  if (model_predict(in, out, n) != 0)
    return 3;
  /* One sample at a time (the batch-1 code) gives the same. */
  float one[MODEL_OUTPUT_SIZE];
  for (int i = 0; i < 5; ++i) {
    if (model_predict(in + (size_t)i * MODEL_INPUT_SIZE, one, 1) != 0)
      return 4;
    for (int j = 0; j < MODEL_OUTPUT_SIZE; ++j) {
      float d = one[j] - out[i * MODEL_OUTPUT_SIZE + j];
      if (d > 1e-6f || d < -1e-6f)
        return 5;
    }
  }
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    int best = 0;
    for (int c = 1; c < MODEL_OUTPUT_SIZE; ++c)
      if (out[i * MODEL_OUTPUT_SIZE + c] > out[i * MODEL_OUTPUT_SIZE + best])
        best = c;
    correct += best == labels[i];
  }
  FILE *o = fopen(argv[4], "wb");
  fwrite(out, sizeof(float), (size_t)n * MODEL_OUTPUT_SIZE, o);
  fclose(o);
  printf("%.4f\n", (double)correct / n);
  return 0;
}
"""


def idx(name):
    with gzip.open(os.path.join(FASHION, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def train_and_export(case, d, source, steps, calibrate):
    """Compiles `source` with --int8, trains `steps`, exports f32 and int8;
    returns (f32 accuracy, int8 accuracy) as export printed them."""
    os.makedirs(d, exist_ok=True)
    exe = os.path.join(d, "model")
    run([NNC, source, "-o", exe, "--int8"])
    run([exe, "train", "--quiet", "--steps", str(steps), "--checkpoint-dir", "ck"],
        cwd=d)
    ck = os.path.join(d, "ck", "last.safetensors")
    run([exe, "export", "--weights", ck, "-o", "f32"], cwd=d)
    r = run([exe, "export", "--weights", ck, "-o", "int8", "--int8", "--calibrate",
             str(calibrate)], cwd=d)
    if f"calibrated on {calibrate} training samples; on the test split (10000" \
            not in r.stdout:
        sys.exit(f"FAIL {case}: export --int8 printed {r.stdout!r}")
    m = re.search(r"accuracy +([0-9.]+) +([0-9.]+)", r.stdout)
    if not m:
        sys.exit(f"FAIL {case}: no accuracies in {r.stdout!r}")
    f32, int8 = float(m.group(1)), float(m.group(2))
    if abs(f32 - int8) > 0.01:
        sys.exit(f"FAIL {case}: int8 accuracy {int8} is more than 1 point from "
                 f"f32 {f32}")
    return f32, int8


def run_library(case, d, images, labels, int8):
    """Links d/int8/libmodel.a, runs it on the raw test images; checks it
    scores `int8`; returns its probabilities."""
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write(MAIN_C)
    run(["cc", "-O2", "-o", os.path.join(d, "main"), os.path.join(d, "main.c"),
         "-I", os.path.join(d, "int8"), os.path.join(d, "int8", "libmodel.a"), "-lm"])
    images.reshape(len(images), -1).astype(np.float32).tofile(os.path.join(d, "raw.f32"))
    labels.tofile(os.path.join(d, "labels.u8"))
    r = run([os.path.join(d, "main"), os.path.join(d, "raw.f32"), str(len(images)),
             os.path.join(d, "labels.u8"), os.path.join(d, "probs.f32")])
    if abs(float(r.stdout) - int8) > 1e-4:
        sys.exit(f"FAIL {case}: the library scores {r.stdout.strip()}, export "
                 f"printed int8 accuracy {int8}")
    return np.fromfile(os.path.join(d, "probs.f32"), np.float32).reshape(len(images), -1)


def reference_mlp(ck, train, test, calibrate):
    """SPEC 2.2's MLP in int8 as nn-quantize defines it, in NumPy: f32
    activations of the first `calibrate` training images give each dense
    layer's input range [min(lo, 0), max(hi, 0)] -> s = range / 255, z =
    round(-lo / s); weights per output row sw = max|w| / 127, q = round(w /
    sw); y = (sum q_x q_w - z sum q_w) s sw + b."""
    w = read_safetensors(ck)
    layers = [(w["dense_0.weight"], w["dense_0.bias"]), (w["dense_1.weight"],
                                                          w["dense_1.bias"])]

    def pre(raw):
        return ((raw.reshape(len(raw), -1).astype(np.float32) / 255 - 0.2860) /
                0.3530).astype(np.float32)

    x = pre(train[:calibrate])
    ranges = []
    for i, (wt, b) in enumerate(layers):
        ranges.append((min(float(x.min()), 0.0), max(float(x.max()), 0.0)))
        x = x @ wt.T + b
        if i == 0:
            x = np.maximum(x, 0)
    x = pre(test)
    for i, ((wt, b), (lo, hi)) in enumerate(zip(layers, ranges)):
        s = np.float32((hi - lo) / 255)
        z = np.clip(np.rint(-lo / s), 0, 255)
        qx = np.clip(np.rint(x * (np.float32(1) / s)) + z, 0, 255).astype(np.int64)
        sw = np.abs(wt).max(axis=1) / np.float32(127)
        qw = np.clip(np.rint(wt / sw[:, None]), -127, 127).astype(np.int64)
        acc = qx @ qw.T - z * qw.sum(axis=1)
        x = (acc * (s * sw) + b).astype(np.float32)
        if i == 0:
            x = np.maximum(x, 0)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def archive_members(path):
    return {line.strip() for line in run(["ar", "t", path]).stdout.splitlines()}


def check_mlp(root):
    d = os.path.join(root, "mlp")
    f32, int8 = train_and_export("mlp", d, os.path.join(EXAMPLES, "fashion_mlp.nn"),
                                 300, 1000)
    images, labels = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
    got = run_library("mlp", d, images, labels, int8)
    want = reference_mlp(os.path.join(d, "ck", "last.safetensors"),
                         idx("train-images-idx3-ubyte.gz"), images, 1000)
    diff = np.abs(got - want).max()
    agree = np.mean(got.argmax(axis=1) == want.argmax(axis=1))
    # Ties of round() may fall either way between the two float orders: a
    # few activations one level apart, nothing more.
    if diff > 5e-3 or agree < 0.999 or np.mean(np.abs(got - want) > 1e-4) > 1e-3:
        sys.exit(f"FAIL mlp: the library's probabilities differ from the NumPy "
                 f"model (max {diff:.3g}, argmax agreement {agree:.4f})")
    members = archive_members(os.path.join(d, "int8", "libmodel.a"))
    if members != {"model.o", "model_1.o", "weights.o", "qf.o", "qi8.o"}:
        sys.exit(f"FAIL mlp: libmodel.a holds {sorted(members)}")
    sizes = [os.path.getsize(os.path.join(d, k, "libmodel.a")) for k in ("f32", "int8")]
    if sizes[1] > 0.4 * sizes[0]:
        sys.exit(f"FAIL mlp: the int8 library ({sizes[1]} bytes) is not below 40% "
                 f"of the f32 one ({sizes[0]})")
    print(f"ok mlp: int8 within 1 point of f32, the library equals a NumPy "
          f"model of the scheme ({len(images)} images)")


def check_cnn(root):
    d = os.path.join(root, "cnn")
    f32, int8 = train_and_export("cnn", d, os.path.join(EXAMPLES, "fashion_cnn.nn"),
                                 200, 500)
    run_library("cnn", d, idx("t10k-images-idx3-ubyte.gz"),
                idx("t10k-labels-idx1-ubyte.gz"), int8)
    print("ok cnn: int8 within 1 point of f32, the library scores it")


def check_errors(root):
    d = os.path.join(root, "errors")
    os.makedirs(d, exist_ok=True)
    exe = os.path.join(d, "model")
    run([NNC, os.path.join(EXAMPLES, "fashion_mlp.nn"), "-o", exe])
    run([exe, "train", "--quiet", "--steps", "2", "--checkpoint-dir", "ck"], cwd=d)
    ck = os.path.join("ck", "last.safetensors")
    expect_error("errors", [exe, "export", "--weights", ck, "-o", "lib", "--int8"],
                 "error: export --int8: this program has no int8 inference library; "
                 "compile it with 'nnc FILE.nn -o PROGRAM --int8'", cwd=d)
    expect_error("errors", [exe, "export", "--weights", ck, "-o", "lib", "--calibrate",
                            "10"],
                 "error: export: --calibrate N goes with --int8", cwd=d)
    if os.path.exists(os.path.join(d, "lib")):
        sys.exit("FAIL errors: a refused export wrote its folder")
    print("ok errors: --int8 needs nnc --int8; --calibrate needs --int8")


def check_unscored(root):
    d = os.path.join(root, "unscored")
    os.makedirs(d, exist_ok=True)
    exe = os.path.join(d, "model")
    run([NNC, os.path.join(EXAMPLES, "linear_regression.nn"), "-o", exe, "--int8"])
    run([exe, "train", "--quiet", "--checkpoint-dir", "ck"], cwd=d)
    r = run([exe, "export", "--weights", os.path.join("ck", "last.safetensors"), "-o",
             "lib", "--int8", "--calibrate", "100"], cwd=d)
    want = ("calibrated on 100 training samples; dataset 'points' has no test or "
            "validation split to score the int8 model on")
    if want not in r.stdout or not os.path.exists(os.path.join(d, "lib", "libmodel.a")):
        sys.exit(f"FAIL unscored: export --int8 printed {r.stdout!r}")
    print("ok unscored: a dataset without test or validation split: exported, "
          "not scored")


CASES = {"mlp": check_mlp, "cnn": check_cnn, "errors": check_errors,
         "unscored": check_unscored}
run_cases(CASES, lambda root, case: CASES[case](root))
