"""Shared helpers of the end-to-end test scripts: safetensors files written
and read by hand (the python safetensors package is not in Debian), and
running a command that must succeed."""
import json
import os
import struct
import subprocess
import sys

import numpy as np


def write_idx(path, magic, array, compress):
    """An IDX file of uint8 `array` (magic 0x803 images, 0x801 labels),
    gzip-compressed with `compress` (the runtime reads both)."""
    import gzip
    data = struct.pack(">I", magic) + b"".join(
        struct.pack(">I", d) for d in array.shape) + array.astype(np.uint8).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


def write_safetensors(path, tensors):
    """Writes {name: torch tensor}; int64 tensors as I64, the rest as F32."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().numpy()
        if a.dtype == np.int64:
            data, dtype = a.astype("<i8").tobytes(), "I64"
        else:
            data, dtype = a.astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors_typed(path):
    """{name: (dtype, array)} for the F32 and I64 tensors of a file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        dt = {"F32": "<f4", "I64": "<i8"}.get(e["dtype"])
        if dt:
            out[name] = (e["dtype"], np.frombuffer(raw[base + a:base + b], dtype=dt)
                         .reshape(e["shape"]))
    return out


def read_safetensors(path):
    """{name: array} for the F32 tensors of a file."""
    return {name: a for name, (dtype, a) in read_safetensors_typed(path).items()
            if dtype == "F32"}


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def expect_error(case, cmd, want, status=2, **kw):
    """Runs cmd (subprocess.run keywords in kw): it must exit `status` with
    `want` in its stderr."""
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != status or want not in r.stderr:
        sys.exit(f"FAIL {case}: {' '.join(map(str, cmd))}: exit {r.returncode}, "
                 f"stderr {r.stderr!r}")


def check_logged_losses(d, case, losses):
    """The epoch train losses in d/log.jsonl must equal PyTorch's `losses`."""
    logged = [json.loads(l) for l in open(os.path.join(d, "log.jsonl"))]
    logged_losses = [e["train_loss"] for e in logged if e["event"] == "epoch"]
    if not np.allclose(logged_losses, losses, rtol=1e-4, atol=1e-6):
        sys.exit(f"FAIL {case}: logged train losses {logged_losses} != PyTorch {losses}")


def train_epochs(net, opt, crit, xt, yt, epochs, batch):
    """PyTorch's side of a whole run: `epochs` passes over xt / yt in order
    (no shuffling), in batches of `batch` (the last one partial); returns
    each epoch's mean training loss, as nnc logs it."""
    losses = []
    n = len(xt)
    for _ in range(epochs):
        total = 0.0
        for s in range(0, n, batch):
            opt.zero_grad()
            loss = crit(net(xt[s:s + batch]), yt[s:s + batch])
            loss.backward()
            opt.step()
            total += loss.item() * len(xt[s:s + batch])
        losses.append(total / n)
    return losses


def check_checkpoint(d, case, state, opt, epochs, rtol=2e-4, atol=2e-5):
    """nnc's d/ck/last.safetensors must hold the PyTorch parameters `state`
    (name -> tensor) and `opt`'s state ("optimizer.<parameter>.<torch state
    name>"), the same names and values to float32 tolerance. Returns the
    number of tensors and the largest relative error."""
    import torch
    got = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    want = {n: t.detach().numpy() for n, t in state.items()}
    for n, t in state.items():
        for k, v in opt.state[t].items():
            if torch.is_tensor(v) and v.dim() > 0:
                want[f"optimizer.{n}.{k}"] = v.detach().numpy()
    if sorted(got) != sorted(want):
        sys.exit(f"FAIL {case}: nnc's checkpoint holds {sorted(got)}, "
                 f"PyTorch {sorted(want)}")
    worst = 0.0
    for n, w in want.items():
        worst = max(worst, float(np.max(np.abs(got[n] - w) / (np.abs(w) + 1e-3))))
        if not np.allclose(got[n], w, rtol=rtol, atol=atol):
            sys.exit(f"FAIL {case}: {n} differs from PyTorch after "
                     f"{epochs} epochs (max abs diff "
                     f"{np.max(np.abs(got[n] - w)):.3g})\nnnc:\n{got[n]}\ntorch:\n{w}")
    return len(got), worst


def run_cases(cases, check_case):
    """usage: SCRIPT WORKDIR [CASE ...]: check_case(workdir, name) for each
    named case (all of `cases` by default), then the closing count."""
    workdir = sys.argv[1]
    names = sys.argv[2:] or list(cases)
    os.makedirs(workdir, exist_ok=True)
    for name in names:
        check_case(workdir, name)
    print(f"{len(names)} passed, 0 failed")


def cosine_lr(step, lr, min_lr, warmup, steps):
    """nn.lr_schedule's cosine with warm-up at `step` of a run in steps (one
    schedule epoch per step)."""
    import math
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min((step - warmup) / max(steps - warmup, 1), 1.0)
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2


def token_windows(stream, block):
    """corpus(...)'s samples of a token stream: windows of `block` ids that do
    not overlap and their targets, the ids one position later (torch)."""
    import torch
    n = (len(stream) - 1) // block
    x = stream[:n * block].reshape(n, block)
    y = stream[1:n * block + 1].reshape(n, block)
    return torch.tensor(x), torch.tensor(y)


def compile_and_train(d, init="init.safetensors"):
    """Compiles d/model.nn to d/model and trains it from d/`init` (train
    --weights), checkpoints in d/ck, log in d/log.jsonl."""
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--weights", os.path.join(d, init),
         "--checkpoint-dir", os.path.join(d, "ck"), "--quiet",
         "--log", os.path.join(d, "log.jsonl")])
    return exe


def check_logged_periods(d, periods):
    """A run in steps: d/log.jsonl's evaluations must be PyTorch's
    `periods`, (step, mean train loss, validation loss, lr) each, and each
    perplexity exp(val_loss)."""
    import math
    logged = [json.loads(l) for l in open(os.path.join(d, "log.jsonl"))]
    epochs = [e for e in logged if e["event"] == "epoch"]
    got = [(e["step"], e["train_loss"], e["val_loss"], e["lr"]) for e in epochs]
    if [g[0] for g in got] != [p[0] for p in periods] or not np.allclose(
            [g[1:] for g in got], [p[1:] for p in periods], rtol=1e-4, atol=1e-6):
        sys.exit(f"FAIL: logged (step, train_loss, val_loss, lr) {got} != "
                 f"PyTorch {periods}")
    for e in epochs:
        if not math.isclose(e["perplexity"], math.exp(e["val_loss"]), rel_tol=1e-6):
            sys.exit(f"FAIL: perplexity {e['perplexity']} != exp(val_loss)")


def breast_cancer_mlp(d, examples, batch, optimizer, settings):
    """Writes d/breast_cancer.csv (examples/data's) and returns the source
    of a 30-32-16-1 MLP on it (binary cross entropy) whose train run has
    `optimizer` and the lines `settings` (length, prune, accumulate...)."""
    import shutil
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(examples, "data", "breast_cancer.csv"), d)
    return f"""
dataset patients {{
  train = csv("breast_cancer.csv", target = "label", header = true)
  preprocess {{ standardize }}
  batch = {batch}
}}
model tabular(features: f32[30]) -> f32[1] {{
  dense(32)
  relu
  dense(16)
  relu
  dense(1)
}}
train {{
  model = tabular
  data = patients
  loss = binary_cross_entropy
  optimizer = {optimizer}
{"".join("  " + line + chr(10) for line in settings)}}}
"""

