#!/usr/bin/python3
"""precision = bf16 against torch.autocast("cpu", torch.bfloat16).

corpus_parity's language model, data and 13 AdamW steps, once in f32 and
once with `precision = bf16`: nnc rounds the operands of every matrix
product (forward and gradients) to bf16 and accumulates in f32; master
weights, optimizer state, the loss and everything else stay f32. PyTorch
trains the same model from the same weights under autocast, whose linear
layers take bf16 inputs (and also round their outputs to bf16, which nnc
does not). The logged training and validation losses of the bf16 run must
follow autocast's to within 1% (bf16 keeps 8 bits of mantissa; measured
1e-4 here, as close as nnc's f32 run: this small model's losses hardly
feel the rounding), and differ from nnc's own f32 run (the rounding is
applied; test/Numerics/bf16.test checks it bit for bit).

usage: bf16_parity.py WORKDIR
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_parity import (BATCH, EVAL_EVERY, LR, STEPS, V, WD, Net, lr_at,  # noqa: E402
                           model_source, windows, write_corpus)
from e2e_util import run, write_safetensors  # noqa: E402


def logged(path):
    return [(e["train_loss"], e["val_loss"]) for e in map(json.loads, open(path))
            if e["event"] == "epoch"]


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    stream = write_corpus(d)
    val_len = round(0.25 * len(stream))
    xt, yt = windows(stream[:len(stream) - val_len])
    xv, yv = windows(stream[len(stream) - val_len:])
    source = model_source()
    runs = {"f32": source, "bf16": source.replace("  steps = ", "  precision = bf16\n  steps = ")}
    assert "precision = bf16" in runs["bf16"]
    torch.manual_seed(3)
    net = Net()
    write_safetensors(os.path.join(d, "init.safetensors"), net.named())
    for name, text in runs.items():
        with open(os.path.join(d, f"{name}.nn"), "w") as f:
            f.write(text)
        exe = os.path.join(d, name)
        run(["nnc", os.path.join(d, f"{name}.nn"), "-o", exe])
        run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
             "--checkpoint-dir", os.path.join(d, f"ck-{name}"), "--quiet",
             "--log", os.path.join(d, f"{name}.jsonl")])

    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WD)
    batches = [(xt[s:s + BATCH], yt[s:s + BATCH]) for s in range(0, len(xt), BATCH)]
    want, total, count = [], 0.0, 0
    loss_of = lambda x, y: torch.nn.functional.cross_entropy(  # noqa: E731
        net(x).float().reshape(-1, V), y.reshape(-1))
    for step in range(STEPS):
        x, y = batches[step % len(batches)]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = loss_of(x, y)
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
        count += len(x)
        if (step + 1) % EVAL_EVERY == 0 or step + 1 == STEPS:
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
                want.append((total / count, loss_of(xv, yv).item()))
            total, count = 0.0, 0
    bf16, f32 = logged(os.path.join(d, "bf16.jsonl")), logged(os.path.join(d, "f32.jsonl"))
    if len(bf16) != len(want) or not np.allclose(bf16, want, rtol=1e-2):
        sys.exit(f"FAIL: bf16 losses {bf16} are not within 1% of autocast's {want}")
    if np.allclose(bf16, f32, rtol=1e-6, atol=0):
        sys.exit(f"FAIL: the bf16 run's losses {bf16} equal the f32 run's {f32}")
    worst = float(np.max(np.abs(np.array(bf16) - np.array(want)) / np.array(want)))
    off = float(np.max(np.abs(np.array(bf16) - np.array(f32)) / np.array(f32)))
    print(f"ok bf16: {len(bf16)} evaluations within 1% of torch.autocast "
          f"(largest {worst:.1e}); {off:.1e} away from the f32 run")


if __name__ == "__main__":
    main()
