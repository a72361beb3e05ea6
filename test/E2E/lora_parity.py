#!/usr/bin/python3
"""LoRA fine-tuning (adapters = lora(...)) against a reference LoRA in PyTorch.

corpus_parity's language model and data; the finetune run adapts every
dense layer with rank 4 and alpha 6 (scale 1.5). PyTorch computes
W x + b + scale (x A^T) B^T with W and b frozen; both start from the same
parameters (base and adapters, B not zero so that A's gradient is not zero
either), exchanged through safetensors, and train 13 steps with AdamW and
the cosine schedule. The checkpoint must hold PyTorch's parameters (the
base ones unchanged) and optimizer state for the adapters only. Then
`./model merge` must give W + scale B A, and the base model's program
evaluating the merged file the same loss as the adapted program.

usage: lora_parity.py WORKDIR
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_parity import (BATCH, LR, STEPS, V, WD, Net, lr_at, model_source,  # noqa: E402
                           windows, write_corpus)
from e2e_util import check_checkpoint, read_safetensors, run, write_safetensors  # noqa: E402

RANK, ALPHA = 4, 6.0
SCALE = ALPHA / RANK


class LoraNet(torch.nn.Module):
    """Net with LoRA on both dense layers (torch.nn.Linear)."""

    def __init__(self, base):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.adapters = torch.nn.ParameterDict()
        for name, lin in (("dense", base.hidden), ("head", base.head)):
            out, inp = lin.weight.shape
            self.adapters[name + "_A"] = torch.nn.Parameter(torch.randn(RANK, inp) * 0.3)
            self.adapters[name + "_B"] = torch.nn.Parameter(torch.randn(out, RANK) * 0.3)

    def lin(self, name, lin, x):
        a, b = self.adapters[name + "_A"], self.adapters[name + "_B"]
        return lin(x) + SCALE * (x @ a.t()) @ b.t()

    def forward(self, ids):
        h = self.base.tok(ids) + self.base.pos
        return self.lin("head", self.base.head,
                        torch.relu(self.lin("dense", self.base.hidden, h)))

    def named(self):
        d = self.base.named()
        for name in ("dense", "head"):
            d[name + ".lora_A"] = self.adapters[name + "_A"]
            d[name + ".lora_B"] = self.adapters[name + "_B"]
        return d


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    stream = write_corpus(d)
    val_len = round(0.25 * len(stream))
    xt, yt = windows(stream[:len(stream) - val_len])
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(model_source() + f"""
finetune adapt {{
  model = lm
  from = "base.safetensors"
  data = text
  loss = cross_entropy
  adapters = lora(rank = {RANK}, alpha = {ALPHA}, on = [dense])
  optimizer = adamw(lr = {LR}, weight_decay = {WD})
  schedule = cosine(warmup = 3, min_lr = 0.001)
  steps = {STEPS}
  eval_every = 5
}}
""")
    torch.manual_seed(1)
    net = LoraNet(Net())
    write_safetensors(os.path.join(d, "init.safetensors"), net.named())
    base_exe, exe = os.path.join(d, "base"), os.path.join(d, "adapt")
    run(["nnc", os.path.join(d, "model.nn"), "--train", "lm", "-o", base_exe])
    run(["nnc", os.path.join(d, "model.nn"), "--train", "adapt", "-o", exe])
    run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
         "--checkpoint-dir", os.path.join(d, "ck"), "--quiet"])

    opt = torch.optim.AdamW(net.adapters.parameters(), lr=LR, weight_decay=WD)
    batches = [(xt[s:s + BATCH], yt[s:s + BATCH]) for s in range(0, len(xt), BATCH)]
    for step in range(STEPS):
        x, y = batches[step % len(batches)]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x).reshape(-1, V), y.reshape(-1)).backward()
        opt.step()
    count, worst = check_checkpoint(d, "lora", net.named(), opt, STEPS)
    print(f"ok lora: {count} tensors match PyTorch after {STEPS} steps (base "
          f"frozen, optimizer state for the 4 adapters only; max rel err {worst:.2e})")

    merged = os.path.join(d, "merged.safetensors")
    run([exe, "merge", "--weights", os.path.join(d, "ck", "last.safetensors"),
         "-o", merged])
    got = read_safetensors(merged)
    for name, lin in (("dense", net.base.hidden), ("head", net.base.head)):
        want = (lin.weight + SCALE * net.adapters[name + "_B"] @ net.adapters[name + "_A"])
        if not np.allclose(got[name + ".weight"], want.detach().numpy(), rtol=2e-4, atol=2e-5):
            sys.exit(f"FAIL: merged {name}.weight differs from W + scale B A")
    if any("lora" in n or n.startswith("optimizer.") for n in got):
        sys.exit(f"FAIL: the merged file still holds {sorted(got)}")
    evals = []
    for program, weights in ((exe, os.path.join(d, "ck", "last.safetensors")),
                             (base_exe, merged)):
        out = run([program, "eval", "--weights", weights, "--split", "validation",
                   "--json"]).stdout
        evals.append(json.loads(out)["loss"])
    if not np.isclose(evals[0], evals[1], rtol=1e-5):
        sys.exit(f"FAIL: adapted loss {evals[0]} != merged base model's {evals[1]}")
    print(f"ok merge: W + {SCALE} B A; the base model on the merged file "
          f"evaluates as the adapted one (loss {evals[1]:.6f})")


if __name__ == "__main__":
    main()
