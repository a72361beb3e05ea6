#!/usr/bin/env python3
"""Recurrent models, nnc against PyTorch on this machine (issue 13).

  bench/sequences.py --nnc BUILD/bin/nnc [--runs 3] [--threads 2] [--steps N]
                     [--sweep] [--out bench/results]

Models (Adam 1e-3, cross entropy, synthetic data written once per shape;
the same data, batch and thread count on both sides):
  text    SPEC 2.7's classifier: i32[T] token ids (T = 200, lengths uniform
          in [T/4, T], vocabulary 20000) -> embedding(20000, 128) ->
          lstm(128) -> dense(2), batch 32.
  speech  SPEC 2.8's keyword model on its feature shape: f32[101, 13] ->
          gru(64, bidirectional = true) -> dropout(0.2) -> dense(10),
          batch 32 (random features: the cost does not depend on them).
For each run: nnc's compile time (wall), training samples/s (the epoch
record of `train --steps N --threads T`), peak RSS of the training process;
PyTorch (torch.nn.Embedding/LSTM/GRU, OpenBLAS, T threads, subnormals
flushed with torch.set_flush_denormal(True) as nnc's programs flush them)
trained for N steps after 3 untimed ones, both on packed sequences (pack_padded_sequence:
padding skipped, nnc's semantics) and on padded ones (every step computed,
PyTorch's fastest); its peak RSS. Medians over the runs.

--sweep: the text model's time per step against T (50, 100, 200, 400) and
against the LSTM width (64, 128, 256) at T = 200, one run each.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = "/usr/bin/python3"
ROWS = 2048

# The .nn program of a model: the same data and training around it.
PROGRAM = """dataset d {{{{
  train = csv("data.csv", target = "y")
  batch = 32
}}}}
{model}
train {{{{
  model = {name}
  data = d
  loss = cross_entropy
  optimizer = adam(lr = 0.001)
  epochs = 1
}}}}
"""
TEXT_NN = PROGRAM.format(name="text", model="""model text(tokens: i32[{T}]) -> f32[2] {{
  embedding(20000, 128)
  lstm({H})
  dense(2)
}}""")
SPEECH_NN = PROGRAM.format(name="keyword", model="""model keyword(features: f32[101, 13]) -> f32[10] {{
  gru(64, bidirectional = true)
  dropout(0.2)
  dense(10)
}}""")

TORCH = r'''
import sys, time, resource, json
import numpy as np, torch
from torch.nn.utils.rnn import pack_padded_sequence
kind, path, T, H, steps, threads, packed = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7] == "1"
torch.set_num_threads(threads)
# PyTorch at its best: subnormals flushed as nnc's programs do (off by
# default; vanishing LSTM gradients otherwise take the slow path).
torch.set_flush_denormal(True)
d = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
y = torch.tensor(d[:, -1].astype(np.int64))
if kind == "text":
    x = torch.tensor(d[:, :-1].astype(np.int64))
    class M(torch.nn.Module):
        def __init__(s):
            super().__init__()
            s.e = torch.nn.Embedding(20000, 128); s.r = torch.nn.LSTM(128, H, batch_first=True)
            s.d = torch.nn.Linear(H, 2)
        def forward(s, ids):
            e = s.e(ids)
            if packed:
                e = pack_padded_sequence(e, (ids != 0).sum(1), batch_first=True, enforce_sorted=False)
            _, (h, _) = s.r(e)
            return s.d(h[-1])
else:
    x = torch.tensor(d[:, :-1]).reshape(-1, 101, 13)
    class M(torch.nn.Module):
        def __init__(s):
            super().__init__()
            s.r = torch.nn.GRU(13, 64, batch_first=True, bidirectional=True)
            s.drop = torch.nn.Dropout(0.2); s.d = torch.nn.Linear(128, 10)
        def forward(s, f):
            _, h = s.r(f)
            return s.d(s.drop(torch.cat([h[-2], h[-1]], 1)))
m = M(); opt = torch.optim.Adam(m.parameters(), 1e-3); lf = torch.nn.CrossEntropyLoss()
def step(i):
    s = (i * 32) % (len(x) - 32)
    opt.zero_grad(); lf(m(x[s:s + 32]), y[s:s + 32]).backward(); opt.step()
for i in range(3):
    step(i)
t = time.perf_counter()
for i in range(steps):
    step(i)
sec = time.perf_counter() - t
print(json.dumps({"samples_per_s": steps * 32 / sec,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def write_data(path, kind, T, rng_seed=0):
    import numpy as np
    rng = np.random.default_rng(rng_seed)
    with open(path, "w") as f:
        if kind == "text":
            f.write(",".join(f"t{i}" for i in range(T)) + ",y\n")
            for _ in range(ROWS):
                n = rng.integers(T // 4, T + 1)
                ids = rng.integers(2, 20000, size=T)
                ids[n:] = 0
                f.write(",".join(map(str, ids)) + f",{rng.integers(0, 2)}\n")
        else:
            f.write(",".join(f"f{i}" for i in range(101 * 13)) + ",y\n")
            for _ in range(ROWS):
                f.write(",".join("%.3f" % v for v in rng.normal(size=101 * 13))
                        + f",{rng.integers(0, 10)}\n")


def child(cmd, cwd, env=None):
    """Runs cmd; returns (stdout, peak RSS in MB of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return p.stdout, max(before, after) / 1024, wall


def nnc_run(nnc, d, source, steps, threads):
    with open(os.path.join(d, "m.nn"), "w") as f:
        f.write(source)
    _, _, compile_s = child([nnc, "m.nn", "-o", "m", "--no-cache"], d)
    # ru_maxrss of children is the maximum over all of them: measure the
    # training process alone with /usr/bin/time.
    out = subprocess.run(["/usr/bin/time", "-f", "%M", "./m", "train", "--quiet", "--steps",
                          str(steps), "--threads", str(threads), "--log", "log.jsonl"],
                         cwd=d, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    rss = int(out.stderr.strip().splitlines()[-1]) / 1024
    with open(os.path.join(d, "log.jsonl")) as f:
        epoch = [json.loads(l) for l in f if '"epoch"' in l and '"event":"epoch"' in l][0]
    os.remove(os.path.join(d, "log.jsonl"))
    return {"compile_s": compile_s, "samples_per_s": epoch["samples_per_s"], "rss_mb": rss}


def torch_run(d, kind, T, H, steps, threads, packed):
    script = os.path.join(d, "ref.py")
    with open(script, "w") as f:
        f.write(TORCH)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(["/usr/bin/time", "-f", "%M", PYTHON, script, kind,
                          os.path.join(d, "data.csv"), str(T), str(H), str(steps),
                          str(threads), "1" if packed else "0"],
                         cwd=d, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(out.stderr)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["rss_mb"] = int(out.stderr.strip().splitlines()[-1]) / 1024
    return r


def measure(args, kind, T=200, H=128, runs=None):
    runs = runs or args.runs
    d = tempfile.mkdtemp(prefix=f"nnc-seq-{kind}-")
    write_data(os.path.join(d, "data.csv"), kind, T)
    source = TEXT_NN.format(T=T, H=H) if kind == "text" else SPEECH_NN.format()
    rows = {"nnc": [], "torch_packed": [], "torch_padded": []}
    for _ in range(runs):
        rows["nnc"].append(nnc_run(args.nnc, d, source, args.steps, args.threads))
        if kind == "text":
            rows["torch_packed"].append(torch_run(d, kind, T, H, args.torch_steps,
                                                  args.threads, True))
        rows["torch_padded"].append(torch_run(d, kind, T, H, args.torch_steps,
                                              args.threads, False))
    med = {}
    for side, rs in rows.items():
        if rs:
            med[side] = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
    return med


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--torch-steps", type=int, default=12)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = ap.parse_args()
    args.nnc = os.path.abspath(args.nnc)
    load = os.getloadavg()[0]
    lines = [f"# Recurrent models: nnc against PyTorch (issue 13)", "",
             f"`bench/sequences.py --runs {args.runs} --threads {args.threads} "
             f"--steps {args.steps}{' --sweep' if args.sweep else ''}`, "
             f"load average {load:.1f} at the start; medians of {args.runs} runs. "
             "PyTorch packed = pack_padded_sequence (padding skipped, as nnc); padded = every "
             "step computed; PyTorch with torch.set_flush_denormal(True), as nnc flushes "
             "subnormals.", "",
             "| model | nnc compile s | nnc samples/s | PyTorch packed samples/s | "
             "PyTorch padded samples/s | nnc / best PyTorch | nnc RSS MB | PyTorch RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    results = {}
    for kind in ("text", "speech"):
        m = measure(args, kind)
        results[kind] = m
        best = max(m[s]["samples_per_s"] for s in ("torch_packed", "torch_padded") if s in m)
        rss = max(m[s]["rss_mb"] for s in ("torch_packed", "torch_padded") if s in m)
        packed = f"{m['torch_packed']['samples_per_s']:.0f}" if "torch_packed" in m else "-"
        lines.append(f"| {kind} | {m['nnc']['compile_s']:.2f} | {m['nnc']['samples_per_s']:.0f} | "
                     f"{packed} | {m['torch_padded']['samples_per_s']:.0f} | "
                     f"{m['nnc']['samples_per_s'] / best:.1f}x | {m['nnc']['rss_mb']:.0f} | "
                     f"{rss:.0f} |")
        print(lines[-1], flush=True)
    if args.sweep:
        lines += ["", "Text model, time per training step (batch 32) against T and the "
                  "LSTM width (one run each):", "",
                  "| T | units | nnc ms/step | PyTorch padded ms/step | nnc / PyTorch |",
                  "|---:|---:|---:|---:|---:|"]
        for T, H in [(50, 128), (100, 128), (200, 128), (400, 128), (200, 64), (200, 256)]:
            m = measure(args, "text", T, H, runs=1)
            ms = 32000 / m["nnc"]["samples_per_s"]
            pt = 32000 / m["torch_padded"]["samples_per_s"]
            lines.append(f"| {T} | {H} | {ms:.1f} | {pt:.1f} | {pt / ms:.1f}x |")
            print(lines[-1], flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "sequences.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "sequences.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
