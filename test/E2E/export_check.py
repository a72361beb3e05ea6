"""`./model export`: the inference library (SPEC 2.12, issue 18).

usage: export_check.py WORKDIR EXAMPLES [CASE ...]

Each case trains a small model, exports it (libmodel.a, model.h), links a C
program against the library with `cc main.c libmodel.a -lm` (no nnc runtime,
no oneTBB: the link would fail otherwise), feeds it the raw features that
`./model predict` reads, and compares its outputs with predict's to float32
tolerance (and one sample at a time, through the batch-1 code, as all at
once); the library defines only model_predict, its two entry points and the
weights, and its internal functions are named after their object's entry
point (no two alike):
- cnn: conv2d (no bias) + batchnorm, dense + batchnorm, both folded; images
  scaled and normalized inside; 37 images (batches of 16: a padded tail).
- tabular: the breast-cancer MLP with standardize (per-feature statistics)
  and a batchnorm after a dense layer with a bias; binary probabilities.
- errors: clip preprocessing is not a scale and shift: a usage error, and
  nothing written.
"""
import csv
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import expect_error, run, run_cases, write_idx  # noqa: E402

NNC = shutil.which("nnc") or "nnc"
EXAMPLES = sys.argv.pop(2) if len(sys.argv) > 2 else "examples"

MAIN_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

int main(int argc, char **argv) {
  int n = atoi(argv[2]);
  float *in = malloc(sizeof(float) * (size_t)n * MODEL_INPUT_SIZE);
  float *out = malloc(sizeof(float) * (size_t)n * MODEL_OUTPUT_SIZE);
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(in, sizeof(float), (size_t)n * MODEL_INPUT_SIZE, f) !=
                (size_t)n * MODEL_INPUT_SIZE)
    return 2;
  if (model_predict(in, out, n) != 0 || model_predict(in, out, -1) != 1)
    return 3;
  /* One sample at a time (the batch-1 code) gives the same. */
  float one[MODEL_OUTPUT_SIZE];
  for (int i = 0; i < n && i < 5; ++i) {
    if (model_predict(in + (size_t)i * MODEL_INPUT_SIZE, one, 1) != 0)
      return 4;
    for (int j = 0; j < MODEL_OUTPUT_SIZE; ++j) {
      float d = one[j] - out[i * MODEL_OUTPUT_SIZE + j];
      if (d > 1e-5f || d < -1e-5f)
        return 5;
    }
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < MODEL_OUTPUT_SIZE; ++j)
      printf("%.9g%c", out[i * MODEL_OUTPUT_SIZE + j],
             j + 1 < MODEL_OUTPUT_SIZE ? ',' : '\n');
#ifdef MODEL_NUM_CLASSES
  fprintf(stderr, "classes %d: %s .. %s\n", MODEL_NUM_CLASSES,
          model_class_names[0], model_class_names[MODEL_NUM_CLASSES - 1]);
#endif
  return 0;
}
"""


def export_and_compare(case, d, exe, raw, predictions, columns):
    """Exports d/ck/last.safetensors, links main.c, runs it on `raw` (n x
    features float32) and compares with predict's CSV columns."""
    r = run([exe, "export", "--weights", os.path.join(d, "ck", "last.safetensors"),
             "-o", os.path.join(d, "lib")], cwd=d)
    if "exported" not in r.stdout:
        sys.exit(f"FAIL {case}: export printed {r.stdout!r}")
    lib = os.path.join(d, "lib", "libmodel.a")
    symbols = {line.split()[-1] for line in
               run(["nm", "-g", "--defined-only", lib]).stdout.splitlines()
               if len(line.split()) == 3}
    if symbols != {"model_predict", "nnc_infer", "nnc_infer_1", "nnc_model_weights"}:
        sys.exit(f"FAIL {case}: libmodel.a defines {sorted(symbols)}")
    # Its objects' internal functions (kernels) are named apart, each after
    # its object's entry point, so that a profile of the user's program
    # tells them apart.
    local = [line.split()[-1] for line in
             run(["nm", "--defined-only", lib]).stdout.splitlines()
             if len(line.split()) == 3 and line.split()[1] == "t"]
    if not local or len(set(local)) != len(local) or not all(
            name.startswith(("nnc_infer.", "nnc_infer_1.")) for name in local):
        sys.exit(f"FAIL {case}: libmodel.a's internal functions: {sorted(local)}")
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write(MAIN_C)
    run(["cc", "-O2", "-o", os.path.join(d, "main"), os.path.join(d, "main.c"),
         "-I", os.path.join(d, "lib"), os.path.join(d, "lib", "libmodel.a"), "-lm"])
    raw.astype(np.float32).tofile(os.path.join(d, "raw.f32"))
    r = run([os.path.join(d, "main"), os.path.join(d, "raw.f32"), str(len(raw))])
    got = np.array([[float(v) for v in line.split(",")] for line in r.stdout.split()])
    with open(predictions) as f:
        rows = list(csv.DictReader(f))
    want = np.array([[float(row[c]) for c in columns] for row in rows])
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
        diff = np.max(np.abs(got - want)) if got.shape == want.shape else got.shape
        sys.exit(f"FAIL {case}: the library's outputs differ from predict's ({diff})")
    return len(rows), r.stderr.strip()


def check_cnn(root, case="cnn", flags=()):
    d = os.path.join(root, case)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(18)
    images = rng.integers(0, 256, size=(90, 12, 12), dtype=np.uint8)
    write_idx(os.path.join(d, "images.idx.gz"), 0x803, images, True)
    write_idx(os.path.join(d, "labels.idx"), 0x801,
              rng.integers(0, 3, size=90, dtype=np.uint8), False)
    write_idx(os.path.join(d, "new.idx"), 0x803, images[:37], False)
    with open(os.path.join(d, "cnn.nn"), "w") as f:
        f.write("""
dataset data {
  train = idx("images.idx.gz", "labels.idx")
  preprocess {
    scale(1 / 255)
    normalize(mean = 0.5, std = 0.25)
  }
  batch = 16
  shuffle = true
}
model net(image: f32[1, 12, 12]) -> f32[3] {
  c1: conv2d(4, 3, padding = same, bias = false)
  bn1: batchnorm
  relu
  maxpool(2)
  flatten
  fc: dense(8)
  bn2: batchnorm
  relu
  head: dense(3)
}
train {
  model = net
  data = data
  loss = cross_entropy
  optimizer = adam(lr = 0.01)
  epochs = 3
  checkpoint = "ck"
}
""")
    exe = os.path.join(d, "cnn")
    run([NNC, exe + ".nn", "-o", exe, *flags])
    run([exe, "train", "--quiet"], cwd=d)
    run([exe, "predict", "--weights", "ck/last.safetensors", "--input", "new.idx",
         "--output", "predictions.csv"], cwd=d)
    n, classes = export_and_compare(case, d, exe,
                                    images[:37].reshape(37, -1).astype(np.float32),
                                    os.path.join(d, "predictions.csv"),
                                    ["prob_0", "prob_1", "prob_2"])
    if classes != "classes 3: 0 .. 2":
        sys.exit(f"FAIL {case}: model.h's class names: {classes!r}")
    print(f"ok {case}: the library's probabilities equal predict's ({n} images, "
          f"2 batchnorms folded)")


def check_cnn_layers(root):
    """The same with layer functions (nnc's decision for large models),
    in the library's forward pass as in the program's."""
    check_cnn(root, "cnn-layers", ["--layer-functions-min-ops=0"])


def tabular_program(d, name, data_lines, body, epochs):
    """The breast-cancer CSV in d, a program `name` of a [30] -> [1] model
    `body` (binary cross entropy, Adam) whose dataset has `data_lines`
    (cleaning, preprocessing), compiled and trained into d/ck."""
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(EXAMPLES, "data", "breast_cancer.csv"), d)
    with open(os.path.join(d, name + ".nn"), "w") as f:
        f.write(f"""
dataset patients {{
  train = csv("breast_cancer.csv", target = "label", header = true)
{data_lines}
  batch = 32
}}
model tabular(features: f32[30]) -> f32[1] {{
{body}
}}
train {{
  model = tabular
  data = patients
  loss = binary_cross_entropy
  optimizer = adam(lr = 0.01)
  epochs = {epochs}
  checkpoint = "ck"
}}
""")
    exe = os.path.join(d, name)
    run([NNC, exe + ".nn", "-o", exe])
    run([exe, "train", "--quiet"], cwd=d)
    return exe


def check_tabular(root):
    d = os.path.join(root, "tabular")
    exe = tabular_program(d, "mlp", "  preprocess { standardize }",
                          "  dense(16)\n  batchnorm\n  relu\n  dense(1)", 2)
    run([exe, "predict", "--weights", "ck/last.safetensors", "--input",
         "breast_cancer.csv", "--output", "predictions.csv"], cwd=d)
    with open(os.path.join(d, "breast_cancer.csv")) as f:
        rows = list(csv.DictReader(f))
    features = [k for k in rows[0] if k != "label"]
    raw = np.array([[float(r[k]) for k in features] for r in rows])
    n, _ = export_and_compare("tabular", d, exe, raw,
                              os.path.join(d, "predictions.csv"), ["probability"])
    print(f"ok tabular: the library's probabilities equal predict's ({n} rows, "
          f"standardize inside)")


def check_errors(root):
    d = os.path.join(root, "errors")
    exe = tabular_program(d, "clip", "  clean { clip(-1, 1) }\n  preprocess { standardize }",
                          "  dense(1)", 1)
    expect_error("errors", [exe, "export", "--weights", "ck/last.safetensors", "-o", "lib"],
                 "error: export: the preprocessing of run 'tabular' (standardize "
                 "clip(-1, 1)) is not a scale and shift per feature", cwd=d)
    if os.path.exists(os.path.join(d, "lib")):
        sys.exit("FAIL errors: a refused export wrote its folder")
    print("ok errors: clip preprocessing is not exported")


CASES = {"cnn": check_cnn, "cnn-layers": check_cnn_layers,
         "tabular": check_tabular, "errors": check_errors}
run_cases(CASES, lambda root, case: CASES[case](root))
