#!/usr/bin/env python3
"""Whole training runs through embedding, dense over [T, F] and the masked
pools over time against PyTorch.

Like activation_parity.py: each case writes a CSV of token ids (one column
per step, ragged lengths padded at the end with id 0, some rows without any
real token, repeated ids so that maxima tie), initializes the model in
PyTorch, saves it as safetensors, compiles the program with nnc, trains it
from those parameters without shuffling and trains the PyTorch model on the
same batches. The final parameters, the optimizer state and the logged
epoch losses must agree to float32 tolerance. N = 70 in batches of 16: the
last batch of every epoch is partial. T = 7 steps (70 for attention).

PyTorch side: padding is masked as `pack_padded_sequence` would see it (id 0
is padding): the mean is over the real steps (0 without any), the maximum
over the real steps (0 without any), torch.max's first index among ties.

- emb_avg_ce: embedding -> dense over [T, F] -> relu -> global_avgpool ->
  dense, cross_entropy, Adam.
- emb_max_mse: embedding -> tanh -> global_maxpool -> dense, mse, SGD with
  momentum; ids drawn from 5 values so that steps repeat (ties).
- emb_pos_avg_ce: embedding + positions(T) -> tanh -> global_avgpool ->
  dense: the position table's gradient is the batch's sum at each step
  (padded steps included: they reach no pool), Adam.
- emb_flatten_ce: embedding -> flatten -> dense: no mask, the padding
  embedding row is trained as every other (torch.nn.Embedding without
  padding_idx), SGD.
- emb_conv1d_max_ce: embedding -> conv1d(padding = same) -> relu ->
  global_maxpool: padded steps zeroed before the convolution, the output
  mask the input's.
- emb_conv1d_strided_mse: conv1d(kernel 2, stride 2): fewer steps; a step is
  real when the input step at its window's centre is.
- gru_ce, lstm_bi_seq_mse, rnn_relu_layers_ce, gru_bi_layers_max_ce,
  lstm_tanh_rnn_stack_mse: rnn / lstm / gru against torch.nn.RNN / LSTM /
  GRU on packed sequences (pack_padded_sequence; every row has a real step,
  as PyTorch cannot pack an empty one): final states (both directions,
  forward first), stacked layers, step outputs pooled over the real steps,
  and an lstm's padded outputs feeding a second recurrent layer.
- emb_pos_attn_causal_avg_ce, emb_attn_max_mse: attention(heads, causal)
  against torch.nn.MultiheadAttention(batch_first = True) as
  self-attention with key_padding_mask = (ids == 0) (and the causal
  attn_mask): the same parameter names and layouts (in_proj_weight,
  in_proj_bias, out_proj.weight, out_proj.bias); every row has a real token
  (PyTorch gives NaN for a query without keys).
- emb_attn_dropout_ce: attention(2, causal, dropout = 0.25) against the same
  math written out in torch with the generated code's dropout mask (the
  step's seed from the run seed, --seed 5, through nn.dropout's documented
  hash): dropout on the weights through the whole pipeline.

usage: sequence_parity.py WORKDIR [CASE ...]
"""
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from e2e_util import (check_checkpoint, check_logged_losses, run, run_cases, train_epochs,
                       write_safetensors)

torch.set_num_threads(1)

N, T, BATCH = 70, 7, 16


def real_mask(ids):
    return (ids != 0).float()


def conv1d_steps(conv, x, m):
    """torch.nn.Conv1d on [N, T, F] with padded steps zeroed first; an
    output step is real when the input step at its window's centre is."""
    x = x * m[..., None]
    y = conv(x.transpose(1, 2)).transpose(1, 2)
    k, s, p = conv.kernel_size[0], conv.stride[0], conv.padding
    left = (k - 1) // 2 if p == "same" else p[0]
    centres = [t * s - left + (k - 1) // 2 for t in range(y.shape[1])]
    cols = [m[:, c] if 0 <= c < m.shape[1] else torch.zeros(m.shape[0]) for c in centres]
    return y, torch.stack(cols, 1)


def masked_max(h, m):
    h = h.masked_fill(m[..., None] == 0, float("-inf"))
    v = h.max(1).values
    return torch.where(m.sum(1, keepdim=True) > 0, v, torch.zeros_like(v))


def masked_mean(h, m):
    return (h * m[..., None]).sum(1) / m.sum(1).clamp(min=1)[:, None]



class EmbAvg(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 6)
        self.proj, self.head = torch.nn.Linear(6, 8), torch.nn.Linear(8, 3)

    def forward(self, ids):
        return self.head(masked_mean(F.relu(self.proj(self.emb(ids))), real_mask(ids)))


class EmbPosAvg(torch.nn.Module):
    """positions(T): a learned [T, D] table added to the embeddings (the
    padded steps too; the pool then skips them)."""
    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 5)
        self.pos = torch.nn.Embedding(T, 5)
        self.head = torch.nn.Linear(5, 3)

    def forward(self, ids):
        h = torch.tanh(self.emb(ids) + self.pos.weight)
        return self.head(masked_mean(h, real_mask(ids)))


class EmbMax(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 4)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, ids):
        return self.head(masked_max(torch.tanh(self.emb(ids)), real_mask(ids)))


class EmbFlatten(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 3)
        self.head = torch.nn.Linear(3 * T, 4)

    def forward(self, ids):
        return self.head(self.emb(ids).flatten(1))


class EmbConvMax(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 5)
        self.conv = torch.nn.Conv1d(5, 6, 3, padding="same")
        self.head = torch.nn.Linear(6, 3)

    def forward(self, ids):
        y, m = conv1d_steps(self.conv, self.emb(ids), real_mask(ids))
        return self.head(masked_max(F.relu(y), m))


class EmbConvStrided(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 4)
        self.conv = torch.nn.Conv1d(4, 5, 2, stride=2)
        self.head = torch.nn.Linear(5, 2)

    def forward(self, ids):
        y, m = conv1d_steps(self.conv, self.emb(ids), real_mask(ids))
        return self.head(masked_mean(torch.tanh(y), m))


class EmbRec(torch.nn.Module):
    """embedding -> a torch.nn.RNN / LSTM / GRU on packed sequences -> the
    last layer's final states (both directions, forward first) or the padded
    step outputs pooled over the real steps -> dense."""

    def __init__(self, vocab, dim, make_rec, width, out, pool=None):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, dim)
        self.rec = make_rec(dim)
        self.head = torch.nn.Linear(width, out)
        self.pool = pool

    def forward(self, ids):
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
        m = real_mask(ids)
        lengths = m.sum(1).long()
        packed = pack_padded_sequence(self.emb(ids), lengths, batch_first=True,
                                      enforce_sorted=False)
        out, hn = self.rec(packed)
        if self.pool is None:
            if isinstance(hn, tuple):
                hn = hn[0]
            dirs = 2 if self.rec.bidirectional else 1
            v = torch.cat([hn[-dirs + d] for d in range(dirs)], 1)
        else:
            y, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
            v = self.pool(y, m)
        return self.head(v)


def rec_case(make_rec, dim, width, out, pool=None):
    return lambda vocab: EmbRec(vocab, dim, make_rec, width, out, pool)


class LstmRnnStack(torch.nn.Module):
    """Two recurrent layers as two nnc layers: the LSTM's padded step
    outputs (zero at padding) feed a tanh RNN, packed again."""

    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 4)
        self.rec = torch.nn.LSTM(4, 4, batch_first=True)
        self.top = torch.nn.RNN(4, 3, batch_first=True)
        self.head = torch.nn.Linear(3, 2)

    def forward(self, ids):
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
        lengths = real_mask(ids).sum(1).long()
        out, _ = self.rec(pack_padded_sequence(self.emb(ids), lengths, batch_first=True,
                                               enforce_sorted=False))
        y, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        _, hn = self.top(pack_padded_sequence(y, lengths, batch_first=True,
                                              enforce_sorted=False))
        return self.head(hn[-1])


class EmbAttn(torch.nn.Module):
    """embedding (+ positions) -> torch.nn.MultiheadAttention over the
    sequence with the padding mask (and the causal mask) -> a pool over the
    real steps -> dense."""

    def __init__(self, vocab, dim, heads, causal, pool, out, positions):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, dim)
        if positions:
            self.pos = torch.nn.Embedding(T, dim)
        self.att = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
        self.head = torch.nn.Linear(dim, out)
        self.causal, self.pool, self.positions = causal, pool, positions

    def forward(self, ids):
        h = self.emb(ids)
        if self.positions:
            h = h + self.pos.weight
        future = torch.ones(T, T, dtype=torch.bool).triu(1) if self.causal else None
        y, _ = self.att(h, h, h, key_padding_mask=ids == 0, attn_mask=future,
                        need_weights=False)
        return self.head(self.pool(y, real_mask(ids)))


def step_keep(step, run_seed, stream, shape, p):
    """The keep mask of the weights in training step `step`: the program's
    dropout seed of the step (BuildTrainStep's: step * 0xA0761D6478BD642F +
    run seed * 0xD6E8FEB86659FD93, wrapping) through nn.dropout's
    documented splitmix64 hash of (seed, stream, element index)."""
    seed = (step * 0xA0761D6478BD642F + run_seed * 0xD6E8FEB86659FD93) % 2**64
    with np.errstate(over="ignore"):
        idx = np.arange(int(np.prod(shape)), dtype=np.uint64)
        z = np.uint64(seed) + np.uint64(((stream + 1) * 0xD1B54A32D192ED03) % 2**64) + \
            idx * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        u = (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    return torch.tensor((u >= np.float32(p)).reshape(shape).astype(np.float32))


class DropAttn(torch.nn.Module):
    """torch.nn.MultiheadAttention's parameters and math written out, with
    dropout on the weights drawn as the generated code draws it (the
    module's dropout uses torch's generator): causal, key padding, batch
    rows beyond the step's real ones left out of the [BATCH, heads, T, T]
    index space as the program's padding rows are."""

    def __init__(self, dim, heads, p, run_seed):
        super().__init__()
        self.in_proj_weight = torch.nn.Parameter(torch.empty(3 * dim, dim))
        torch.nn.init.xavier_uniform_(self.in_proj_weight)
        self.in_proj_bias = torch.nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = torch.nn.Linear(dim, dim)
        torch.nn.init.zeros_(self.out_proj.bias)
        self.heads, self.p, self.run_seed, self.step = heads, p, run_seed, 0

    def forward(self, x, ids):
        n, steps, dim = x.shape
        h, d = self.heads, dim // self.heads
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = (qkv[..., i * dim:(i + 1) * dim].reshape(n, steps, h, d).transpose(1, 2)
                   for i in range(3))
        s = q @ k.transpose(-1, -2) / d ** 0.5
        hidden = (ids == 0)[:, None, None, :] | torch.ones(steps, steps, dtype=torch.bool).triu(1)
        w = torch.softmax(s.masked_fill(hidden, float("-inf")), -1)
        keep = step_keep(self.step, self.run_seed, 0, (BATCH, h, steps, steps), self.p)[:n]
        self.step += 1
        y = ((w * keep / (1 - self.p)) @ v).transpose(1, 2).reshape(n, steps, dim)
        return self.out_proj(y)


class EmbDropAttn(torch.nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, 16)
        self.att = DropAttn(16, 2, 0.25, RUN_SEED)
        self.head = torch.nn.Linear(16, 3)

    def forward(self, ids):
        return self.head(masked_mean(self.att(self.emb(ids), ids), real_mask(ids)))


RUN_SEED = 5


def attn_case(dim, heads, causal, pool, out, positions):
    return lambda vocab: EmbAttn(vocab, dim, heads, causal, pool, out, positions)


# name: (layers, module, vocabulary, ids drawn below, output width, loss,
#        (nnc optimizer, torch optimizer), epochs, seed)
CASES = {
    "emb_avg_ce": (
        "  emb: embedding(20, 6)\n  proj: dense(8)\n  relu\n  global_avgpool\n"
        "  head: dense(3)",
        EmbAvg, 20, 20, 3, "cross_entropy",
        ("adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01)), 2, 0),
    "emb_max_mse": (
        "  emb: embedding(12, 4)\n  tanh\n  global_maxpool\n  head: dense(2)",
        EmbMax, 12, 5, 2, "mse",
        ("sgd(lr = 0.1, momentum = 0.9)",
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)), 3, 1),
    "emb_flatten_ce": (
        "  emb: embedding(9, 3)\n  flatten\n  head: dense(4)",
        EmbFlatten, 9, 9, 4, "cross_entropy",
        ("sgd(lr = 0.2)", lambda p: torch.optim.SGD(p, lr=0.2)), 2, 2),
    "emb_conv1d_max_ce": (
        "  emb: embedding(15, 5)\n  conv: conv1d(6, 3, padding = same)\n  relu\n"
        "  global_maxpool\n  head: dense(3)",
        EmbConvMax, 15, 15, 3, "cross_entropy",
        ("adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01)), 2, 3),
    "emb_conv1d_strided_mse": (
        "  emb: embedding(10, 4)\n  conv: conv1d(5, 2, stride = 2)\n  tanh\n"
        "  global_avgpool\n  head: dense(2)",
        EmbConvStrided, 10, 10, 2, "mse",
        ("sgd(lr = 0.1, momentum = 0.9)",
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)), 2, 4),
    "emb_pos_avg_ce": (
        "  emb: embedding(11, 5)\n  pos: positions(7)\n  tanh\n  global_avgpool\n"
        "  head: dense(3)",
        EmbPosAvg, 11, 11, 3, "cross_entropy",
        ("adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01)), 2, 10),
    # Recurrent layers: every row has a real step (PyTorch cannot pack an
    # empty sequence).
    "gru_ce": (
        "  emb: embedding(12, 5)\n  rec: gru(6)\n  head: dense(3)",
        rec_case(lambda d: torch.nn.GRU(d, 6, batch_first=True), 5, 6, 3),
        12, 12, 3, "cross_entropy",
        ("adam(lr = 0.01)", lambda p: torch.optim.Adam(p, lr=0.01)), 2, 5),
    "lstm_bi_seq_mse": (
        "  emb: embedding(10, 4)\n  rec: lstm(5, bidirectional = true, sequences = true)\n"
        "  global_avgpool\n  head: dense(2)",
        rec_case(lambda d: torch.nn.LSTM(d, 5, batch_first=True, bidirectional=True),
                 4, 10, 2, masked_mean),
        10, 10, 2, "mse",
        ("sgd(lr = 0.1, momentum = 0.9)",
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)), 2, 6),
    "rnn_relu_layers_ce": (
        "  emb: embedding(9, 3)\n  rec: rnn(4, activation = relu, layers = 2)\n"
        "  head: dense(3)",
        rec_case(lambda d: torch.nn.RNN(d, 4, num_layers=2, nonlinearity="relu",
                                        batch_first=True), 3, 4, 3),
        9, 9, 3, "cross_entropy",
        ("sgd(lr = 0.1)", lambda p: torch.optim.SGD(p, lr=0.1)), 2, 7),
    "gru_bi_layers_max_ce": (
        "  emb: embedding(11, 4)\n"
        "  rec: gru(3, bidirectional = true, layers = 2, sequences = true)\n"
        "  global_maxpool\n  head: dense(2)",
        rec_case(lambda d: torch.nn.GRU(d, 3, num_layers=2, batch_first=True,
                                        bidirectional=True), 4, 6, 2, masked_max),
        11, 11, 2, "cross_entropy",
        ("adam(lr = 0.02)", lambda p: torch.optim.Adam(p, lr=0.02)), 2, 8),
    "lstm_tanh_rnn_stack_mse": (
        "  emb: embedding(8, 4)\n  rec: lstm(4, sequences = true)\n"
        "  top: rnn(3)\n  head: dense(2)",
        LstmRnnStack, 8, 8, 2, "mse",
        ("adamw(lr = 0.01)", lambda p: torch.optim.AdamW(p, lr=0.01)), 2, 9),
    "emb_pos_attn_causal_avg_ce": (
        "  emb: embedding(13, 8)\n  pos: positions(70)\n"
        "  att: attention(4, causal = true)\n  global_avgpool\n  head: dense(3)",
        attn_case(8, 4, True, masked_mean, 3, True), 13, 13, 3, "cross_entropy",
        # Not Adam: the k part of in_proj_bias has a zero gradient in exact
        # arithmetic (q . b_k shifts a whole softmax row), so both sides hold
        # rounding noise there, which Adam's normalization would blow up to
        # lr-sized steps.
        ("sgd(lr = 0.2, momentum = 0.9)",
         lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9)), 2, 11),
    "emb_attn_max_mse": (
        "  emb: embedding(10, 32)\n  att: attention(2)\n  global_maxpool\n"
        "  head: dense(2)",
        attn_case(32, 2, False, masked_max, 2, False), 10, 10, 2, "mse",
        ("sgd(lr = 0.1, momentum = 0.9)",
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)), 2, 12),
    "emb_attn_dropout_ce": (
        "  emb: embedding(9, 16)\n  att: attention(2, causal = true, dropout = 0.25)\n"
        "  global_avgpool\n  head: dense(3)",
        EmbDropAttn, 9, 9, 3, "cross_entropy",
        ("sgd(lr = 0.2, momentum = 0.9)",
         lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9)), 2, 13),
}


RECURRENT = {"gru_ce", "lstm_bi_seq_mse", "rnn_relu_layers_ce", "gru_bi_layers_max_ce",
             "lstm_tanh_rnn_stack_mse"}
# Sequence lengths other than T: the attention cases run whole blocks of 64
# steps (one, or two with the online softmax across them) and a peeled tail
# block (6 or 2 steps) through the generated (tiled, vectorized, parallel)
# code.
STEPS = {"emb_pos_attn_causal_avg_ce": 70, "emb_attn_max_mse": 130, "emb_attn_dropout_ce": 70}
# Cases whose every row needs a real step (recurrent: packing; attention:
# PyTorch's NaN for a query without keys).
NONEMPTY = RECURRENT | {"emb_pos_attn_causal_avg_ce", "emb_attn_max_mse",
                        "emb_attn_dropout_ce"}


def make_ids(rng, draw, shortest=0):
    """Rows of T ids in [1, draw), each cut to a random length (shortest..T)
    and padded with 0."""
    ids = rng.integers(1, draw, size=(N, T))
    lengths = rng.integers(shortest, T + 1, size=N)
    lengths[:3] = [T, shortest, 1]
    for i, n in enumerate(lengths):
        ids[i, n:] = 0
    return ids


def check_case(workdir, name):
    global T
    T = STEPS.get(name, 7)
    layers, make_net, vocab, draw, width, loss_kind, (opt_src, make_opt), epochs, seed = \
        CASES[name]
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    ids = make_ids(rng, draw, 1 if name in NONEMPTY else 0)
    if loss_kind == "cross_entropy":
        y = rng.integers(0, width, size=N)
        target_cols = ["label"]
    else:
        y = rng.normal(size=(N, width)).astype(np.float32)
        target_cols = ["t%d" % i for i in range(width)]
    with open(os.path.join(d, "data.csv"), "w") as f:
        f.write(",".join(["s%d" % i for i in range(T)] + target_cols) + "\n")
        for i in range(N):
            row = [str(int(v)) for v in ids[i]]
            if target_cols == ["label"]:
                row.append(str(int(y[i])))
            else:
                row += ["%.9g" % v for v in y[i]]
            f.write(",".join(row) + "\n")
    target_spec = ('"label"' if target_cols == ["label"]
                   else "[" + ", ".join('"%s"' % c for c in target_cols) + "]")
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(f"""
dataset data {{
  train = csv("data.csv", target = {target_spec})
  batch = {BATCH}
}}

model net(tokens: i32[{T}]) -> f32[{width}] {{
{layers}
}}

train {{
  model = net
  data = data
  loss = {loss_kind}
  optimizer = {opt_src}
  epochs = {epochs}
}}
""")
    torch.manual_seed(seed)
    net = make_net(vocab)

    def state():
        return {n: p for n, p in net.named_parameters()}

    write_safetensors(os.path.join(d, "init.safetensors"), state())
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--weights", os.path.join(d, "init.safetensors"),
         "--checkpoint-dir", os.path.join(d, "ck"), "--quiet",
         "--log", os.path.join(d, "log.jsonl"), "--seed", str(RUN_SEED)])

    opt = make_opt(net.parameters())
    if loss_kind == "cross_entropy":
        crit, yt = torch.nn.CrossEntropyLoss(), torch.tensor(y, dtype=torch.long)
    else:
        crit, yt = torch.nn.MSELoss(), torch.tensor(y)
    xt = torch.tensor(ids, dtype=torch.long)
    losses = train_epochs(net, opt, crit, xt, yt, epochs, BATCH)
    count, worst = check_checkpoint(d, name, state(), opt, epochs)
    check_logged_losses(d, name, losses)
    print(f"ok {name}: {count} parameter and optimizer tensors match PyTorch "
          f"(max rel err {worst:.2e}), "
          f"losses {['%.5f' % l for l in losses]}")


def main():
    run_cases(CASES, check_case)


if __name__ == "__main__":
    main()
