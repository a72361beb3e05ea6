#!/usr/bin/env python3
"""Whole training runs with leaky_relu, sigmoid, gelu, softmax and add against
PyTorch.

Like parity.py: each case writes a CSV data set and a .nn program, initializes
the model in PyTorch and saves its parameters as safetensors, compiles the
program with nnc, trains it with `--weights` from those parameters (no
shuffling, so the batches are the same) and trains the same model in PyTorch
on the same batches with the same loss and optimizer. The final parameters,
the optimizer's state in the checkpoint and the logged epoch losses must
agree to float32 tolerance. N = 70 in batches of 16, so the last batch of
every epoch is partial (6 rows).

- act_chain_ce: dense -> leaky_relu(0.1) -> dense -> sigmoid -> dense -> gelu
  -> dense, cross_entropy, Adam. Inputs scaled by 3 so that sigmoid and gelu
  also see their tails (gelu is the exact erf form, torch.nn.GELU()).
- residual_gate_mse: a residual `add` around gelu -> dense, then a softmax
  "gate" in the middle of the network added back to its input (default
  leaky_relu alpha 0.01, sigmoid), mse, SGD with momentum.
- softmax_rows_mse: softmax over the last axis of a reshaped [2, 4] value, a
  three-way `add(a, t)`, and a softmax output trained with mse against
  probability-vector targets, AdamW.

usage: activation_parity.py WORKDIR [CASE ...]
"""
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from e2e_util import (check_checkpoint, check_logged_losses, run, run_cases, train_epochs,
                       write_safetensors)

torch.set_num_threads(1)

N, FEATURES, BATCH = 70, 6, 16  # 70 = 4 full batches of 16 + one of 6
L = torch.nn.Linear


class ActChain(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.d0, self.d1, self.d2, self.head = L(FEATURES, 8), L(8, 8), L(8, 8), L(8, 3)

    def forward(self, x):
        x = F.leaky_relu(self.d0(x), 0.1)
        x = torch.sigmoid(self.d1(x))
        x = F.gelu(self.d2(x))  # approximate='none': the erf form
        return self.head(x)


class ResidualGate(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.d0, self.d1, self.d2, self.head = L(FEATURES, 8), L(8, 8), L(8, 8), L(8, 4)

    def forward(self, x):
        a = self.d0(x)
        v = self.d1(F.gelu(a)) + a
        r = F.leaky_relu(v)  # default negative_slope 0.01, as nnc's alpha
        v = torch.softmax(self.d2(r), dim=-1) + r
        return self.head(torch.sigmoid(v))


class SoftmaxRows(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.d0, self.d1 = L(FEATURES, 8), L(8, 4)

    def forward(self, x):
        a = self.d0(x)
        t = torch.tanh(a)
        s = torch.softmax(a.reshape(-1, 2, 4), dim=-1).flatten(1)
        v = F.leaky_relu(s + a + t, 0.2)
        return torch.softmax(self.d1(v), dim=-1)


# name: (layers, module, {label: Linear attribute}, output width, loss,
#        (nnc optimizer, torch optimizer), epochs, input scale, seed)
CASES = {
    "act_chain_ce": (
        "  dense(8)\n  leaky_relu(0.1)\n  dense(8)\n  sigmoid\n  dense(8)\n  gelu\n"
        "  head: dense(3)",
        ActChain, {"dense_0": "d0", "dense_1": "d1", "dense_2": "d2", "head": "head"},
        3, "cross_entropy",
        ("adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01)), 2, 3.0, 0),
    "residual_gate_mse": (
        "  a = dense(8)\n  gelu\n  dense(8)\n  add(a)\n"
        "  r = leaky_relu\n  dense(8)\n  softmax\n  add(r)\n"
        "  sigmoid\n  head: dense(4)",
        ResidualGate, {"dense_0": "d0", "dense_1": "d1", "dense_2": "d2", "head": "head"},
        4, "mse",
        ("sgd(lr = 0.05, momentum = 0.9)",
         lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)), 3, 1.0, 1),
    "softmax_rows_mse": (
        "  a = dense(8)\n  t = a -> tanh\n"
        "  a -> reshape([2, 4]) -> softmax -> flatten\n  add(a, t)\n"
        "  leaky_relu(0.2)\n  dense(4)\n  softmax",
        SoftmaxRows, {"dense_0": "d0", "dense_1": "d1"},
        4, "mse_probs",
        ("adamw(lr = 0.02, weight_decay = 0.05)",
         lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.05)), 3, 1.0, 2),
}


def check_case(workdir, name):
    layers, make_net, labels, width, loss_kind, (opt_src, make_opt), epochs, scale, seed = \
        CASES[name]
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = (rng.normal(size=(N, FEATURES)) * scale).astype(np.float32)
    if loss_kind == "cross_entropy":
        y = rng.integers(0, width, size=N)
        target_cols = ["label"]
    elif loss_kind == "mse_probs":  # rows of probabilities, as a softmax output
        y = rng.dirichlet(np.full(width, 0.5), size=N).astype(np.float32)
        target_cols = ["t%d" % i for i in range(width)]
    else:
        y = rng.normal(size=(N, width)).astype(np.float32)
        target_cols = ["t%d" % i for i in range(width)]
    with open(os.path.join(d, "data.csv"), "w") as f:
        f.write(",".join(["f%d" % i for i in range(FEATURES)] + target_cols) + "\n")
        for i in range(N):
            row = ["%.9g" % v for v in x[i]]
            if target_cols == ["label"]:
                row.append(str(int(y[i])))
            else:
                row += ["%.9g" % v for v in y[i]]
            f.write(",".join(row) + "\n")
    target_spec = ('"label"' if target_cols == ["label"]
                   else "[" + ", ".join('"%s"' % c for c in target_cols) + "]")
    loss_src = "cross_entropy" if loss_kind == "cross_entropy" else "mse"
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(f"""
dataset data {{
  train = csv("data.csv", target = {target_spec})
  batch = {BATCH}
}}

model net(inp: f32[{FEATURES}]) -> f32[{width}] {{
{layers}
}}

train {{
  model = net
  data = data
  loss = {loss_src}
  optimizer = {opt_src}
  epochs = {epochs}
}}
""")
    torch.manual_seed(seed)
    net = make_net()

    def state():
        out = {}
        for label, attr in labels.items():
            out[label + ".weight"] = getattr(net, attr).weight
            out[label + ".bias"] = getattr(net, attr).bias
        return out

    write_safetensors(os.path.join(d, "init.safetensors"), state())
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
         "--checkpoint-dir", os.path.join(d, "ck"), "--quiet",
         "--log", os.path.join(d, "log.jsonl")])

    opt = make_opt(net.parameters())
    if loss_kind == "cross_entropy":
        crit, yt = torch.nn.CrossEntropyLoss(), torch.tensor(y, dtype=torch.long)
    else:
        crit, yt = torch.nn.MSELoss(), torch.tensor(y)
    xt = torch.tensor(x)
    losses = train_epochs(net, opt, crit, xt, yt, epochs, BATCH)
    # The checkpoint holds the parameters and the optimizer's state: both
    # must match.
    count, worst = check_checkpoint(d, name, state(), opt, epochs)
    check_logged_losses(d, name, losses)
    print(f"ok {name}: {count} parameter and optimizer tensors match PyTorch "
          f"(max rel err {worst:.2e}), "
          f"losses {['%.5f' % l for l in losses]}")


def main():
    run_cases(CASES, check_case)


if __name__ == "__main__":
    main()
