#!/usr/bin/env python3
"""Whole training runs of nnc-compiled programs against PyTorch.

For each case: writes a small CSV data set and a .nn program, initializes the
model in PyTorch and saves the parameters as safetensors, compiles the program
with nnc, trains it with `--weights` from those parameters (no shuffling, so
the batches are the same), and trains the same model in PyTorch with the same
batches, loss and optimizer. The final parameters must agree to float32
tolerance. The last batch of every epoch is partial, so the loss masking of
padded rows is checked too.

usage: parity.py WORKDIR [CASE ...]
"""
import os
import sys
import zlib

import numpy as np
import torch

from e2e_util import check_logged_losses, read_safetensors, run, run_cases, write_safetensors

torch.set_num_threads(1)

N, FEATURES, BATCH = 70, 6, 16  # 70 = 4 full batches of 16 + one of 6

# name: (loss, classes or output width, optimizer line, torch optimizer, epochs)
CASES = {
    "adam_ce": ("cross_entropy", 3, "adam(lr = 0.01)",
                lambda p: torch.optim.Adam(p, lr=0.01), 2),
    "adamw_ce_smooth": ("cross_entropy(label_smoothing = 0.1)", 3,
                        "adamw(lr = 0.01, weight_decay = 0.05)",
                        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05), 2),
    "sgd_nesterov_ce": ("cross_entropy", 4,
                        "sgd(lr = 0.05, momentum = 0.9, nesterov = true, weight_decay = 0.01)",
                        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                                  weight_decay=0.01), 2),
    "sgd_plain_mse": ("mse", 1, "sgd(lr = 0.01)",
                      lambda p: torch.optim.SGD(p, lr=0.01), 3),
    "rmsprop_mae": ("mae", 2, "rmsprop(lr = 0.001, momentum = 0.5)",
                    lambda p: torch.optim.RMSprop(p, lr=0.001, momentum=0.5), 2),
    "adam_huber": ("huber(delta = 0.5)", 2, "adam(lr = 0.005, weight_decay = 0.01)",
                   lambda p: torch.optim.Adam(p, lr=0.005, weight_decay=0.01), 2),
    "adam_bce": ("binary_cross_entropy", 1, "adam(lr = 0.01)",
                 lambda p: torch.optim.Adam(p, lr=0.01), 2),
    # clip_grad_norm: torch.nn.utils.clip_grad_norm_ before every step.
    "sgd_ce_clipped": ("cross_entropy", 3, "sgd(lr = 0.5, momentum = 0.9)",
                       lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9), 2, 0.05),
    # A layer's l2 = k (Keras' kernel_regularizer): k * (W**2).sum() added to
    # the loss for that layer's weight (not its bias); the logged train loss
    # includes it. Large k so that the penalty moves the weights visibly.
    "sgd_mse_l2": ("mse", 2, "sgd(lr = 0.05, momentum = 0.9)",
                   lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 3, 0,
                   {"dense_0": 0.05, "head": 0.2}),
    "adam_ce_l2": ("cross_entropy", 3, "adam(lr = 0.01)",
                   lambda p: torch.optim.Adam(p, lr=0.01), 2, 0,
                   {"dense_1": 0.1}),
}


def check_case(workdir, name):
    loss_src, width, opt_src, make_opt, epochs = CASES[name][:5]
    clip = CASES[name][5] if len(CASES[name]) > 5 else 0
    l2 = CASES[name][6] if len(CASES[name]) > 6 else {}
    loss_kind = loss_src.split("(")[0]
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = rng.normal(size=(N, FEATURES)).astype(np.float32)
    if loss_kind == "cross_entropy":
        y = rng.integers(0, width, size=N)
        targets = [str(int(v)) for v in y]
    elif loss_kind == "binary_cross_entropy":
        y = rng.integers(0, 2, size=N)
        targets = [str(int(v)) for v in y]
    else:
        y = rng.normal(size=(N, width)).astype(np.float32)
    target_cols = ["t%d" % i for i in range(width)] if loss_kind not in (
        "cross_entropy", "binary_cross_entropy") else ["label"]
    with open(os.path.join(d, "data.csv"), "w") as f:
        f.write(",".join(["f%d" % i for i in range(FEATURES)] + target_cols) + "\n")
        for i in range(N):
            row = ["%.9g" % v for v in x[i]]
            if target_cols == ["label"]:
                row.append(targets[i])
            else:
                row += ["%.9g" % v for v in y[i]]
            f.write(",".join(row) + "\n")
    target_spec = ('"label"' if target_cols == ["label"]
                   else "[" + ", ".join('"%s"' % c for c in target_cols) + "]")
    def l2_arg(layer):
        return f", l2 = {l2[layer]}" if layer in l2 else ""

    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(f"""
dataset data {{
  train = csv("data.csv", target = {target_spec})
  batch = {BATCH}
}}

model net(x: f32[{FEATURES}]) -> f32[{width}] {{
  dense(8{l2_arg("dense_0")})
  tanh
  dense(5{l2_arg("dense_1")})
  relu
  head: dense({width}{l2_arg("head")})
}}

train {{
  model = net
  data = data
  loss = {loss_src}
  optimizer = {opt_src}
  epochs = {epochs}
{"  clip_grad_norm = %g" % clip if clip else ""}
}}
""")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(FEATURES, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 5), torch.nn.ReLU(),
                              torch.nn.Linear(5, width))
    names = ["dense_0", "dense_1", "head"]
    layers = [net[0], net[2], net[4]]

    def state():
        out = {}
        for n, l in zip(names, layers):
            out[n + ".weight"] = l.weight
            out[n + ".bias"] = l.bias
        return out

    write_safetensors(os.path.join(d, "init.safetensors"), state())
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
         "--checkpoint-dir", os.path.join(d, "ck"), "--quiet",
         "--log", os.path.join(d, "log.jsonl")])

    opt = make_opt(net.parameters())
    if loss_kind == "cross_entropy":
        smoothing = 0.1 if "smoothing" in loss_src else 0.0
        crit = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)
        yt = torch.tensor(y, dtype=torch.long)
    elif loss_kind == "binary_cross_entropy":
        crit = torch.nn.BCEWithLogitsLoss()
        yt = torch.tensor(y, dtype=torch.float32).reshape(N, 1)
    elif loss_kind == "mse":
        crit, yt = torch.nn.MSELoss(), torch.tensor(y)
    elif loss_kind == "mae":
        crit, yt = torch.nn.L1Loss(), torch.tensor(y)
    else:
        crit, yt = torch.nn.HuberLoss(delta=0.5), torch.tensor(y)
    xt = torch.tensor(x)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for s in range(0, N, BATCH):
            opt.zero_grad()
            loss = crit(net(xt[s:s + BATCH]), yt[s:s + BATCH])
            for n, l in zip(names, layers):
                if n in l2:
                    loss = loss + l2[n] * (l.weight ** 2).sum()
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            opt.step()
            total += loss.item() * len(xt[s:s + BATCH])
        losses.append(total / N)

    got = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    worst = 0.0
    for n, t in state().items():
        want = t.detach().numpy()
        err = np.max(np.abs(got[n] - want) / (np.abs(want) + 1e-3))
        worst = max(worst, err)
        if not np.allclose(got[n], want, rtol=2e-4, atol=2e-5):
            sys.exit(f"FAIL {name}: parameter {n} differs from PyTorch after "
                     f"{epochs} epochs (max abs diff "
                     f"{np.max(np.abs(got[n] - want)):.3g})\nnnc:\n{got[n]}\ntorch:\n{want}")
    check_logged_losses(d, name, losses)
    print(f"ok {name}: {len(got)} tensors match PyTorch (max rel err {worst:.2e}), "
          f"losses {['%.5f' % l for l in losses]}")


def main():
    run_cases(CASES, check_case)


if __name__ == "__main__":
    main()
