"""Gradient accumulation (`accumulate = k`, `--accumulate k`; issue 16).

usage: accumulate_check.py WORKDIR EXAMPLES [CASE ...]

An MLP on the breast-cancer CSV (569 rows, shuffled, Adam): batches of 8
with accumulate = 4 must train to the parameters and optimizer state of
batches of 32 (the last group of an epoch, 8 + 8 + 8 + 1 rows, to its last
batch of 25), to float32 tolerance, as must `--batch 4 --accumulate 8`:
each batch's gradients are weighted by its rows and the sum divided by the
group's rows, so one step equals a step on all those rows. `epochs`: a run
in epochs; `steps`: a run of 40 steps (groups read on across epoch ends);
`usage`: --accumulate on a program compiled without it is a usage error.
"""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import (breast_cancer_mlp, expect_error, read_safetensors,  # noqa: E402
                      run, run_cases)

NNC = shutil.which("nnc") or "nnc"
EXAMPLES = sys.argv.pop(2) if len(sys.argv) > 2 else "examples"

def program(d, name, batch, length, accumulate):
    settings = length + ([f"accumulate = {accumulate}"] if accumulate else [])
    source = breast_cancer_mlp(d, EXAMPLES, batch, "adam(lr = 0.01)", settings)
    with open(os.path.join(d, name + ".nn"), "w") as f:
        f.write(source)
    exe = os.path.join(d, name)
    run([NNC, exe + ".nn", "-o", exe])
    return exe


def compare(case, d, length):
    big = program(d, "big", 32, length, 0)
    acc = program(d, "acc", 8, length, 4)
    run([big, "train", "--quiet", "--checkpoint-dir", "ck-big"], cwd=d)
    run([acc, "train", "--quiet", "--checkpoint-dir", "ck-acc"], cwd=d)
    run([acc, "train", "--quiet", "--batch", "4", "--accumulate", "8",
         "--checkpoint-dir", "ck-acc8"], cwd=d)
    want = read_safetensors(os.path.join(d, "ck-big", "last.safetensors"))
    for ck in ("ck-acc", "ck-acc8"):
        got = read_safetensors(os.path.join(d, ck, "last.safetensors"))
        if sorted(got) != sorted(want):
            sys.exit(f"FAIL {case}: {ck} holds {sorted(got)}, batch 32 {sorted(want)}")
        for name, w in want.items():
            if not np.allclose(got[name], w, rtol=1e-5, atol=1e-6):
                sys.exit(f"FAIL {case}: {name} of {ck} differs from batch 32 "
                         f"(max abs diff {np.max(np.abs(got[name] - w)):.3g})")
    print(f"ok {case}: batch 8 x 4 and 4 x 8 train as batch 32 ({len(want)} tensors)")


def check_usage(root):
    d = os.path.join(root, "usage")
    big = program(d, "big", 32, ["epochs = 1"], 0)
    expect_error("usage", [big, "train", "--quiet", "--accumulate", "2"],
                 "error: --accumulate 2: this program was compiled without gradient "
                 "accumulation; add 'accumulate = 2' to run 'tabular' and recompile",
                 cwd=d)
    print("ok usage: --accumulate needs accumulate = k in the file")


CASES = {
    "epochs": lambda root: compare("epochs", os.path.join(root, "epochs"), ["epochs = 2"]),
    "steps": lambda root: compare("steps", os.path.join(root, "steps"),
                                  ["steps = 40", "eval_every = 20"]),
    "usage": check_usage,
}
run_cases(CASES, lambda root, case: CASES[case](root))
