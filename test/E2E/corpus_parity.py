#!/usr/bin/python3
"""A language model trained on corpus(...) in steps against PyTorch.

The corpus is a folder of two text files (read in path order) beside a
binary file, a hidden file and a link to one of the texts, which are not
read. Bytes tokenize to byte + 1; the stream's last quarter is the
validation split; windows of T ids do not overlap and their targets are the
ids one position later. The model (embedding, positions, dense over [T, D],
dense to [T, 257] logits) trains with AdamW and a cosine schedule counted in
steps, over more steps than an epoch has batches (the stream reads on into
the next epoch, the last batch of each epoch partial), evaluating every
few steps. PyTorch trains the same model from the same initial parameters
on the same windows in the same order with cross_entropy(z.view(-1, V),
y.view(-1)): the checkpoint, the logged losses and the learning rates must
match. Then a run cut by --steps mid-epoch and resumed must end with the
same parameters as the uninterrupted one.

usage: corpus_parity.py WORKDIR
"""
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import (check_checkpoint, check_logged_periods,  # noqa: E402
                       compile_and_train, cosine_lr, read_safetensors, run,
                       token_windows, write_safetensors)

torch.manual_seed(0)
torch.set_num_threads(1)

T, BATCH, DIM, V = 8, 4, 16, 257
STEPS, EVAL_EVERY, WARMUP, LR, MIN_LR, WD = 13, 5, 3, 0.01, 0.001, 0.1

TEXTS = {
    "a.txt": "The quick brown fox jumps over the lazy dog.\n" * 3,
    "b.txt": "Pack my box with five dozen liquor jugs! \u00e9t\u00e9\n" * 2,
}


def write_corpus(d):
    corpus = os.path.join(d, "corpus")
    os.makedirs(corpus, exist_ok=True)
    for name, text in TEXTS.items():
        with open(os.path.join(corpus, name), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(corpus, "a.dat"), "wb") as f:
        f.write(b"\x00\x01\x02binary index")
    with open(os.path.join(corpus, ".hidden"), "w") as f:
        f.write("not read")
    link = os.path.join(corpus, "c.u8")
    if not os.path.lexists(link):
        os.symlink("a.txt", link)
    stream = []
    for name in sorted(TEXTS):
        stream += [b + 1 for b in TEXTS[name].encode("utf-8")]
    return np.array(stream, dtype=np.int64)


def windows(stream):
    return token_windows(stream, T)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = torch.nn.Embedding(V, DIM)
        self.pos = torch.nn.Parameter(torch.randn(T, DIM))
        self.hidden = torch.nn.Linear(DIM, 32)
        self.head = torch.nn.Linear(32, V)

    def forward(self, ids):
        h = self.tok(ids) + self.pos
        return self.head(torch.relu(self.hidden(h)))

    def named(self):
        return {"tok.weight": self.tok.weight, "pos.weight": self.pos,
                "dense.weight": self.hidden.weight,
                "dense.bias": self.hidden.bias,
                "head.weight": self.head.weight, "head.bias": self.head.bias}


def lr_at(step):
    return cosine_lr(step, LR, MIN_LR, WARMUP, STEPS)


def model_source():
    return f"""
dataset text {{
  train = corpus("corpus", block = {T})
  validation = split(train, 0.25)
  tokenize {{ bytes }}
  batch = {BATCH}
}}

model lm(tokens: i32[{T}]) -> f32[{T}, {V}] {{
  tok: embedding({V}, {DIM})
  pos: positions({T})
  dense(32)
  relu
  head: dense({V})
}}

train {{
  model = lm
  data = text
  loss = cross_entropy
  optimizer = adamw(lr = {LR}, weight_decay = {WD})
  schedule = cosine(warmup = {WARMUP}, min_lr = {MIN_LR})
  steps = {STEPS}
  eval_every = {EVAL_EVERY}
  metrics = [perplexity, accuracy]
}}
"""


def torch_run(net, xt, yt, xv, yv):
    """Steps over the windows in order, reading on across epochs; the mean
    loss of each period and the validation loss after it."""
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WD)
    batches = [(xt[s:s + BATCH], yt[s:s + BATCH])
               for s in range(0, len(xt), BATCH)]
    periods, total, count, lrs = [], 0.0, 0, []
    for step in range(STEPS):
        x, y = batches[step % len(batches)]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        lrs.append(lr_at(step))
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x).reshape(-1, V),
                                                 y.reshape(-1))
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
        count += len(x)
        if (step + 1) % EVAL_EVERY == 0 or step + 1 == STEPS:
            with torch.no_grad():
                val = torch.nn.functional.cross_entropy(
                    net(xv).reshape(-1, V), yv.reshape(-1)).item()
            periods.append((step + 1, total / count, val, lrs[-1]))
            total, count = 0.0, 0
    return opt, periods


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    stream = write_corpus(d)
    val_len = round(0.25 * len(stream))
    xt, yt = windows(stream[:len(stream) - val_len])
    xv, yv = windows(stream[len(stream) - val_len:])
    if len(xt) % BATCH == 0 or len(xt) // BATCH + 1 >= STEPS:
        sys.exit(f"FAIL: the corpus must give a partial last batch and "
                 f"fewer batches than steps ({len(xt)} windows)")
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(model_source())
    net = Net()
    write_safetensors(os.path.join(d, "init.safetensors"), net.named())
    exe = compile_and_train(d)

    opt, periods = torch_run(net, xt, yt, xv, yv)
    count, worst = check_checkpoint(d, "corpus", net.named(), opt, STEPS)
    check_logged_periods(d, periods)
    print(f"ok corpus: {count} tensors match PyTorch after {STEPS} steps over "
          f"{len(xt)} windows (max rel err {worst:.2e}); evaluations at steps "
          f"{[p[0] for p in periods]}")

    # Cut mid-epoch by --steps, then resumed: the same parameters.
    cut = os.path.join(d, "cut")
    run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
         "--checkpoint-dir", cut, "--quiet", "--steps", "6"])
    run([exe, "train", "--resume", "--checkpoint-dir", cut, "--quiet",
         "--log", os.path.join(d, "resumed.jsonl")])
    whole = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    resumed = read_safetensors(os.path.join(cut, "last.safetensors"))
    for name, w in whole.items():
        if not np.array_equal(w, resumed[name]):
            sys.exit(f"FAIL: resumed run's {name} differs from the whole run's "
                     f"(max abs diff {np.max(np.abs(w - resumed[name])):.3g})")
    steps = [json.loads(l)["step"] for l in open(os.path.join(d, "resumed.jsonl"))
             if json.loads(l)["event"] == "epoch"]
    print(f"ok resume: cut at step 6, resumed to {STEPS} (evaluations at "
          f"{steps}): {len(whole)} tensors equal the whole run's")


if __name__ == "__main__":
    main()
