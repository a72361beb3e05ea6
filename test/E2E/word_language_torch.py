#!/usr/bin/env python3
"""examples/word_language.nn against the same model in PyTorch (issue 13:
accuracy within 1 point, same data and epochs).

The example's model (embedding(257, 32) -> gru(64) -> dense(7), Adam 0.01,
batch 32) is trained by nnc and by PyTorch (torch.nn.Embedding, torch.nn.GRU
on packed sequences, torch.nn.Linear) from the same initial parameters on
the same batches: the training words in one fixed shuffled order (written
to the CSV; `shuffle = false`, no validation split, so that both see the
same batches), every epoch. Both classify the test words; the accuracies
must agree within 1 point, and both must be far above chance.

usage: word_language_torch.py WORKDIR WORDS_DIR EXAMPLE EPOCHS
"""
import csv
import json
import os
import sys

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from e2e_util import run, train_epochs, write_safetensors

torch.set_num_threads(1)
T, BATCH, SEEDS = 16, 32, 3


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(r["word"], r["language"]) for r in csv.DictReader(f)]


def ids(word):
    b = list(word.encode("utf-8"))[:T]
    return [v + 1 for v in b] + [0] * (T - len(b))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(257, 32)
        self.gru = torch.nn.GRU(32, 64, batch_first=True)
        self.dense = torch.nn.Linear(64, 7)

    def forward(self, x):
        lengths = (x != 0).sum(1)
        _, h = self.gru(pack_padded_sequence(self.embedding(x), lengths, batch_first=True,
                                             enforce_sorted=False))
        return self.dense(h[-1])


def main():
    work, words, example, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    train, test = read(os.path.join(words, "train.csv")), read(os.path.join(words, "test.csv"))
    order = np.random.default_rng(0).permutation(len(train))
    train = [train[i] for i in order]
    with open(os.path.join(work, "train.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["word", "language"])
        w.writerows(train)
    src = open(example, encoding="utf-8").read()
    for old, new in [("shuffle = true", "shuffle = false"),
                     ("  validation = split(train, 0.1, seed = 1)\n", "")]:
        if old not in src:
            sys.exit(f"FAIL: the example no longer has '{old.strip()}'")
        src = src.replace(old, new)
    with open(os.path.join(work, "net.nn"), "w", encoding="utf-8") as f:
        f.write(src)

    exe = os.path.join(work, "net")
    run(["nnc", os.path.join(work, "net.nn"), "-o", exe])
    classes = sorted({lang for _, lang in train})
    xt = torch.tensor([ids(w) for w, _ in train])
    yt = torch.tensor([classes.index(lang) for _, lang in train])
    xs = torch.tensor([ids(w) for w, _ in test])
    ys = torch.tensor([classes.index(lang) for _, lang in test])
    data = ["--data", "train=" + os.path.join(work, "train.csv"),
            "--data", "test=" + os.path.join(words, "test.csv")]
    nnc_accs, torch_accs = [], []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        net = Net()
        init = os.path.join(work, f"init{seed}.safetensors")
        write_safetensors(init, {f"{m}.{n}": p for m in ("embedding", "gru", "dense")
                                 for n, p in getattr(net, m).named_parameters()})
        ck, log = os.path.join(work, f"ck{seed}"), os.path.join(work, f"log{seed}.jsonl")
        run([exe, "train", "--quiet", "--epochs", str(epochs), "--weights", init,
             "--checkpoint-dir", ck, "--log", log] + data)
        out = run([exe, "eval", "--json", "--split", "test", "--weights",
                   os.path.join(ck, "last.safetensors")] + data)
        nnc_accs.append(json.loads(out.stdout)["accuracy"])
        with open(log) as f:
            nnc_losses = [e["train_loss"] for e in map(json.loads, f) if e["event"] == "epoch"]

        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        torch_losses = train_epochs(net, opt, loss_fn, xt, yt, epochs, BATCH)
        with torch.no_grad():
            torch_accs.append(float((net(xs).argmax(1) == ys).float().mean()))
        print(f"seed {seed}: epoch train losses nnc "
              + " ".join("%.5f" % v for v in nnc_losses) + ", PyTorch "
              + " ".join("%.5f" % v for v in torch_losses)
              + f"; test accuracy nnc {nnc_accs[-1]:.4f}, PyTorch {torch_accs[-1]:.4f}")
        # The first epoch is the same computation (the same parameters and
        # batches); later ones drift apart as any two runs of Adam whose
        # numbers differ in the last bit (PyTorch against itself with one
        # weight moved by 1e-7 drifts as much).
        if abs(nnc_losses[0] - torch_losses[0]) > 1e-4 * torch_losses[0]:
            sys.exit("FAIL: the first epoch's losses differ")
    nnc_mean, torch_mean = float(np.mean(nnc_accs)), float(np.mean(torch_accs))
    print(f"mean test accuracy over {SEEDS} initializations: nnc {nnc_mean:.4f}, "
          f"PyTorch {torch_mean:.4f} ({len(test)} test words, {epochs} epochs)")
    if abs(nnc_mean - torch_mean) > 0.01:
        sys.exit("FAIL: mean accuracies differ by more than 1 point")
    if min(nnc_mean, torch_mean) < 0.6:
        sys.exit("FAIL: accuracy below 0.6")
    print("ok: within 1 point of PyTorch")


if __name__ == "__main__":
    main()
