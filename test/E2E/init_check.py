#!/usr/bin/env python3
"""nnc's initial parameters against torch.nn.init.

bounds: a model with conv2d and dense layers at their default initialization;
every weight's and bias's largest |value| is at most PyTorch's bound
(torch.nn.Linear / Conv2d reset_parameters: kaiming_uniform_ with
a = sqrt(5) for the weight, U(+-1/sqrt(fan_in)) for the bias, fan_in from
torch.nn.init._calculate_fan_in_and_fan_out) and close to it, and the spread
is that of a PyTorch layer of the same shape.

kinds: one dense layer per `init = ...`; zeros and ones are exact, the others
match the mean and standard deviation of the torch.nn.init function (default
arguments) on a tensor of the same shape.

The initial parameters are read from the checkpoint of a one-step run whose
last layer starts at zero (init = zeros), so no gradient reaches the layers
checked, and the learning rate is 1e-30.

usage: init_check.py WORKDIR
"""
import math
import os
import sys

import numpy as np
import torch

from e2e_util import read_safetensors, run

torch.manual_seed(0)

DATASET = """dataset d {
  train = csv("d.csv", target = "y")
  batch = 16
}
"""
TRAIN = """train {
  model = net
  data = d
  loss = mse
  optimizer = sgd(lr = 1e-30)
  epochs = 1
  seed = 7
}
"""
BOUNDS = """model net(x: f32[64]) -> f32[1] {
  reshape([4, 4, 4])
  conv2d(16, 3)
  flatten
  dense(300)
  dense(1, init = zeros)
}
"""
KINDS = ["zeros", "ones", "normal", "uniform", "kaiming_uniform",
         "kaiming_normal", "xavier_uniform", "xavier_normal"]


def kinds_model():
    lines = ["model net(x: f32[64]) -> f32[1] {"]
    names = []
    for i, k in enumerate(KINDS):
        lines.append(f"  v{i} = x -> dense(256, init = {k})")
        names.append(f"v{i}")
    lines.append(f"  concat({', '.join(names)})")
    lines.append("  dense(1, init = zeros)")
    lines.append("}")
    return "\n".join(lines) + "\n"


def initial_parameters(d, name, model):
    with open(os.path.join(d, name + ".nn"), "w") as f:
        f.write((model if model.startswith("dataset") else DATASET + model) + TRAIN)
    exe = os.path.join(d, name)
    run(["nnc", os.path.join(d, name + ".nn"), "-o", exe])
    ck = os.path.join(d, name + "_ck")
    run([exe, "train", "--quiet", "--steps", "1", "--checkpoint-dir", ck])
    return read_safetensors(os.path.join(ck, "last.safetensors"))


def fail(msg):
    sys.exit("FAIL: " + msg)


def torch_bounds(shape):
    """PyTorch's reset_parameters bounds for a weight of `shape`."""
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    return math.sqrt(3.0) * gain / math.sqrt(fan_in), 1 / math.sqrt(fan_in)


def check_bounds(d):
    p = initial_parameters(d, "bounds", BOUNDS)
    reference = {"conv2d": torch.nn.Conv2d(4, 16, 3), "dense_0": torch.nn.Linear(64, 300)}
    for layer, module in reference.items():
        w, b = p[layer + ".weight"], p[layer + ".bias"]
        if list(w.shape) != list(module.weight.shape):
            fail(f"{layer}.weight has shape {list(w.shape)}, torch {list(module.weight.shape)}")
        wbound, bbound = torch_bounds(tuple(w.shape))
        for what, values, bound, near, theirs in [
                ("weight", w, wbound, 0.97, module.weight), ("bias", b, bbound, 0.5, module.bias)]:
            top = float(np.abs(values).max())
            if top > bound * (1 + 1e-6):
                fail(f"{layer}.{what}: max |w| {top} exceeds PyTorch's bound {bound}")
            if top < near * bound:
                fail(f"{layer}.{what}: max |w| {top} far below PyTorch's bound {bound}")
            # U(-b, b): the same spread as the torch layer's own draw.
            ours, torchs = float(values.std()), float(theirs.detach().std())
            if abs(ours - torchs) > 0.15 * torchs:
                fail(f"{layer}.{what}: std {ours}, torch's {torchs}")
        print(f"ok {layer}: max |weight| {float(np.abs(w).max()):.5f} <= bound {wbound:.5f}, "
              f"max |bias| {float(np.abs(b).max()):.5f} <= bound {bbound:.5f}")


def torch_draw(kind, shape):
    t = torch.empty(shape)
    init = {"normal": torch.nn.init.normal_, "uniform": torch.nn.init.uniform_,
            "kaiming_uniform": lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
            "kaiming_normal": torch.nn.init.kaiming_normal_,
            "xavier_uniform": torch.nn.init.xavier_uniform_,
            "xavier_normal": torch.nn.init.xavier_normal_}[kind]
    return init(t).numpy()


def check_kinds(d):
    p = initial_parameters(d, "kinds", kinds_model())
    for i, kind in enumerate(KINDS):
        w, b = p[f"dense_{i}.weight"], p[f"dense_{i}.bias"]
        if kind in ("zeros", "ones"):
            value = 0.0 if kind == "zeros" else 1.0
            if not (np.all(w == value) and np.all(b == value)):
                fail(f"{kind}: weight and bias are not all {value}")
            print(f"ok {kind}: weight and bias all {value:g}")
            continue
        ref = torch_draw(kind, tuple(w.shape))
        if abs(float(w.mean()) - float(ref.mean())) > 0.03 * float(ref.std()) + 1e-3:
            fail(f"{kind}: mean {float(w.mean())}, torch's {float(ref.mean())}")
        if abs(float(w.std()) - float(ref.std())) > 0.03 * float(ref.std()):
            fail(f"{kind}: std {float(w.std())}, torch's {float(ref.std())}")
        if kind in ("uniform", "kaiming_uniform", "xavier_uniform") and (
                w.min() < ref.min() - 0.02 * ref.std() or w.max() > ref.max() + 0.02 * ref.std()):
            fail(f"{kind}: range [{w.min()}, {w.max()}], torch's [{ref.min()}, {ref.max()}]")
        # The bias keeps PyTorch's default, U(+-1/sqrt(fan_in)).
        if float(np.abs(b).max()) > 1 / math.sqrt(64) * (1 + 1e-6):
            fail(f"{kind}: bias exceeds 1/sqrt(fan_in)")
        print(f"ok {kind}: mean {float(w.mean()):.4f} std {float(w.std()):.4f} "
              f"(torch {float(ref.mean()):.4f} {float(ref.std()):.4f})")


SEQUENCES = """dataset d {
  train = csv("ids.csv", target = "y")
  batch = 16
}
model net(tokens: i32[16]) -> f32[1] {
  emb: embedding(300, 64)
  conv: conv1d(32, 3)
  rec: gru(50, sequences = true)
  last: lstm(40, bidirectional = true)
  dense(1, init = zeros)
}
"""


def check_uniform(name, values, bound, near=0.97):
    top = float(np.abs(values).max())
    if top > bound * (1 + 1e-6):
        fail(f"{name}: max |w| {top} exceeds PyTorch's bound {bound}")
    if top < near * bound:
        fail(f"{name}: max |w| {top} far below PyTorch's bound {bound}")
    std = float(values.std())
    if abs(std - bound / math.sqrt(3)) > 0.15 * bound / math.sqrt(3):
        fail(f"{name}: std {std}, U(+-{bound}) has {bound / math.sqrt(3)}")


def check_sequences(d):
    """embedding: N(0, 1) (torch.nn.Embedding); conv1d: Conv1d's bounds
    (fan_in = channels x kernel); gru / lstm: every weight and bias
    U(+-1/sqrt(units)) (torch.nn.RNNBase.reset_parameters), both directions."""
    rng = np.random.default_rng(1)
    with open(os.path.join(d, "ids.csv"), "w") as f:
        f.write(",".join([f"t{i}" for i in range(16)] + ["y"]) + "\n")
        for _ in range(32):
            f.write(",".join(str(v) for v in rng.integers(1, 300, size=16)) + ",0.5\n")
    p = initial_parameters(d, "sequences", SEQUENCES)
    w = p["emb.weight"]
    if w.shape != (300, 64) or abs(float(w.mean())) > 0.02 or abs(float(w.std()) - 1) > 0.02:
        fail(f"emb.weight: shape {w.shape}, mean {float(w.mean())}, std {float(w.std())}: "
             "not N(0, 1)")
    print(f"ok embedding: mean {float(w.mean()):.4f} std {float(w.std()):.4f} (N(0, 1))")
    wbound, bbound = torch_bounds((32, 64, 3))
    check_uniform("conv.weight", p["conv.weight"], wbound)
    check_uniform("conv.bias", p["conv.bias"], bbound, 0.5)
    print(f"ok conv1d: max |weight| {float(np.abs(p['conv.weight']).max()):.5f} "
          f"<= bound {wbound:.5f}")
    for layer, units, module in [("rec", 50, torch.nn.GRU(32, 50)),
                                 ("last", 40, torch.nn.LSTM(50, 40, bidirectional=True))]:
        names = [n for n, _ in module.named_parameters()]
        ours = sorted(k[len(layer) + 1:] for k in p if k.startswith(layer + "."))
        if ours != sorted(names):
            fail(f"{layer}: parameters {ours}, torch's {sorted(names)}")
        for n, t in module.named_parameters():
            if p[f"{layer}.{n}"].shape != tuple(t.shape):
                fail(f"{layer}.{n}: shape {p[f'{layer}.{n}'].shape}, torch's {tuple(t.shape)}")
            check_uniform(f"{layer}.{n}", p[f"{layer}.{n}"], 1 / math.sqrt(units), 0.9)
        print(f"ok {layer}: {len(names)} parameters in U(+-1/sqrt({units})), PyTorch's names "
              "and shapes")


def main():
    d = sys.argv[1]
    rng = np.random.default_rng(0)
    with open(os.path.join(d, "d.csv"), "w") as f:
        f.write(",".join([f"f{i}" for i in range(64)] + ["y"]) + "\n")
        for _ in range(32):
            f.write(",".join("%.4f" % v for v in rng.normal(size=65)) + "\n")
    check_bounds(d)
    check_kinds(d)
    check_sequences(d)


if __name__ == "__main__":
    main()
