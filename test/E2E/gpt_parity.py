#!/usr/bin/python3
"""A whole small GPT (SPEC 2.9's gpt_block, examples/gpt_fortunes.nn)
trained on corpus(...) in steps against the same model in PyTorch.

The model: token embedding + learned positions(T), `repeat 2 { gpt_block(D,
4) }` (pre-norm: layernorm, causal multi-head attention, dropout(0), the
residual add, layernorm, dense(4 D), exact (erf) gelu, dense(D), dropout(0),
the residual add), a final layernorm and `head: dense(257, bias = false)`:
logits [T, 257], cross_entropy over every position. The corpus is a folder
of three small text files (non-ASCII UTF-8 included), read in path order;
bytes tokenize to byte + 1, the stream's last quarter is the validation
split, windows of T ids do not overlap and their targets are the ids one
position later. AdamW (beta2 0.99, weight decay) with a cosine schedule
counted in steps, over more steps than an epoch has batches (the last batch
of each epoch partial), evaluating every few steps.

PyTorch builds the model with torch.nn.LayerNorm (eps 1e-5),
torch.nn.MultiheadAttention(D, heads, batch_first = True) with the causal
attn_mask, torch.nn.Linear and F.gelu (erf), initializes it (its own
default init: xavier in_proj weights; the in_proj bias drawn from
U(-0.1, 0.1)), and its parameters, saved under nnc's names, are the
program's initial weights (train --weights). Both sides train the same windows in the same order; the
checkpoint (every parameter and AdamW state) and the logged train_loss /
val_loss / lr of every evaluation must match.

One exception, checked apart: the k third of each in_proj_bias. Its
gradient is zero in exact arithmetic (q . b_k shifts a whole softmax row),
so both sides' gradients there are rounding noise (|g| ~ 1e-9), which
AdamW's normalization turns into steps of up to lr * |g| / eps that differ
between the two sides (sequence_parity.py uses SGD for that reason). For
it, each side must show a noise gradient (max |g|, bounded from its own
exp_avg_sq: v_T >= (1 - beta2) beta2^(T-1) g_t^2, below eps = 1e-8) and
stay within sum(lr_t) * max|g| / eps of the exact trajectory (the initial
value decayed by prod(1 - lr_t wd)); its optimizer state is compared with
the rest, and for the parameter comparison it takes nnc's values.

usage: gpt_parity.py WORKDIR
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import (check_checkpoint, check_logged_periods,  # noqa: E402
                       compile_and_train, cosine_lr, read_safetensors, run,
                       token_windows, write_safetensors)

torch.manual_seed(0)
torch.set_num_threads(1)

T, BATCH, DIM, HEADS, LAYERS, V = 16, 4, 32, 4, 2, 257
STEPS, EVAL_EVERY, WARMUP = 10, 4, 3
LR, MIN_LR, BETA2, WD = 0.003, 0.0003, 0.99, 0.1

TEXTS = {
    "1-fox.txt": "The quick brown fox jumps over the lazy dog; "
                 "the dog sleeps on.\n" * 2,
    "2-jugs.txt": "Pack my box with five dozen liquor jugs! "
                  "\u00e9t\u00e9, na\u00efve caf\u00e9.\n" * 2,
    "3-greek.txt": "\u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 "
                   "\u2014 Sphinx of black quartz, judge my vow.\n",
}


def write_corpus(d):
    corpus = os.path.join(d, "corpus")
    os.makedirs(corpus, exist_ok=True)
    stream = []
    for name in sorted(TEXTS):
        data = TEXTS[name].encode("utf-8")
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
        stream += [b + 1 for b in data]
    return np.array(stream, dtype=np.int64)


def windows(stream):
    return token_windows(stream, T)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln0 = torch.nn.LayerNorm(DIM)
        self.att = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True)
        self.ln1 = torch.nn.LayerNorm(DIM)
        self.up = torch.nn.Linear(DIM, 4 * DIM)
        self.down = torch.nn.Linear(4 * DIM, DIM)
        # Not zero, so that every third (q, k, v) of the bias takes part.
        torch.nn.init.uniform_(self.att.in_proj_bias, -0.1, 0.1)

    def forward(self, x, future):
        h = self.ln0(x)
        a, _ = self.att(h, h, h, attn_mask=future, need_weights=False)
        h = x + a
        return h + self.down(F.gelu(self.up(self.ln1(h))))

    def named(self, p):
        return {f"{p}.layernorm_0.weight": self.ln0.weight,
                f"{p}.layernorm_0.bias": self.ln0.bias,
                f"{p}.attention.in_proj_weight": self.att.in_proj_weight,
                f"{p}.attention.in_proj_bias": self.att.in_proj_bias,
                f"{p}.attention.out_proj.weight": self.att.out_proj.weight,
                f"{p}.attention.out_proj.bias": self.att.out_proj.bias,
                f"{p}.layernorm_1.weight": self.ln1.weight,
                f"{p}.layernorm_1.bias": self.ln1.bias,
                f"{p}.dense_0.weight": self.up.weight,
                f"{p}.dense_0.bias": self.up.bias,
                f"{p}.dense_1.weight": self.down.weight,
                f"{p}.dense_1.bias": self.down.bias}


class GPT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = torch.nn.Embedding(V, DIM)
        self.pos = torch.nn.Parameter(torch.randn(T, DIM))
        self.blocks = torch.nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln = torch.nn.LayerNorm(DIM)
        self.head = torch.nn.Linear(DIM, V, bias=False)

    def forward(self, ids):
        future = torch.ones(T, T, dtype=torch.bool).triu(1)
        h = self.tok(ids) + self.pos
        for b in self.blocks:
            h = b(h, future)
        return self.head(self.ln(h))

    def named(self):
        out = {"tok.weight": self.tok.weight, "pos.weight": self.pos}
        for i, b in enumerate(self.blocks):
            out.update(b.named(f"gpt_block_{i}"))
        out.update({"layernorm.weight": self.ln.weight,
                    "layernorm.bias": self.ln.bias,
                    "head.weight": self.head.weight})
        return out


def lr_at(step):
    return cosine_lr(step, LR, MIN_LR, WARMUP, STEPS)


def model_source():
    return f"""
dataset text {{
  train = corpus("corpus", block = {T})
  validation = split(train, 0.25)
  tokenize {{ bytes }}
  batch = {BATCH}
  shuffle = false
}}

block gpt_block(dim: int, heads: int, p: float = 0.0) {{
  skip = input
  layernorm
  attention(heads, causal = true, dropout = p)
  dropout(p)
  h = add(skip)
  layernorm
  dense(4 * dim)
  gelu
  dense(dim)
  dropout(p)
  add(h)
}}

model gpt(tokens: i32[{T}]) -> f32[{T}, {V}] {{
  tok: embedding({V}, {DIM})
  pos: positions({T})
  repeat {LAYERS} {{ gpt_block({DIM}, {HEADS}) }}
  layernorm
  head: dense({V}, bias = false)
}}

train {{
  model = gpt
  data = text
  loss = cross_entropy
  optimizer = adamw(lr = {LR}, beta2 = {BETA2}, weight_decay = {WD})
  schedule = cosine(warmup = {WARMUP}, min_lr = {MIN_LR})
  steps = {STEPS}
  eval_every = {EVAL_EVERY}
  metrics = [perplexity]
}}
"""


def torch_run(net, xt, yt, xv, yv):
    """Steps over the windows in order, reading on across epochs; the mean
    loss of each period and the validation loss after it."""
    opt = torch.optim.AdamW(net.named().values(), lr=LR, betas=(0.9, BETA2),
                            weight_decay=WD)
    batches = [(xt[s:s + BATCH], yt[s:s + BATCH])
               for s in range(0, len(xt), BATCH)]
    periods, total, count, lrs = [], 0.0, 0, []
    for step in range(STEPS):
        x, y = batches[step % len(batches)]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        lrs.append(lr_at(step))
        opt.zero_grad()
        loss = F.cross_entropy(net(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
        count += len(x)
        if (step + 1) % EVAL_EVERY == 0 or step + 1 == STEPS:
            with torch.no_grad():
                val = F.cross_entropy(net(xv).reshape(-1, V), yv.reshape(-1)).item()
            periods.append((step + 1, total / count, val, lrs[-1]))
            total, count = 0.0, 0
    return opt, periods


def check_key_bias(d, net, opt, init):
    """The k third of each in_proj_bias (see the module's docstring): a
    noise gradient and the exact zero-gradient AdamW trajectory within the
    bound that noise allows, on both sides; then PyTorch's copy takes nnc's
    values. Returns (max |g|, largest deviation, smallest bound)."""
    eps, k = 1e-8, slice(DIM, 2 * DIM)
    decay = math.prod(1 - lr_at(s) * WD for s in range(STEPS))
    lr_sum = sum(lr_at(s) for s in range(STEPS))
    got = read_safetensors(os.path.join(d, "ck", "last.safetensors"))
    gmax_all, dev_all, bound_all = 0.0, 0.0, math.inf
    for i, b in enumerate(net.blocks):
        name = f"gpt_block_{i}.attention.in_proj_bias"
        exact = init[name][k] * decay
        p = b.att.in_proj_bias
        for side, value, v in (
                ("nnc", got[name], got[f"optimizer.{name}.exp_avg_sq"]),
                ("PyTorch", p.detach().numpy(), opt.state[p]["exp_avg_sq"].numpy())):
            gmax = math.sqrt(float(np.max(v[k])) / ((1 - BETA2) * BETA2 ** (STEPS - 1)))
            bound = lr_sum * gmax / eps
            dev = float(np.max(np.abs(value[k] - exact)))
            if gmax >= eps or dev > bound:
                sys.exit(f"FAIL gpt: {side}'s k third of {name}: max |g| <= "
                         f"{gmax:.3g} (must be rounding noise, < {eps}), "
                         f"{dev:.3g} from the exact trajectory (bound {bound:.3g})")
            gmax_all, dev_all = max(gmax_all, gmax), max(dev_all, dev)
            bound_all = min(bound_all, bound)
        with torch.no_grad():
            p[k] = torch.tensor(got[name][k])
    return gmax_all, dev_all, bound_all


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    stream = write_corpus(d)
    val_len = round(0.25 * len(stream))
    xt, yt = windows(stream[:len(stream) - val_len])
    xv, yv = windows(stream[len(stream) - val_len:])
    if len(xt) % BATCH == 0 or len(xt) // BATCH + 1 >= STEPS or len(xv) == 0:
        sys.exit(f"FAIL: the corpus must give a partial last batch, fewer "
                 f"batches than steps and a validation window ({len(xt)} / "
                 f"{len(xv)} windows)")
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(model_source())
    net = GPT()
    write_safetensors(os.path.join(d, "init.safetensors"), net.named())
    exe = compile_and_train(d)

    init = {n: t.detach().clone().numpy() for n, t in net.named().items()}
    opt, periods = torch_run(net, xt, yt, xv, yv)
    noise = check_key_bias(d, net, opt, init)
    count, worst = check_checkpoint(d, "gpt", net.named(), opt, STEPS)
    check_logged_periods(d, periods)
    print(f"ok gpt: {count} tensors match PyTorch after {STEPS} steps over "
          f"{len(xt)} windows (max rel err {worst:.2e}); evaluations at steps "
          f"{[p[0] for p in periods]}; in_proj_bias k thirds: noise gradients "
          f"(max |g| {noise[0]:.1e}), within {noise[1]:.1e} of the exact AdamW "
          f"trajectory (bound {noise[2]:.1e})")


if __name__ == "__main__":
    main()
