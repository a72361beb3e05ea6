#!/usr/bin/env python3
"""PyTorch's training throughput on the models of bench/, in its best
configuration on these machines (see ../shared/TOOLCHAIN.md): OpenBLAS,
2 torch threads, OPENBLAS_NUM_THREADS=1 (set by bench/run.sh).

  pytorch_reference.py mlp|cnn [--epochs N] [--threads N]

Trains on Fashion-MNIST with the SPEC's settings (90% of train, batch 64,
shuffled, Adam 1e-3) and prints one JSON object per epoch with samples/s,
then the test accuracy.
"""
import argparse
import gzip
import json
import struct
import time

import numpy as np
import torch

FASHION = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, 28, 28)
    return np.frombuffer(data, np.uint8, offset=8)


def model(kind):
    if kind == "mlp":
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128),
                                   torch.nn.ReLU(), torch.nn.Linear(128, 10))
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 5 * 5, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["mlp", "cnn"])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.tensor((idx(f"{FASHION}/train-images-idx3-ubyte.gz") / 255.0 - 0.2860) / 0.3530,
                     dtype=torch.float32)
    y = torch.tensor(idx(f"{FASHION}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xt = torch.tensor((idx(f"{FASHION}/t10k-images-idx3-ubyte.gz") / 255.0 - 0.2860) / 0.3530,
                      dtype=torch.float32)
    yt = torch.tensor(idx(f"{FASHION}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    perm = torch.randperm(len(x))
    train = perm[: int(len(x) * 0.9)]
    net = model(args.model)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        order = train[torch.randperm(len(train))]
        start = time.perf_counter()
        net.train()
        for i in range(0, len(order), 64):
            b = order[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(net(x[b]), y[b])
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        print(json.dumps({"event": "epoch", "epoch": epoch, "samples_per_s": len(order) / seconds,
                          "seconds": seconds}), flush=True)
    net.eval()
    with torch.no_grad():
        start = time.perf_counter()
        correct = sum((net(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item()
                      for i in range(0, len(xt), 1000))
        seconds = time.perf_counter() - start
    print(json.dumps({"event": "done", "test_accuracy": correct / len(xt),
                      "eval_samples_per_s": len(xt) / seconds}))


if __name__ == "__main__":
    main()
