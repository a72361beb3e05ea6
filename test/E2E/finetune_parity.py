#!/usr/bin/env python3
"""Fine-tuning against PyTorch: freeze schedules, unfreeze, lr_scale, renames.

A PyTorch model's state_dict, saved as safetensors under PyTorch's own key
names, is the `from` of a finetune declaration that maps the keys with
`rename` (prefix and exact forms). nnc trains it on the same batches as
PyTorch does with the usual fine-tuning recipe: frozen parameters have
requires_grad = False (no gradient, so torch.optim creates no state for them
and counts their steps from their first update), frozen batchnorm layers run
in eval mode, and lr_scale is a parameter group's learning rate. Every
parameter, running statistic and num_batches_tracked must agree after
training, and so must the logged losses.

  freeze_until   Adam; body (dense + batchnorm) frozen for epoch 1, with
                 lr_scale on body and head.
  unfreeze       Adam; body and mid frozen until epoch 3, mid unfrozen at
                 epoch 2 (three phases).
  frozen_run     SGD with momentum; body frozen for the whole run: bit-identical
                 at the end and no optimizer state in the checkpoint.

usage: finetune_parity.py WORKDIR [CASE ...]
"""
import os
import sys

import numpy as np
import torch

from e2e_util import (check_logged_losses, read_safetensors_typed as read_safetensors, run,
                      train_epochs, write_safetensors)
from norm_parity import BATCH, CLASSES, FEATURES, N, write_data

torch.set_num_threads(1)

LAYERS = """  group body {
    dense(8, bias = false)
    batchnorm
    relu
  }
  mid: dense(5)
  tanh
  head: dense(3)"""

RENAME = ('rename = { "features.0.": "body.dense.", "features.1.": "body.batchnorm.",\n'
          '             "classifier.0.weight": "mid.weight", "classifier.0.bias": "mid.bias",\n'
          '             "classifier.2.": "head." }')


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Linear(FEATURES, 8, bias=False),
                                            torch.nn.BatchNorm1d(8), torch.nn.ReLU())
        self.classifier = torch.nn.Sequential(torch.nn.Linear(8, 5), torch.nn.Tanh(),
                                              torch.nn.Linear(5, CLASSES))

    def forward(self, x):
        return self.classifier(self.features(x))


def program(settings, epochs, optimizer):
    return f"""
dataset data {{
  train = csv("data.csv", target = "label")
  batch = {BATCH}
}}

model net(x: f32[{FEATURES}]) -> f32[{CLASSES}] {{
{LAYERS}
}}

finetune tune {{
  model = net
  from = "torch.safetensors"
  {RENAME}
  data = data
  loss = cross_entropy
  optimizer = {optimizer}
  epochs = {epochs}
{settings}
}}
"""


def torch_train(net, groups, make_opt, xt, yt, epochs, frozen_until):
    """frozen_until: {'features': E, 'mid': E}: frozen for epochs 1..E."""
    opt = make_opt(groups)
    modules = {"features": net.features, "mid": net.classifier[0]}
    losses = []
    for epoch in range(1, epochs + 1):
        net.train()
        for name, m in modules.items():
            frozen = frozen_until.get(name, 0) >= epoch
            for p in m.parameters():
                p.requires_grad_(not frozen)
            if frozen:
                m.eval()  # a frozen batchnorm keeps its running statistics
        losses += train_epochs(net, opt, torch.nn.CrossEntropyLoss(), xt, yt, 1, BATCH)
    return losses


def torch_names(key):
    """PyTorch's key -> nnc's name, as RENAME maps it."""
    for a, b in (("features.0.", "body.dense."), ("features.1.", "body.batchnorm."),
                 ("classifier.0.", "mid."), ("classifier.2.", "head.")):
        if key.startswith(a):
            return b + key[len(a):]
    return key


def parity(d, case, settings, epochs, optimizer, make_opt, scales, frozen_until):
    xt, yt = write_data(d, 21)
    torch.manual_seed(3)
    net = Net()
    with torch.no_grad():
        bn = net.features[1]
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.num_batches_tracked.fill_(7)
    initial = {k: v.clone() for k, v in net.state_dict().items()}
    write_safetensors(os.path.join(d, "torch.safetensors"), net.state_dict())
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(program(settings, epochs, optimizer))
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    out = run([exe, "train", "--checkpoint-dir", os.path.join(d, "ck"),
               "--log", os.path.join(d, "log.jsonl")], cwd=d).stdout
    if "freshly initialized 0" not in out or "loaded 10:" not in out:
        sys.exit(f"FAIL {case}: every tensor of the file should load:\n{out}")

    groups = [{"params": list(net.features.parameters()), "lr_scale": scales.get("body", 1)},
              {"params": list(net.classifier[0].parameters()), "lr_scale": scales.get("mid", 1)},
              {"params": list(net.classifier[2].parameters()), "lr_scale": scales.get("head", 1)}]
    losses = torch_train(net, groups, make_opt, xt, yt, epochs, frozen_until)

    got = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    for key, t in net.state_dict().items():
        name = torch_names(key)
        want = t.detach().numpy()
        dtype, have = got[name]
        if key.endswith("num_batches_tracked"):
            if dtype != "I64" or int(have) != int(want):
                sys.exit(f"FAIL {case}: {name} is {have}, PyTorch {int(want)}")
            continue
        if not np.allclose(have, want, rtol=2e-4, atol=2e-5):
            sys.exit(f"FAIL {case}: {name} differs from PyTorch (max abs diff "
                     f"{np.max(np.abs(have - want)):.3g})\nnnc:\n{have}\ntorch:\n{want}")
    check_logged_losses(d, case, losses)
    return got, initial, out


def adam(groups, lr=0.01):
    return torch.optim.Adam([{"params": g["params"], "lr": lr * g["lr_scale"]}
                             for g in groups], lr=lr)


def freeze_until(d):
    got, _, out = parity(d, "freeze_until",
                         "  freeze = [body] until 1\n  lr_scale = { body: 0.5, head: 2 }",
                         3, "adam(lr = 0.01)", adam, {"body": 0.5, "head": 2},
                         {"features": 1})
    for want in ("frozen for epochs 1-1: body", "learning rate x 0.5: body",
                 "learning rate x 2: head"):
        if want not in out:
            sys.exit(f"FAIL freeze_until: '{want}' not reported:\n{out}")
    print("ok freeze_until: body frozen in epoch 1 then trained at lr x 0.5, head x 2: "
          f"{len(got)} tensors match PyTorch")


def unfreeze(d):
    got, _, out = parity(d, "unfreeze",
                         "  freeze = [body, mid] until 3\n  unfreeze = { mid: 2 }",
                         4, "adam(lr = 0.01)", adam, {}, {"features": 3, "mid": 1})
    if "trained from epoch 2: mid.weight, mid.bias" not in out:
        sys.exit(f"FAIL unfreeze: the earlier unfreeze is not reported:\n{out}")
    print(f"ok unfreeze: three phases, {len(got)} tensors match PyTorch")


def frozen_run(d):
    def sgd(groups):
        return torch.optim.SGD([{"params": g["params"], "lr": 0.1 * g["lr_scale"]}
                                for g in groups], lr=0.1, momentum=0.9)
    got, initial, _ = parity(d, "frozen_run", "  freeze = [body]\n  lr_scale = { mid: 0.25 }",
                             3, "sgd(lr = 0.1, momentum = 0.9)", sgd, {"mid": 0.25},
                             {"features": 99})
    for key, t in initial.items():
        name = torch_names(key)
        if key.startswith("features.") and not np.array_equal(got[name][1], t.numpy()):
            sys.exit(f"FAIL frozen_run: frozen {name} changed")
    states = [n for n in got if n.startswith("optimizer.body.")]
    if states:
        sys.exit(f"FAIL frozen_run: optimizer state kept for frozen parameters: {states}")
    if "optimizer.head.weight.momentum_buffer" not in got:
        sys.exit("FAIL frozen_run: no momentum buffer for the trained head")
    print("ok frozen_run: body bit-identical, no optimizer state for it, "
          f"{len(got)} tensors match PyTorch")


CASES = {"freeze_until": freeze_until, "unfreeze": unfreeze, "frozen_run": frozen_run}


def main():
    work = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    failed = 0
    for name in names:
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        try:
            CASES[name](d)
        except SystemExit as e:
            print(e, file=sys.stdout)
            failed += 1
    print(f"{len(names) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
