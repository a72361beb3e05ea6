#!/usr/bin/env python3
"""Checkpoints move between nnc and PyTorch, on Fashion-MNIST.

nnc_to_torch  A CNN trained by nnc (examples/transfer.nn, model `ten`)
              loads into the same PyTorch module by name
              (load_state_dict(strict=True)) and scores exactly the accuracy
              `./model eval` reports on the same test images.
torch_to_nnc  The same CNN trained in PyTorch as an nn.Sequential (PyTorch's
              own key names), saved as safetensors, is fine-tuned in nnc with
              `rename` and its features frozen: every tensor loads, and after one epoch on 500 new images the accuracy is
              close to the PyTorch model's (random features would score far
              below).

usage: interop.py WORKDIR TRANSFER_NN TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS
                  TUNE_IMAGES TUNE_LABELS
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

from e2e_util import read_safetensors_typed, run, write_safetensors

torch.set_num_threads(1)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


class FeaturesOf(torch.nn.Module):
    """nnc's block features_of(16): names as nnc gives them."""

    def __init__(self):
        super().__init__()
        self.conv2d_0 = torch.nn.Conv2d(1, 16, 3)
        self.batchnorm = torch.nn.BatchNorm2d(16)
        self.conv2d_1 = torch.nn.Conv2d(16, 32, 3)
        self.dense = torch.nn.Linear(800, 64)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.batchnorm(self.conv2d_0(x))), 2)
        x = torch.max_pool2d(torch.relu(self.conv2d_1(x)), 2)
        return torch.relu(self.dense(x.flatten(1)))


class Ten(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Module()
        self.features.features_of_0 = FeaturesOf()
        self.head = torch.nn.Linear(64, 10)

    def forward(self, x):
        return self.head(self.features.features_of_0(x))


def sequential():
    """The same network as PyTorch users write it: other key names."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(800, 64),
        torch.nn.ReLU(), torch.nn.Linear(64, 10))


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def eval_json(exe, weights, test_images, test_labels, cwd):
    r = run([exe, "eval", "--json", "--weights", weights, "--data",
             f"test={test_images},{test_labels}"], cwd=cwd)
    return json.loads(r.stdout.strip().splitlines()[-1])


def nnc_to_torch(d, nn_file, train, test, x_test, y_test):
    exe = os.path.join(d, "scratch")
    run(["nnc", nn_file, "--train", "scratch", "-o", exe])
    run([exe, "train", "--quiet", "--epochs", "2", "--checkpoint-dir", "ck",
         "--data", f"train={train[0]},{train[1]}"], cwd=d)
    ck = os.path.join(d, "ck", "last.safetensors")
    tensors = read_safetensors_typed(ck)
    net = Ten()
    state = {k: torch.from_numpy(a.copy()) for k, (_, a) in tensors.items()
             if not k.startswith(("optimizer.", "nnrt.", "preprocess."))}
    net.load_state_dict(state, strict=True)
    want = eval_json(exe, ck, test[0], test[1], d)["accuracy"]
    got = accuracy(net, x_test, y_test)
    n = len(y_test)  # the same number of correct images
    if round(got * n) != round(want * n):
        sys.exit(f"FAIL nnc_to_torch: PyTorch scores {got} with nnc's weights, nnc {want}")
    print(f"ok nnc_to_torch: {len(state)} tensors loaded by name (strict), "
          f"test accuracy {got:.4f} in PyTorch = {want:.4f} in nnc")


RENAME = """  rename = { "0.": "features.features_of_0.conv2d_0.",
             "1.": "features.features_of_0.batchnorm.",
             "4.": "features.features_of_0.conv2d_1.",
             "8.": "features.features_of_0.dense.",
             "10.": "head." }"""


def torch_to_nnc(d, nn_file, train, test, tune, x_test, y_test):
    x = torch.from_numpy(read_idx(train[0]).astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(read_idx(train[1]).astype(np.int64))
    torch.manual_seed(0)
    net = sequential()
    opt = torch.optim.Adam(net.parameters(), lr=0.002)
    crit = torch.nn.CrossEntropyLoss()
    for _ in range(2):
        net.train()
        perm = torch.randperm(len(x))
        for s in range(0, len(x), 64):
            idx = perm[s:s + 64]
            opt.zero_grad()
            crit(net(x[idx]), y[idx]).backward()
            opt.step()
    torch_acc = accuracy(net, x_test, y_test)
    write_safetensors(os.path.join(d, "torch.safetensors"), net.state_dict())

    src = open(nn_file).read()
    decl = f"""
finetune from_torch {{
  model = ten
  from = "torch.safetensors"
{RENAME}
  data = few_labels
  freeze = [features]
  loss = cross_entropy
  optimizer = adam(lr = 0.001)
  epochs = 1
  metrics = [accuracy]
}}
"""
    tuned_nn = os.path.join(d, "from_torch.nn")
    with open(tuned_nn, "w") as f:
        f.write(src + decl)
    exe = os.path.join(d, "from_torch")
    run(["nnc", tuned_nn, "--train", "from_torch", "-o", exe])
    out = run([exe, "train", "--checkpoint-dir", "ft",
               "--data", f"train={tune[0]},{tune[1]}"], cwd=d).stdout
    if "loaded 13:" not in out or "freshly initialized 0" not in out:
        sys.exit(f"FAIL torch_to_nnc: PyTorch's tensors did not all load:\n{out}")
    got = eval_json(exe, os.path.join(d, "ft", "last.safetensors"), test[0], test[1],
                    d)["accuracy"]
    if got < torch_acc - 0.05 or got < 0.7:
        sys.exit(f"FAIL torch_to_nnc: fine-tuned accuracy {got:.4f}, the PyTorch model "
                 f"scored {torch_acc:.4f}")
    print(f"ok torch_to_nnc: PyTorch-trained accuracy {torch_acc:.4f}; head fine-tuned "
          f"in nnc on frozen PyTorch features: {got:.4f}")


def main():
    d, nn_file = sys.argv[1], sys.argv[2]
    train = (sys.argv[3], sys.argv[4])
    test = (sys.argv[5], sys.argv[6])
    tune = (sys.argv[7], sys.argv[8])
    x_test = torch.from_numpy(read_idx(test[0]).astype(np.float32) / 255).unsqueeze(1)
    y_test = torch.from_numpy(read_idx(test[1]).astype(np.int64))
    failed = 0
    for name, case in (("nnc_to_torch", lambda: nnc_to_torch(d, nn_file, train, test,
                                                              x_test, y_test)),
                       ("torch_to_nnc", lambda: torch_to_nnc(d, nn_file, train, test, tune,
                                                              x_test, y_test))):
        os.makedirs(d, exist_ok=True)
        try:
            case()
        except SystemExit as e:
            print(e)
            failed += 1
    print(f"{2 - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
