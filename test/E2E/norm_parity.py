#!/usr/bin/env python3
"""Training with batchnorm, layernorm and dropout against PyTorch.

bn_ln_mlp: an MLP with batchnorm and layernorm (bn2d_concat: batchnorm over
[C, H, W] and a concat along channels) trained by nnc from the same
initial parameters (and buffers) as a PyTorch model, on the same batches
(no shuffling; the last batch of every epoch is partial, so padding rows must
not enter the batch statistics). After 2 epochs every parameter, the running
statistics and num_batches_tracked (an I64 tensor, as PyTorch's) must agree,
the logged training losses too, and `eval` must use the running statistics:
its loss equals PyTorch's in eval mode.

dropout_mlp: a model with dropout trains (the loss falls), trains the same
way twice from the same seed, and evaluates deterministically (dropout is the
identity: the eval loss equals PyTorch's eval-mode loss of the trained
parameters).

usage: norm_parity.py WORKDIR [CASE ...]
"""
import json
import os
import sys

import numpy as np
import torch

from e2e_util import (check_logged_losses, read_safetensors_typed as read_safetensors, run,
                      train_epochs, write_safetensors)

torch.set_num_threads(1)

N, FEATURES, BATCH, CLASSES = 70, 6, 16, 3  # 4 full batches + one of 6


def write_data(d, seed, features=FEATURES, n=N):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, features)) * 2 + 1).astype(np.float32)
    y = rng.integers(0, CLASSES, size=n)
    with open(os.path.join(d, "data.csv"), "w") as f:
        f.write(",".join(["f%d" % i for i in range(features)] + ["label"]) + "\n")
        for i in range(n):
            f.write(",".join(["%.9g" % v for v in x[i]] + [str(int(y[i]))]) + "\n")
    return torch.tensor(x), torch.tensor(y, dtype=torch.long)


def program(layers, epochs, extra="", features=FEATURES, batch=BATCH,
            optimizer="adam(lr = 0.01)"):
    return f"""
dataset data {{
  train = csv("data.csv", target = "label")
  batch = {batch}
}}

model net(x: f32[{features}]) -> f32[{CLASSES}] {{
{layers}
}}

train {{
  model = net
  data = data
  loss = cross_entropy
  optimizer = {optimizer}
  epochs = {epochs}
{extra}}}
"""


def eval_json(exe, ck):
    r = run([exe, "eval", "--weights", ck, "--split", "train", "--json"])
    return json.loads(r.stdout.strip().splitlines()[-1])


class BNConcat(torch.nn.Module):
    """reshape [3, 2, 2] -> batchnorm (2-d) = r; concat(r, relu(r)) -> head."""

    def __init__(self):
        super().__init__()
        self.bn = torch.nn.BatchNorm2d(3)
        self.head = torch.nn.Linear(24, CLASSES)

    def forward(self, x):
        r = self.bn(x.reshape(-1, 3, 2, 2))
        return self.head(torch.cat([r, torch.relu(r)], 1).flatten(1))


def bn_ln_mlp(d):
    # No bias before batchnorm: its gradient is zero up to rounding, which
    # Adam would amplify into noise.
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(FEATURES, 8, bias=False),
                              torch.nn.BatchNorm1d(8),
                              torch.nn.ReLU(), torch.nn.Linear(8, 5),
                              torch.nn.LayerNorm(5), torch.nn.Tanh(),
                              torch.nn.Linear(5, CLASSES))
    names = {"dense_0": net[0], "batchnorm": net[1], "dense_1": net[3],
             "layernorm": net[4], "head": net[6]}
    train_parity(d, "bn_ln_mlp", "  dense(8, bias = false)\n  batchnorm\n  relu\n"
                 "  dense(5)\n  layernorm\n  tanh\n  head: dense(3)",
                 FEATURES, net, names, [net[1], net[4]], net[1])


def bn2d_concat(d):
    torch.manual_seed(1)
    net = BNConcat()
    train_parity(d, "bn2d_concat", "  r = x -> reshape([3, 2, 2]) -> batchnorm\n"
                 "  s = r -> relu\n  concat(r, s)\n  flatten\n  head: dense(3)",
                 12, net, {"batchnorm": net.bn, "head": net.head}, [net.bn], net.bn)


class BNCnn(torch.nn.Module):
    """conv -> batchnorm -> relu -> maxpool -> conv -> dense on 16x16 images."""

    def __init__(self):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.conv1 = torch.nn.Conv2d(8, 16, 3)
        self.head = torch.nn.Linear(16 * 6 * 6, CLASSES)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv0(x.reshape(-1, 1, 16, 16))))
        x = torch.nn.functional.max_pool2d(x, 2)
        return self.head(self.conv1(x).flatten(1))


def bn_cnn_partial(d):
    # 500 samples in batches of 64: seven full batches and one of 52 rows per
    # epoch, SGD with momentum: the padding rows of the last batch must not
    # enter the batch statistics nor their gradient.
    torch.manual_seed(2)
    net = BNCnn()
    train_parity(d, "bn_cnn_partial",
                 "  reshape([1, 16, 16])\n  conv2d_0: conv2d(8, 3, padding = same)\n"
                 "  batchnorm\n  relu\n  maxpool(2)\n  conv2d_1: conv2d(16, 3)\n"
                 "  flatten\n  head: dense(3)",
                 256, net, {"conv2d_0": net.conv0, "batchnorm": net.bn,
                            "conv2d_1": net.conv1, "head": net.head}, [net.bn], net.bn,
                 n=500, batch=64,
                 optimizer=("sgd(lr = 0.05, momentum = 0.9)",
                            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)))


def train_parity(d, case, layers, features, net, names, affine, bn, n=N, batch=BATCH,
                 optimizer=("adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01))):
    xt, yt = write_data(d, 11, features, n)
    epochs = 2
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(program(layers, epochs, features=features, batch=batch,
                        optimizer=optimizer[0]))
    with torch.no_grad():  # non-trivial affine parameters and running stats
        for m in affine:
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)

    def state():
        out = {}
        for n, m in names.items():
            for k, v in m.state_dict().items():
                out[f"{n}.{k}"] = v
        return out

    write_safetensors(os.path.join(d, "init.safetensors"), state())
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
         "--checkpoint-dir", os.path.join(d, "ck"), "--quiet",
         "--log", os.path.join(d, "log.jsonl")])
    net.train()
    losses = train_epochs(net, optimizer[1](net.parameters()),
                          torch.nn.CrossEntropyLoss(), xt, yt, epochs, batch)

    got = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    for n, t in state().items():
        want = t.detach().numpy()
        dtype, have = got[n]
        if n.endswith("num_batches_tracked"):
            if dtype != "I64" or have.shape != () or int(have) != int(want):
                sys.exit(f"FAIL {case}: {n} is {dtype} {have}, PyTorch I64 {want}")
            continue
        if not np.allclose(have, want, rtol=2e-4, atol=2e-5):
            sys.exit(f"FAIL {case}: {n} differs from PyTorch after {epochs} epochs "
                     f"(max abs diff {np.max(np.abs(have - want)):.3g})\n"
                     f"nnc:\n{have}\ntorch:\n{want}")
    check_logged_losses(d, case, losses)
    # Evaluation uses the running statistics: PyTorch's eval mode.
    net.eval()
    with torch.no_grad():
        want_eval = torch.nn.CrossEntropyLoss()(net(xt), yt).item()
        train_mode = torch.nn.CrossEntropyLoss()(net.train()(xt), yt).item()
    e = eval_json(exe, os.path.join(d, "ck", "last.safetensors"))
    if not np.isclose(e["loss"], want_eval, rtol=1e-4, atol=1e-6):
        sys.exit(f"FAIL {case}: eval loss {e['loss']} != PyTorch eval-mode loss "
                 f"{want_eval} (batch statistics would give {train_mode})")
    print(f"ok {case}: {len(got)} tensors match PyTorch incl. running statistics, "
          f"losses {['%.5f' % l for l in losses]}, eval loss {e['loss']:.5f}")


def dropout_mlp(d):
    xt, yt = write_data(d, 12)
    epochs = 8
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(program("  dense(32)\n  relu\n  dropout(0.5)\n  head: dense(3)", epochs,
                        "  seed = 5\n"))
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    for k in ("a", "b"):
        run([exe, "train", "--checkpoint-dir", os.path.join(d, "ck_" + k), "--quiet",
             "--log", os.path.join(d, f"log_{k}.jsonl")])
    logged = [json.loads(l) for l in open(os.path.join(d, "log_a.jsonl"))]
    losses = [e["train_loss"] for e in logged if e["event"] == "epoch"]
    if not losses[-1] < 0.95 * losses[0]:
        sys.exit(f"FAIL dropout_mlp: the training loss does not fall: {losses}")
    a = read_safetensors(os.path.join(d, "ck_a", "last.safetensors"))
    b = read_safetensors(os.path.join(d, "ck_b", "last.safetensors"))
    for n in ("head.weight", "dense.weight"):
        if not np.array_equal(a[n][1], b[n][1]):
            sys.exit(f"FAIL dropout_mlp: two runs with the same seed differ in {n}")
    # The same program without dropout (same seed, so the same initial
    # parameters) ends elsewhere: dropout is active in training.
    d0 = os.path.join(d, "p0")
    os.makedirs(d0, exist_ok=True)
    write_data(d0, 12)
    with open(os.path.join(d0, "model.nn"), "w") as f:
        f.write(program("  dense(32)\n  relu\n  dropout(0.0)\n  head: dense(3)", epochs,
                        "  seed = 5\n"))
    run(["nnc", os.path.join(d0, "model.nn"), "-o", os.path.join(d0, "model")])
    run([os.path.join(d0, "model"), "train", "--checkpoint-dir", os.path.join(d0, "ck"),
         "--quiet", "--steps", "1"])
    run([exe, "train", "--checkpoint-dir", os.path.join(d, "ck_1"), "--quiet",
         "--steps", "1"])
    w0 = read_safetensors(os.path.join(d0, "ck", "last.safetensors"))["head.weight"][1]
    w1 = read_safetensors(os.path.join(d, "ck_1", "last.safetensors"))["head.weight"][1]
    if np.allclose(w0, w1, rtol=0, atol=1e-7):
        sys.exit("FAIL dropout_mlp: one step with dropout(0.5) equals one without")
    ck = os.path.join(d, "ck_a", "last.safetensors")
    e1, e2 = eval_json(exe, ck), eval_json(exe, ck)
    if e1["loss"] != e2["loss"]:
        sys.exit(f"FAIL dropout_mlp: eval is not deterministic: {e1['loss']} != {e2['loss']}")
    net = torch.nn.Sequential(torch.nn.Linear(FEATURES, 32), torch.nn.ReLU(),
                              torch.nn.Dropout(0.5), torch.nn.Linear(32, CLASSES))
    with torch.no_grad():
        for i, n in ((0, "dense"), (3, "head")):
            net[i].weight.copy_(torch.tensor(a[n + ".weight"][1]))
            net[i].bias.copy_(torch.tensor(a[n + ".bias"][1]))
        net.eval()
        want = torch.nn.CrossEntropyLoss()(net(xt), yt).item()
    if not np.isclose(e1["loss"], want, rtol=1e-4, atol=1e-6):
        sys.exit(f"FAIL dropout_mlp: eval loss {e1['loss']} != PyTorch eval-mode {want}")
    print(f"ok dropout_mlp: losses {['%.4f' % l for l in losses]}, "
          f"same run twice, eval deterministic ({e1['loss']:.5f})")


CASES = {"bn_ln_mlp": bn_ln_mlp, "bn2d_concat": bn2d_concat,
         "bn_cnn_partial": bn_cnn_partial,
         "dropout_mlp": dropout_mlp}


def main():
    workdir = sys.argv[1]
    cases = sys.argv[2:] or list(CASES)
    for name in cases:
        d = os.path.join(workdir, name)
        os.makedirs(d, exist_ok=True)
        CASES[name](d)
    print(f"{len(cases)} passed, 0 failed")


if __name__ == "__main__":
    main()
