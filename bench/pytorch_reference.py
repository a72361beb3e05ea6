#!/usr/bin/env python3
"""PyTorch on the models of bench/, in its best configuration on these
machines (see ../shared/TOOLCHAIN.md): OpenBLAS, N torch threads (2 = all
cores here) and one BLAS thread (OPENBLAS_NUM_THREADS=1, set below before
torch is imported unless the caller set it).

  pytorch_reference.py mlp|cnn [--epochs N] [--threads N]
      Trains on Fashion-MNIST with the SPEC's settings (90% of train, batch
      64, shuffled, Adam 1e-3) and prints one JSON object per epoch with
      samples/s, then the test accuracy.

  pytorch_reference.py mlp|cnn --bench-steps N [--warmup W] [--batch B]
                       [--width W] [--channels C] [--eval] [--threads N]
      What bench/bench.py measures: W untimed steps, then N timed optimizer
      steps (batch gathering and normalization included, as in nnc's train
      loop), then with --eval the test split in batches of B under no_grad.
      Prints one JSON object. --width is the MLP's hidden width (128),
      --channels the CNN's first convolution's channels (32; the second has
      twice as many).
"""
import argparse
import gzip
import json
import os
import struct
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, 1, 28, 28)
    return np.frombuffer(data, np.uint8, offset=8)


def conv_bn_relu(cin, cout):
    """examples/blocks.nn's conv_bn_relu (3x3, padding same)."""
    return [torch.nn.Conv2d(cin, cout, 3, padding=1), torch.nn.BatchNorm2d(cout),
            torch.nn.ReLU()]


class Residual(torch.nn.Module):
    """examples/blocks.nn's residual(c)."""
    def __init__(self, c):
        super().__init__()
        self.body = torch.nn.Sequential(*conv_bn_relu(c, c), torch.nn.Conv2d(c, c, 3, padding=1),
                                        torch.nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(self.body(x) + x)


class Inception(torch.nn.Module):
    """examples/blocks.nn's inception(c): 1x1; 1x1 then 3x3; 3x3 max pool
    then 1x1; concatenated."""
    def __init__(self, cin, c):
        super().__init__()
        self.a = torch.nn.Conv2d(cin, c, 1)
        self.b = torch.nn.Sequential(torch.nn.Conv2d(cin, c, 1), torch.nn.Conv2d(c, c, 3, padding=1))
        self.p = torch.nn.Sequential(torch.nn.MaxPool2d(3, 1, 1), torch.nn.Conv2d(cin, c, 1))

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x), self.p(x)], 1)


def model(kind, width=128, channels=32):
    if kind == "resnet_mini":  # examples/resnet_mini.nn
        return torch.nn.Sequential(
            *conv_bn_relu(1, 32), Residual(32), Residual(32), Residual(32), Inception(32, 16),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(48, 10))
    if kind == "spec_cnn":  # examples/fashion_cnn.nn
        return torch.nn.Sequential(
            *conv_bn_relu(1, 32), torch.nn.MaxPool2d(2), *conv_bn_relu(32, 64),
            torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64 * 7 * 7, 128),
            torch.nn.ReLU(), torch.nn.Dropout(0.25), torch.nn.Linear(128, 10))
    if kind == "mlp":
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, width),
                                   torch.nn.ReLU(), torch.nn.Linear(width, 10))
    c1, c2 = channels, 2 * channels
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(c2 * 5 * 5, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


def normalized(images):
    """uint8 images -> the SPEC's preprocessing (scale 1/255, normalize)."""
    return (images.float() * (1 / 255) - MEAN) / STD


def blas():
    """The BLAS library torch's process has loaded (OpenBLAS is expected)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower()}
    return sorted(os.path.basename(p) for p in libs if p.startswith("/"))


def setup():
    """What this process runs with: versions, threads, BLAS, oneDNN, and the
    allocator settings bench.py passes (issue 17: PyTorch at its best)."""
    return {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "blas": blas(),
            "onednn_available": torch.backends.mkldnn.is_available(),
            "onednn_enabled": bool(torch.backends.mkldnn.enabled),
            "malloc": {k: os.environ.get(k) for k in (
                "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")}}


def augmented(images):
    """SPEC 2.3's augment block on a batch: random_crop(28, padding = 2),
    flip(horizontal, p = 0.5), rotate(degrees = 10), each drawn per image."""
    n = len(images)
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    dy, dx = torch.randint(0, 5, (n,)), torch.randint(0, 5, (n,))
    images = torch.stack([padded[k, :, dy[k]:dy[k] + 28, dx[k]:dx[k] + 28]
                          for k in range(n)])
    flip = torch.rand(n) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    angle = (torch.rand(n) * 2 - 1) * (10 * np.pi / 180)
    cos, sin, zero = angle.cos(), angle.sin(), torch.zeros(n)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1),
                         torch.stack([sin, cos, zero], 1)], 1)
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, align_corners=False)


def bench(args):
    torch.manual_seed(0)
    x = torch.from_numpy(idx(f"{FASHION}/train-images-idx3-ubyte.gz").copy())
    y = torch.from_numpy(idx(f"{FASHION}/train-labels-idx1-ubyte.gz").astype(np.int64))
    net = model(args.model, args.width, args.channels)
    spec = args.model == "spec_cnn"
    if spec:  # examples/fashion_cnn.nn's training settings
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
        loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
        steps_per_epoch, epochs = len(x) * 9 // 10 // args.batch, 10

        def lr_at(step):  # cosine(warmup = 1 epoch, min_lr = 1e-5)
            if step < steps_per_epoch:
                return (step + 1) / steps_per_epoch
            p = (step - steps_per_epoch) / (steps_per_epoch * (epochs - 1))
            return (1e-5 + (1e-3 - 1e-5) * (1 + np.cos(np.pi * min(p, 1.0))) / 2) / 1e-3
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
    if args.model == "resnet_mini":  # cosine(min_lr = 1e-5) over 3 epochs
        total = len(x) * 9 // 10 // args.batch * 3
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (1e-5 + (1e-3 - 1e-5) * (1 + np.cos(np.pi * min(s / total, 1.0))) / 2)
            / 1e-3)
    order = torch.randperm(len(x))
    batch = args.batch

    def step(i):
        b = order[(i * batch) % (len(order) - batch):][:batch]
        opt.zero_grad()
        images = normalized(x[b])
        if spec:
            images = augmented(images)
        loss = loss_fn(net(images), y[b])
        loss.backward()
        if spec:
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if spec or args.model == "resnet_mini":
            sched.step()
        return loss

    net.train()
    for i in range(args.warmup):
        step(i)
    start = time.perf_counter()
    for i in range(args.warmup, args.warmup + args.bench_steps):
        loss = step(i)
    seconds = time.perf_counter() - start
    out = {"model": args.model, "threads": torch.get_num_threads(),
           "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
           "blas": blas(), "setup": setup(), "batch": batch, "warmup_steps": args.warmup,
           "steps": args.bench_steps, "train_seconds": seconds,
           "train_samples_per_s": args.bench_steps * batch / seconds,
           "final_loss": float(loss)}
    if args.eval:
        xt = torch.from_numpy(idx(f"{FASHION}/t10k-images-idx3-ubyte.gz").copy())
        yt = torch.from_numpy(idx(f"{FASHION}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
        net.eval()
        with torch.no_grad():
            start = time.perf_counter()
            correct, total = 0, 0.0
            for i in range(0, len(xt), batch):
                logits = net(normalized(xt[i:i + batch]))
                total += float(loss_fn(logits, yt[i:i + batch])) * len(logits)
                correct += int((logits.argmax(1) == yt[i:i + batch]).sum())
            seconds = time.perf_counter() - start
        out.update({"eval_samples": len(xt), "eval_seconds": seconds,
                    "eval_samples_per_s": len(xt) / seconds})
    print(json.dumps(out), flush=True)


def train(args):
    torch.manual_seed(0)
    x = normalized(torch.from_numpy(idx(f"{FASHION}/train-images-idx3-ubyte.gz").copy()))
    y = torch.tensor(idx(f"{FASHION}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xt = normalized(torch.from_numpy(idx(f"{FASHION}/t10k-images-idx3-ubyte.gz").copy()))
    yt = torch.tensor(idx(f"{FASHION}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    perm = torch.randperm(len(x))
    train = perm[: int(len(x) * 0.9)]
    net = model(args.model, args.width, args.channels)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        order = train[torch.randperm(len(train))]
        start = time.perf_counter()
        net.train()
        for i in range(0, len(order), args.batch):
            b = order[i:i + args.batch]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["mlp", "cnn", "spec_cnn", "resnet_mini"])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--bench-steps", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--eval", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.bench_steps > 0:
        bench(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
