#!/usr/bin/env python3
"""Whole training runs of small nnc-compiled CNNs against PyTorch.

For each case: writes tiny random 1x12x12 images and labels as IDX files
(gzip for the images, plain for the labels: the runtime reads both), a .nn
program, PyTorch's initial parameters as safetensors; compiles the program
with nnc, trains it with `--weights` (no shuffling, so the batches are the
same), trains the same network in PyTorch on the same batches, and compares
the final parameters and the logged epoch losses. The last batch of every
epoch is partial (70 = 4 x 16 + 6).

usage: cnn_parity.py WORKDIR [CASE ...]
"""
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import (check_logged_losses, read_safetensors, run, run_cases,  # noqa: E402
                      train_epochs, write_idx, write_safetensors)

torch.set_num_threads(1)

N, SIDE, BATCH, CLASSES = 70, 12, 16, 3


class Net(torch.nn.Module):
    """`layers` holds (label or None, torch module or function)."""

    def __init__(self, layers):
        super().__init__()
        self.layers = layers
        for i, (label, m) in enumerate(layers):
            if isinstance(m, torch.nn.Module):
                self.add_module(label or f"m{i}", m)

    def forward(self, x):
        for _, m in self.layers:
            x = m(x)
        return x

    def state(self):
        out = {}
        for label, m in self.layers:
            if label:
                out[label + ".weight"] = m.weight
                if m.bias is not None:
                    out[label + ".bias"] = m.bias
        return out


def gap(x):
    return x.mean(dim=(2, 3))


def pad_br(x):
    """The extra row/column of an even kernel's `same` padding (bottom/right)."""
    return F.pad(x, (0, 1, 0, 1))


# name: (model body, torch layers, optimizer line, torch optimizer, epochs)
CASES = {
    # SPEC's small CNN: conv(4, 3, same) - relu - maxpool(2) - conv(8, 3) -
    # relu - global_avgpool - dense.
    "cnn_adam": (
        """  c1: conv2d(4, 3, padding = same)
  relu
  maxpool(2)
  c2: conv2d(8, 3)
  relu
  global_avgpool
  head: dense(3)""",
        lambda: [("c1", torch.nn.Conv2d(1, 4, 3, padding=1)), (None, torch.relu),
                 (None, lambda x: F.max_pool2d(x, 2)),
                 ("c2", torch.nn.Conv2d(4, 8, 3)), (None, torch.relu),
                 (None, gap), ("head", torch.nn.Linear(8, 3))],
        "adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01), 2),
    # Strides, explicit padding, no bias, an even `same` kernel, avgpool,
    # an overlapping maxpool and flatten + dense, with SGD momentum.
    "cnn_strided_sgd": (
        """  c1: conv2d(6, 3, stride = 2, padding = 1, bias = false)
  tanh
  c2: conv2d(5, 2, padding = same)
  relu
  maxpool(3, stride = 1, padding = same)
  avgpool(2)
  flatten
  head: dense(3)""",
        lambda: [("c1", torch.nn.Conv2d(1, 6, 3, stride=2, padding=1, bias=False)),
                 (None, torch.tanh), (None, pad_br),
                 ("c2", torch.nn.Conv2d(6, 5, 2)), (None, torch.relu),
                 (None, lambda x: F.max_pool2d(x, 3, 1, 1)),
                 (None, lambda x: F.avg_pool2d(x, 2)), (None, torch.nn.Flatten()),
                 ("head", torch.nn.Linear(5 * 3 * 3, 3))],
        "sgd(lr = 0.05, momentum = 0.9)",
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 2),
    # Windows of three columns that do not overlap (their gradient's columns
    # interleaved in registers) and a last row and column past the windows.
    "cnn_pool3_adam": (
        """  c1: conv2d(4, 3)
  relu
  maxpool(3)
  flatten
  head: dense(3)""",
        lambda: [("c1", torch.nn.Conv2d(1, 4, 3)), (None, torch.relu),
                 (None, lambda x: F.max_pool2d(x, 3)), (None, torch.nn.Flatten()),
                 ("head", torch.nn.Linear(4 * 3 * 3, 3))],
        "adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01), 2),
}


def check_case(workdir, name):
    body, make_layers, opt_src, make_opt, epochs = CASES[name]
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    images = rng.integers(0, 256, size=(N, SIDE, SIDE), dtype=np.uint8)
    labels = rng.integers(0, CLASSES, size=N, dtype=np.uint8)
    write_idx(os.path.join(d, "images.idx.gz"), 0x803, images, True)
    write_idx(os.path.join(d, "labels.idx"), 0x801, labels, False)
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(f"""
dataset data {{
  train = idx("images.idx.gz", "labels.idx")
  preprocess {{
    scale(1 / 255)
  }}
  batch = {BATCH}
}}

model net(image: f32[1, {SIDE}, {SIDE}]) -> f32[{CLASSES}] {{
{body}
}}

train {{
  model = net
  data = data
  loss = cross_entropy
  optimizer = {opt_src}
  epochs = {epochs}
}}
""")
    torch.manual_seed(0)
    net = Net(make_layers())
    write_safetensors(os.path.join(d, "init.safetensors"), net.state())
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
         "--checkpoint-dir", os.path.join(d, "ck"), "--quiet",
         "--log", os.path.join(d, "log.jsonl")], cwd=d)

    opt = make_opt(net.parameters())
    xt = torch.tensor(images.astype(np.float32) * np.float32(1 / 255)).reshape(N, 1, SIDE, SIDE)
    yt = torch.tensor(labels, dtype=torch.long)
    losses = train_epochs(net, opt, torch.nn.CrossEntropyLoss(), xt, yt, epochs, BATCH)

    got = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    worst = 0.0
    for n, t in net.state().items():
        want = t.detach().numpy()
        if n not in got:
            sys.exit(f"FAIL {name}: no parameter {n} in the checkpoint ({sorted(got)})")
        err = np.max(np.abs(got[n] - want) / (np.abs(want) + 1e-3))
        worst = max(worst, err)
        if not np.allclose(got[n], want, rtol=2e-4, atol=2e-5):
            sys.exit(f"FAIL {name}: parameter {n} differs from PyTorch after "
                     f"{epochs} epochs (max abs diff "
                     f"{np.max(np.abs(got[n] - want)):.3g})\nnnc:\n{got[n]}\ntorch:\n{want}")
    check_logged_losses(d, name, losses)
    print(f"ok {name}: {len(got)} tensors match PyTorch (max rel err {worst:.2e}), "
          f"losses {['%.5f' % v for v in losses]}")


def main():
    run_cases(CASES, check_case)


if __name__ == "__main__":
    main()
