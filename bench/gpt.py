#!/usr/bin/env python3
"""SPEC 2.9's baby GPT on Debian's fortunes: nnc against PyTorch (issue 14).

  bench/gpt.py --nnc BUILD/bin/nnc [--runs 3] [--threads 2] [--steps 40]
               [--full] [--out bench/results]

The model is examples/gpt_fortunes.nn (nanoGPT's "baby GPT": 4 layers, 4
heads, 128 wide, block 64, batch 12, byte tokens, AdamW lr 1e-3 beta2 0.99
weight decay 0.1, cosine schedule with 100 warm-up steps to 1e-4 over 2000
steps). PyTorch runs the same model (torch.nn.MultiheadAttention with a
causal mask, torch's exact gelu, LayerNorm, a bias-free head) on the same
data: the corpus read and cut as nnc's corpus(...) does (every text file in
path order, bytes + 1, windows of 64 with the next bytes as targets, the
last 10% of the stream for validation, a new shuffle per epoch), the same
optimizer and schedule, with PyTorch at its best (bench.py's PYTORCH_ENV,
T threads, subnormals flushed as nnc's programs flush them).

Throughput: tokens/s of `train --steps S` (the log's training-only
samples/s times 64) against PyTorch's S timed steps after 3 untimed ones,
and each process's peak RSS; medians over the runs.
--full: both train the whole 2000 steps once; the validation loss over the
whole validation split after the last step, nnc's from its log; then
`./gpt generate` of 300 tokens from the trained weights with the KV cache
and with --no-cache (wall time, tokens/s).
--bf16: also the same model with `precision = bf16` (nnc) and under
torch.autocast("cpu", torch.bfloat16) (PyTorch), interleaved with the f32
runs, and the host's f32 FMA and AVX-512 BF16 dot-product peaks
(bench/fma_peak.c) on the same threads.
--sweep: nnc's time per step and peak RSS against the block T (64, 128,
256, 512, width 128) and the width (128, 256, 512, block 64), the example
with those numbers changed (one run per point, --steps steps).
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench import PYTORCH_ENV, cpu_busy, run_child  # noqa: E402

PYTHON = "/usr/bin/python3"
CORPUS = "/usr/share/games/fortunes"
T, BATCH, DIM, HEADS, LAYERS, V = 64, 12, 128, 4, 4, 257
LR, MIN_LR, WARMUP, STEPS, WD, BETA2 = 1e-3, 1e-4, 100, 2000, 0.1, 0.99

# The PyTorch side, run as a child process (its own RSS, threads, allocator).
TORCH_CHILD = r'''
import json, math, os, sys, time
import torch
import torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]))
torch.set_flush_denormal(True)
steps, timed, full = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "full"
bf16 = sys.argv[6] == "bf16"
T, BATCH, DIM, HEADS, LAYERS, V = 64, 12, 128, 4, 4, 257
LR, MIN_LR, WARMUP, STEPS, WD, BETA2 = 1e-3, 1e-4, 100, 2000, 0.1, 0.99

def corpus(path):
    files, seen = [], set()
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in names:
            if not n.startswith("."):
                files.append(os.path.join(root, n))
    stream = bytearray()
    for f in sorted(files):
        real = os.path.realpath(f)
        if real in seen or not os.path.isfile(f):
            continue
        seen.add(real)
        data = open(f, "rb").read()
        if b"\0" in data[:8192]:
            continue
        stream += data
    return torch.tensor(list(stream), dtype=torch.long) + 1

def windows(s):
    n = (len(s) - 1) // T
    return s[:n * T].view(n, T), s[1:n * T + 1].view(n, T)

class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(DIM), torch.nn.LayerNorm(DIM)
        self.attn = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True)
        self.fc, self.proj = torch.nn.Linear(DIM, 4 * DIM), torch.nn.Linear(4 * DIM, DIM)
    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.proj(F.gelu(self.fc(self.ln2(x))))

class GPT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = torch.nn.Embedding(V, DIM)
        self.pos = torch.nn.Parameter(torch.randn(T, DIM))
        self.blocks = torch.nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln = torch.nn.LayerNorm(DIM)
        self.head = torch.nn.Linear(DIM, V, bias=False)
        self.register_buffer("mask", torch.triu(torch.full((T, T), float("-inf")), 1))
    def forward(self, ids):
        x = self.tok(ids) + self.pos
        for b in self.blocks:
            x = b(x, self.mask)
        return self.head(self.ln(x))

def lr_at(step):
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    p = min((step - WARMUP) / max(STEPS - WARMUP, 1), 1.0)
    return MIN_LR + (LR - MIN_LR) * (1 + math.cos(math.pi * p)) / 2

stream = corpus(sys.argv[5])
cut = len(stream) - round(0.1 * len(stream))
xt, yt = windows(stream[:cut])
xv, yv = windows(stream[cut:])
torch.manual_seed(0)
net = GPT()
opt = torch.optim.AdamW(net.parameters(), lr=LR, betas=(0.9, BETA2), weight_decay=WD)
order, at, start = torch.randperm(len(xt)), 0, None
for step in range(steps):
    if step == steps - timed:
        start = time.perf_counter()
    if at + BATCH > len(order):   # a partial last batch, as nnc's
        idx, order, at = order[at:], torch.randperm(len(xt)), 0
    else:
        idx, at = order[at:at + BATCH], at + BATCH
    for g in opt.param_groups:
        g["lr"] = lr_at(step)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(net(xt[idx]).reshape(-1, V), yt[idx].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
seconds = time.perf_counter() - start
out = {"tokens_per_s": timed * BATCH * T / seconds, "train_loss": loss.item()}
if full:
    net.eval()
    with torch.no_grad():
        total = 0.0
        for s in range(0, len(xv), BATCH):
            total += F.cross_entropy(net(xv[s:s + BATCH]).reshape(-1, V),
                                     yv[s:s + BATCH].reshape(-1), reduction="sum").item()
    out["val_loss"] = total / (len(xv) * T)
print(json.dumps(out))
'''


def nnc_program(nnc, work, precision="f32"):
    """The example compiled (with `precision = bf16` added for bf16)."""
    source = ROOT / "examples" / "gpt_fortunes.nn"
    exe = work / ("gpt" if precision == "f32" else f"gpt-{precision}")
    if precision != "f32":
        text = source.read_text()
        if "  steps = 2000\n" not in text:
            raise SystemExit("bench: 'steps = 2000' not in the example")
        source = work / f"gpt-{precision}.nn"
        source.write_text(text.replace("  steps = 2000\n",
                                       f"  steps = 2000\n  precision = {precision}\n"))
    start = time.perf_counter()
    # A first compile: the object cache is not read (nor written).
    subprocess.run([nnc, str(source), "-o", str(exe), "--no-cache"], check=True)
    return exe, time.perf_counter() - start


def nnc_train(exe, work, threads, steps):
    log = work / "log.jsonl"
    if log.exists():
        log.unlink()
    cmd = [exe, "train", "--threads", str(threads), "--checkpoint-dir",
           str(work / "ck"), "--log", str(log), "--quiet"]
    if steps:
        cmd += ["--steps", str(steps)]
    _, seconds, rss = run_child(cmd, work)
    records = [json.loads(l) for l in open(log) if '"epoch"' in l]
    return records, seconds, rss


def torch_train(work, threads, steps, timed, full, precision="f32"):
    script = work / "torch_gpt.py"
    script.write_text(TORCH_CHILD)
    env = dict(os.environ, **PYTORCH_ENV)
    out, seconds, rss = run_child([PYTHON, script, threads, steps, timed,
                                   "full" if full else "quick", CORPUS, precision],
                                  work, env)
    return json.loads(out.strip().splitlines()[-1]), seconds, rss


def variant(block, width):
    """examples/gpt_fortunes.nn with another block and width."""
    text = (ROOT / "examples" / "gpt_fortunes.nn").read_text()
    for old, new in (("block = 64", f"block = {block}"),
                     ("i32[64]", f"i32[{block}]"), ("f32[64, 257]", f"f32[{block}, 257]"),
                     ("positions(64)", f"positions({block})"),
                     ("embedding(257, 128)", f"embedding(257, {width})"),
                     ("gpt_block(128, 4)", f"gpt_block({width}, 4)")):
        if old not in text:
            raise SystemExit(f"bench: '{old}' not in the example")
        text = text.replace(old, new)
    return text


def sweep(nnc, work, threads, steps):
    rows = []
    for block, width in ((64, 128), (128, 128), (256, 128), (512, 128),
                         (64, 256), (64, 512)):
        d = work / f"sweep-{block}-{width}"
        d.mkdir(exist_ok=True)
        (d / "gpt.nn").write_text(variant(block, width))
        subprocess.run([nnc, str(d / "gpt.nn"), "-o", str(d / "gpt")], check=True)
        records, _, rss = nnc_train(d / "gpt", d, threads, steps)
        sps = records[-1]["samples_per_s"]
        rows.append({"block": block, "width": width, "ms_per_step": 1000 * BATCH / sps,
                     "tokens_per_s": sps * block, "peak_rss_mib": rss})
    return rows


def generation(exe, work, weights):
    out = {}
    for mode, flags in (("cache", []), ("no_cache", ["--no-cache"])):
        start = time.perf_counter()
        subprocess.run([exe, "generate", "--weights", weights, "--prompt", "Q: ",
                        "--tokens", "300", "--temperature", "0.8", "--seed", "1"]
                       + flags, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        out[mode] = {"seconds": seconds, "tokens_per_s": 300 / seconds}
    sample = subprocess.run([exe, "generate", "--weights", weights, "--prompt", "Q: ",
                             "--tokens", "300", "--temperature", "0.8", "--seed", "1"],
                            check=True, capture_output=True).stdout
    out["sample"] = sample.decode("utf-8", "replace")
    return out


def peaks(work, threads):
    """bench/fma_peak.c's f32 FMA and bf16 dot-product GFLOP/s."""
    exe = work / "fma_peak"
    subprocess.run(["cc", "-O2", "-march=native", "-pthread",
                    str(ROOT / "bench" / "fma_peak.c"), "-o", str(exe)], check=True)
    out = {}
    for kind in ("f32", "bf16"):
        r = subprocess.run([exe, str(threads), "0.25", kind], capture_output=True, text=True)
        out[kind] = json.loads(r.stdout)["gflops"] if r.returncode == 0 else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--generate-weights", help="measure generation from this "
                    "checkpoint of the example (without --full)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--name", default="gpt", help="results file stem")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nnc-gpt-"))
    busy = cpu_busy()
    exe, compile_s = nnc_program(args.nnc, work)
    precisions = ["f32", "bf16"] if args.bf16 else ["f32"]
    exes = {"f32": exe}
    if args.bf16:
        exes["bf16"] = nnc_program(args.nnc, work, "bf16")[0]
    key = lambda who, p: who if p == "f32" else f"{who}_{p}"
    rows = {key(who, p): [] for p in precisions for who in ("nnc", "torch")}
    for _ in range(max(args.runs, 0)):
        for p in precisions:
            records, _, rss = nnc_train(exes[p], work, args.threads, args.steps)
            rows[key("nnc", p)].append((records[-1]["samples_per_s"] * T, rss))
            res, _, rss = torch_train(work, args.threads, args.steps + 3, args.steps,
                                      False, p)
            rows[key("torch", p)].append((res["tokens_per_s"], rss))
    med = {k: (statistics.median(r[0] for r in v) if v else math.nan,
               statistics.median(r[1] for r in v) if v else math.nan)
           for k, v in rows.items()}
    result = {"config": {"threads": args.threads, "steps": args.steps, "runs": args.runs,
                         "cpu_busy_before": busy, "pytorch_env": PYTORCH_ENV,
                         "torch": subprocess.run([PYTHON, "-c", "import torch; print(torch.__version__)"],
                                                 capture_output=True, text=True).stdout.strip()},
              "compile_seconds": compile_s,
              "nnc_tokens_per_s": med["nnc"][0], "torch_tokens_per_s": med["torch"][0],
              "speedup": med["nnc"][0] / med["torch"][0],
              "nnc_peak_rss_mib": med["nnc"][1], "torch_peak_rss_mib": med["torch"][1]}
    if args.bf16:
        result["bf16"] = {"nnc_tokens_per_s": med["nnc_bf16"][0],
                          "torch_tokens_per_s": med["torch_bf16"][0],
                          "nnc_bf16_over_f32": med["nnc_bf16"][0] / med["nnc"][0],
                          "torch_bf16_over_f32": med["torch_bf16"][0] / med["torch"][0],
                          "peak_gflops": peaks(work, args.threads)}
    if args.full:
        records, nnc_s, _ = nnc_train(exe, work, args.threads, 0)
        res, torch_s, _ = torch_train(work, args.threads, STEPS, STEPS, True)
        result["full"] = {"nnc_val_loss": records[-1]["val_loss"],
                          "torch_val_loss": res["val_loss"],
                          "nnc_seconds": nnc_s, "torch_seconds": torch_s,
                          "nnc_curve": [(r["step"], r["val_loss"]) for r in records]}
        result["generate"] = generation(exe, work, str(work / "ck" / "best.safetensors"))
    elif args.generate_weights:
        result["generate"] = generation(exe, work, args.generate_weights)
    if args.sweep:
        result["sweep"] = sweep(args.nnc, work, args.threads, args.steps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Baby GPT (SPEC 2.9, examples/gpt_fortunes.nn): nnc against PyTorch",
             "",
             f"`bench/gpt.py --threads {args.threads} --steps {args.steps} --runs {args.runs}"
             f"{' --full' if args.full else ''}`; PyTorch {result['config']['torch']} at its best "
             f"(tuned allocator, one BLAS thread); CPU busy before: {busy:.0%}; medians.",
             "",
             "| | tokens/s | peak RSS MiB |",
             "|---|---:|---:|",
             f"| nnc | {med['nnc'][0]:.0f} | {med['nnc'][1]:.0f} |",
             f"| PyTorch | {med['torch'][0]:.0f} | {med['torch'][1]:.0f} |",
             "",
             f"nnc / PyTorch: **{result['speedup']:.2f}x** tokens/s; RSS "
             f"{med['nnc'][1] / med['torch'][1]:.2f}x PyTorch's; compile {compile_s:.1f} s."]
    if args.bf16:
        bf, pk = result["bf16"], result["bf16"]["peak_gflops"]
        lines[8:8] = [f"| nnc, precision = bf16 | {med['nnc_bf16'][0]:.0f} | "
                      f"{med['nnc_bf16'][1]:.0f} |",
                      f"| PyTorch, autocast bf16 | {med['torch_bf16'][0]:.0f} | "
                      f"{med['torch_bf16'][1]:.0f} |"]
        lines += ["", f"bf16 / f32 tokens/s: nnc **{bf['nnc_bf16_over_f32']:.2f}x**, PyTorch "
                  f"**{bf['torch_bf16_over_f32']:.2f}x**. The host's peaks on {args.threads} "
                  f"threads (bench/fma_peak.c): f32 FMA {pk['f32']} GFLOP/s, AVX-512 BF16 "
                  f"dot products (vdpbf16ps) {pk['bf16'] or 'none'} GFLOP/s."]
    if args.runs <= 0:  # no comparison run: only what follows
        lines = ["# Baby GPT (examples/gpt_fortunes.nn): generation and scaling of "
                 "nnc's training step", "", f"`bench/gpt.py --threads {args.threads} "
                 f"--steps {args.steps} --runs 0`; nnc only, one run per point; CPU busy "
                 f"before: {busy:.0%}.", "", f"nnc compiles the example in {compile_s:.1f} s."]
    if args.full:
        f = result["full"]
        lines += ["", f"2000 steps: validation loss nnc **{f['nnc_val_loss']:.4f}**, PyTorch "
                  f"**{f['torch_val_loss']:.4f}** (difference {f['nnc_val_loss'] - f['torch_val_loss']:+.4f}); "
                  f"wall time nnc {f['nnc_seconds']:.0f} s (with 8 evaluations), PyTorch "
                  f"{f['torch_seconds']:.0f} s (one at the end).",
                  "", "nnc's validation loss by step: " +
                  ", ".join(f"{s}: {v:.3f}" for s, v in f["nnc_curve"])]
    if "generate" in result:
        g = result["generate"]
        lines += ["", f"Generation (300 tokens, temperature 0.8): {g['cache']['tokens_per_s']:.0f} "
                  f"tokens/s with the KV cache, {g['no_cache']['tokens_per_s']:.0f} without "
                  f"({g['cache']['tokens_per_s'] / g['no_cache']['tokens_per_s']:.1f}x; wall time "
                  "of the whole command, loading included). A sample:", "", "```",
                  g["sample"].rstrip(), "```"]
    if args.sweep:
        lines += ["", "| block T | width | ms/step | tokens/s | peak RSS MiB |",
                  "|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['block']} | {r['width']} | {r['ms_per_step']:.1f} | "
                  f"{r['tokens_per_s']:.0f} | {r['peak_rss_mib']:.0f} |" for r in result["sweep"]]
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
