#!/usr/bin/env python3
"""One attention layer, nnc's fused code against torch.nn.MultiheadAttention.

  bench/attention.py --nnc BUILD/bin/nnc [--runs 3] [--threads 2] [--out bench/results]

The layer of SPEC 2.9 at N = 12 (the GPT example's batch), D = 128, heads =
4, T = 64, 256 and 512, causal and not. Forward + backward time of the layer:

  nnc      a training step (Adam, cross entropy) of
             tokens i32[T] -> embedding(257, 128) -> attention(4, causal)
             -> global_avgpool -> dense(2)
           minus the step of the same model without the attention line (the
           epoch record of `train --threads T`, 20 steps of batch 12, all
           tokens real); so in_proj and out_proj are included, as in
           PyTorch's module.
  PyTorch  torch.nn.MultiheadAttention(128, 4, batch_first = True) called as
           self-attention on a [12, T, 128] input with key_padding_mask (all
           False, the padding of token ids) and, when causal, the bool attn_mask
           triu(1); forward, then backward of sum(y * g) into the input and the
           parameters; OpenBLAS, torch.set_num_threads(T), OPENBLAS_NUM_THREADS=1.

Medians over the runs; milliseconds per call.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PYTHON = "/usr/bin/python3"
N, D, HEADS, STEPS = 12, 128, 4, 20

PROGRAM = """dataset d {{
  train = csv("data.csv", target = "y")
  batch = {N}
}}
model net(tokens: i32[{T}]) -> f32[2] {{
  embedding(257, {D})
{layer}  global_avgpool
  dense(2)
}}
train {{
  model = net
  data = d
  loss = cross_entropy
  optimizer = adam(lr = 0.001)
  epochs = 1
}}
"""

TORCH = r'''
import sys, time, json, torch
T, causal, threads, reps = int(sys.argv[1]), sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.set_flush_denormal(True)
torch.manual_seed(0)
mha = torch.nn.MultiheadAttention(128, 4, batch_first=True)
x = torch.randn(12, T, 128, requires_grad=True)
g = torch.randn(12, T, 128)
pad = torch.zeros(12, T, dtype=torch.bool)
mask = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None
def call():
    y, _ = mha(x, x, x, key_padding_mask=pad, attn_mask=mask, need_weights=False)
    torch.autograd.grad(y, [x] + list(mha.parameters()), g)
for _ in range(3):
    call()
t = time.perf_counter()
for _ in range(reps):
    call()
print(json.dumps({"ms": 1000 * (time.perf_counter() - t) / reps}))
'''


def run(cmd, cwd, env=None):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def nnc_step_ms(nnc, d, T, layer, threads):
    with open(os.path.join(d, "m.nn"), "w") as f:
        f.write(PROGRAM.format(N=N, T=T, D=D, layer=layer))
    run([nnc, "m.nn", "-o", "m"], d)
    log = os.path.join(d, "log.jsonl")
    run(["./m", "train", "--quiet", "--threads", str(threads), "--log", log], d)
    with open(log) as f:
        epoch = [json.loads(l) for l in f if '"event":"epoch"' in l][0]
    os.remove(log)
    return 1000 * N / epoch["samples_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args()
    nnc = os.path.abspath(args.nnc)
    import numpy as np
    lines = ["# One attention layer: nnc (fused FlashAttention-2 code) against "
             "torch.nn.MultiheadAttention", "",
             f"`bench/attention.py --runs {args.runs} --threads {args.threads}`, load average "
             f"{os.getloadavg()[0]:.1f} at the start; N = {N}, D = {D}, heads = {HEADS}; forward + "
             "backward of the layer in ms (nnc: training step with the layer minus the step "
             "without it); medians of the runs.", "",
             "| T | causal | nnc ms | PyTorch ms | PyTorch / nnc | nnc step ms | nnc step without ms |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    results = []
    for T in (64, 256, 512):
        d = tempfile.mkdtemp(prefix=f"nnc-attn-{T}-")
        rng = np.random.default_rng(T)
        with open(os.path.join(d, "data.csv"), "w") as f:
            f.write(",".join(f"t{i}" for i in range(T)) + ",y\n")
            for _ in range(N * STEPS):
                f.write(",".join(map(str, rng.integers(1, 257, size=T)))
                        + f",{rng.integers(0, 2)}\n")
        with open(os.path.join(d, "ref.py"), "w") as f:
            f.write(TORCH)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        for causal in (False, True):
            layer = f"  attention({HEADS}, causal = {'true' if causal else 'false'})\n"
            with_ms, without_ms, torch_ms = [], [], []
            for _ in range(args.runs):
                with_ms.append(nnc_step_ms(nnc, d, T, layer, args.threads))
                without_ms.append(nnc_step_ms(nnc, d, T, "", args.threads))
                out = run([PYTHON, "ref.py", str(T), "1" if causal else "0",
                           str(args.threads), "10" if T < 512 else "5"], d, env)
                torch_ms.append(json.loads(out.strip().splitlines()[-1])["ms"])
            w, wo, pt = (statistics.median(v) for v in (with_ms, without_ms, torch_ms))
            layer_ms = max(w - wo, 1e-3)
            results.append({"T": T, "causal": causal, "nnc_ms": layer_ms, "torch_ms": pt,
                            "nnc_step_ms": w, "nnc_step_without_ms": wo})
            lines.append(f"| {T} | {causal} | {layer_ms:.2f} | {pt:.2f} | {pt / layer_ms:.1f}x | "
                         f"{w:.2f} | {wo:.2f} |")
            print(lines[-1], flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "attention.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "attention.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
