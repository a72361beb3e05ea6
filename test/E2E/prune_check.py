"""Gradual magnitude pruning (`prune = magnitude(...)`, SPEC 2.12).

usage: prune_check.py WORKDIR EXAMPLES [CASE ...]

masks: an MLP on the breast-cancer CSV whose weights do not move (SGD at a
learning rate of 1e-30: every update is below the weights' last bit)
starts from weights written here and prunes over epochs 1..3 to 60%. After
E epochs each weight must hold exactly round(k) zeros, k = 0.6 (1 - (1 -
E/3)^3) n (Zhu & Gupta's cubic schedule, Python's round), at the k smallest
magnitudes of the starting weight (torch.argsort), the rest unchanged;
the mask buffer `<weight>_mask` is 0 there and 1 elsewhere; biases untouched.

resume: the same MLP trained by Adam, pruning over epochs 2..3 to 50%:
two epochs, then `--resume --epochs 4`, must end where four epochs in one
run end (bit for bit: the masks come back from the checkpoint), with the
weights pruned after epoch 2 still zero, the final sparsity exact and every
masked weight zero.

finetune: a finetune with `prune` from a dense checkpoint (no masks in
it: nothing pruned at first) and `freeze` on one layer: the frozen weight
ends pruned to 50% with its kept values the pretrained ones.

fashion: the Fashion-MNIST MLP (examples/fashion_mlp.nn) pruned to 50%
over epochs 2..4 of its 5 reaches a test accuracy within 1 point of the
dense model's.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import (breast_cancer_mlp, read_safetensors, run, run_cases,  # noqa: E402
                      write_safetensors)

NNC = shutil.which("nnc") or "nnc"
EXAMPLES = sys.argv.pop(2) if len(sys.argv) > 2 else "examples"

WEIGHTS = ["dense_0.weight", "dense_1.weight", "dense_2.weight"]


def compile_mlp(d, optimizer, prune):
    source = breast_cancer_mlp(d, EXAMPLES, 32, optimizer,
                               ["epochs = 4", f"prune = {prune}"])
    with open(os.path.join(d, "mlp.nn"), "w") as f:
        f.write(source)
    run([NNC, os.path.join(d, "mlp.nn"), "-o", os.path.join(d, "mlp")])
    return os.path.join(d, "mlp")


def schedule_k(sparsity, start, end, epoch, n):
    p = min(max((epoch - start + 1) / (end - start + 1), 0.0), 1.0)
    return round(sparsity * (1 - (1 - p) ** 3) * n)


def check_masks(root):
    d = os.path.join(root, "masks")
    exe = compile_mlp(d, "sgd(lr = 1e-30)",
                      "magnitude(sparsity = 0.6, start = 1, end = 3)")
    torch.manual_seed(0)
    init = {"dense_0.weight": torch.randn(32, 30), "dense_0.bias": torch.randn(32),
            "dense_1.weight": torch.randn(16, 32), "dense_1.bias": torch.randn(16),
            "dense_2.weight": torch.randn(1, 16), "dense_2.bias": torch.randn(1)}
    write_safetensors(os.path.join(d, "init.safetensors"), init)
    for epochs in (1, 2, 3, 4):
        ck = os.path.join(d, f"ck{epochs}")
        run([exe, "train", "--quiet", "--weights", os.path.join(d, "init.safetensors"),
             "--epochs", str(epochs), "--checkpoint-dir", ck], cwd=d)
        got = read_safetensors(os.path.join(ck, "last.safetensors"))
        for name in WEIGHTS:
            w0 = init[name].numpy()
            k = schedule_k(0.6, 1, 3, epochs, w0.size)
            want = w0.copy().reshape(-1)
            want[torch.argsort(init[name].abs().reshape(-1))[:k].numpy()] = 0
            want = want.reshape(w0.shape)
            if not np.array_equal(got[name], want):
                sys.exit(f"FAIL masks: {name} after {epochs} epochs is not the "
                         f"starting weight with its {k} smallest magnitudes zeroed "
                         f"({int(np.sum(got[name] == 0))} zeros)")
            if not np.array_equal(got[name + "_mask"], (want != 0).astype(np.float32)):
                sys.exit(f"FAIL masks: {name}_mask after {epochs} epochs")
        for name in ("dense_0.bias", "dense_1.bias", "dense_2.bias"):
            if not np.array_equal(got[name], init[name].numpy()):
                sys.exit(f"FAIL masks: {name} changed")
    print("ok masks: the k smallest magnitudes of each weight pruned after "
          "epochs 1-4 (k by the cubic schedule)")


def check_resume(root):
    d = os.path.join(root, "resume")
    exe = compile_mlp(d, "adam(lr = 0.01)",
                      "magnitude(sparsity = 0.5, start = 2, end = 3)")
    run([exe, "train", "--quiet", "--epochs", "2", "--checkpoint-dir", "half"], cwd=d)
    run([exe, "train", "--quiet", "--checkpoint-dir", "half", "--resume",
         os.path.join(d, "half", "last.safetensors"), "--epochs", "4"], cwd=d)
    run([exe, "train", "--quiet", "--epochs", "4", "--checkpoint-dir", "whole"], cwd=d)
    resumed = read_safetensors(os.path.join(d, "half", "last.safetensors"))
    whole = read_safetensors(os.path.join(d, "whole", "last.safetensors"))
    for name, a in whole.items():
        if not np.array_equal(a, resumed[name]):
            sys.exit(f"FAIL resume: {name} after 2 + 2 epochs differs from 4 epochs")
    # The run of 4 epochs kept the pruning of epoch 2 (its log has both).
    two = os.path.join(d, "two")
    run([exe, "train", "--quiet", "--epochs", "2", "--checkpoint-dir", two], cwd=d)
    early = read_safetensors(os.path.join(two, "last.safetensors"))
    for name in WEIGHTS:
        w, m = whole[name], whole[name + "_mask"]
        k = schedule_k(0.5, 2, 3, 3, w.size)
        if int(np.sum(m == 0)) != k or np.any(w[m == 0] != 0):
            sys.exit(f"FAIL resume: {name} has {int(np.sum(m == 0))} masked, "
                     f"{int(np.sum(w == 0))} zero weights; want {k}")
        pruned2 = early[name] == 0
        if int(np.sum(pruned2)) != schedule_k(0.5, 2, 3, 2, w.size):
            sys.exit(f"FAIL resume: {name} after epoch 2 has {int(np.sum(pruned2))} zeros")
        if np.any(w[pruned2] != 0):
            sys.exit(f"FAIL resume: {name}: weights pruned after epoch 2 came back")
    print("ok resume: 2 + 2 epochs equal 4; pruned weights stay zero")


FINETUNE = """
finetune sparse {
  model = tabular
  from = "pre/last.safetensors"
  data = patients
  optimizer = adam(lr = 0.01)
  freeze = [body]
  epochs = 3
  prune = magnitude(sparsity = 0.5, end = 2)
}
"""


def check_finetune(root):
    d = os.path.join(root, "finetune")
    compile_mlp(d, "adam(lr = 0.01)", "magnitude(sparsity = 0.5, start = 2, end = 3)")
    source = open(os.path.join(d, "mlp.nn")).read()
    source = source.replace("  prune = magnitude(sparsity = 0.5, start = 2, end = 3)\n", "")
    source = source.replace("  dense(32)", "  body: dense(32)") + FINETUNE
    with open(os.path.join(d, "ft.nn"), "w") as f:
        f.write(source)
    pre, ft = os.path.join(d, "dense"), os.path.join(d, "ft")
    run([NNC, ft + ".nn", "--train", "tabular", "-o", pre])
    run([pre, "train", "--quiet", "--epochs", "1", "--checkpoint-dir", "pre"], cwd=d)
    run([NNC, ft + ".nn", "--train", "sparse", "-o", ft])
    out = run([ft, "train", "--checkpoint-dir", "ck"], cwd=d).stdout
    if "freshly initialized 3: body.weight_mask" not in out:
        sys.exit(f"FAIL finetune: the masks should start fresh:\n{out}")
    w0 = read_safetensors(os.path.join(d, "pre", "last.safetensors"))["body.weight"]
    got = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    w = got["body.weight"]
    kept = got["body.weight_mask"] != 0
    if int(np.sum(~kept)) != round(0.5 * w.size) or not np.array_equal(w[kept], w0[kept]) \
            or np.any(w[~kept] != 0):
        sys.exit("FAIL finetune: the frozen body.weight is not its pretrained values "
                 "with half of them pruned")
    print("ok finetune: from a dense checkpoint, a frozen layer pruned to 50%")


def check_fashion(root):
    d = os.path.join(root, "fashion")
    os.makedirs(d, exist_ok=True)
    source = open(os.path.join(EXAMPLES, "fashion_mlp.nn")).read()
    if "  epochs = 5\n" not in source:
        sys.exit("FAIL fashion: 'epochs = 5' not in examples/fashion_mlp.nn")
    accuracy = {}
    for name, extra in (("dense", ""),
                        ("sparse", "  prune = magnitude(sparsity = 0.5, start = 2, end = 4)\n")):
        with open(os.path.join(d, name + ".nn"), "w") as f:
            f.write(source.replace("  epochs = 5\n", "  epochs = 5\n" + extra))
        exe = os.path.join(d, name)
        run([NNC, exe + ".nn", "-o", exe])
        ck = os.path.join(d, "ck-" + name)
        run([exe, "train", "--quiet", "--checkpoint-dir", ck], cwd=d)
        out = run([exe, "eval", "--json", "--weights", os.path.join(ck, "last.safetensors")],
                  cwd=d).stdout
        accuracy[name] = json.loads(out.strip().splitlines()[-1])["accuracy"]
    w = read_safetensors(os.path.join(d, "ck-sparse", "last.safetensors"))
    for name in ("dense_0.weight", "dense_1.weight"):
        if int(np.sum(w[name] == 0)) != round(0.5 * w[name].size):
            sys.exit(f"FAIL fashion: {name} is {np.mean(w[name] == 0):.4f} sparse")
    if accuracy["sparse"] < accuracy["dense"] - 0.01:
        sys.exit(f"FAIL fashion: 50% sparse accuracy {accuracy['sparse']:.4f} is more "
                 f"than a point below the dense {accuracy['dense']:.4f}")
    print(f"ok fashion: 50% sparse test accuracy {accuracy['sparse']:.4f}, dense "
          f"{accuracy['dense']:.4f}")


CASES = {"masks": check_masks, "resume": check_resume, "finetune": check_finetune,
         "fashion": check_fashion}
run_cases(CASES, lambda root, case: CASES[case](root))
