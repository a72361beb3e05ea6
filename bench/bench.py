#!/usr/bin/env python3
"""nnc against PyTorch, side by side, on the same models, data, batch and
thread count (issue 5). Run through scripts/bench.sh.

  bench.py --nnc BUILD/bin/nnc [--runs 3] [--threads 2,1] [--models mlp,cnn]
           [--steps N] [--no-pytorch] [--wait-idle S] [--out DIR] [--sweep ...]

For each model (examples/fashion_mlp.nn, the MLP of SPEC 2.2, and
examples/fashion_cnn_plain.nn, TOOLCHAIN.md's two-convolution CNN; both Adam
1e-3, batch 64, Fashion-MNIST; with --models spec_cnn also
examples/fashion_cnn.nn, SPEC 2.3's CNN: batchnorm, dropout, augmentation
(random crop, flip, rotation), AdamW, label smoothing, clipping, warm-up and
cosine, the same in PyTorch; with --models resnet_mini
examples/resnet_mini.nn: three residual blocks and an inception block of
small channel counts, Adam and cosine) and each thread count, every run
measures:

  nnc      compile: wall time of `nnc MODEL.nn -o model`.
           train:   `./model train --epochs 1 --steps N --threads T --log`;
                    samples/s is the epoch record's (samples trained / the
                    epoch's seconds): the data set is loaded and decoded
                    before the clock starts; batch preparation (shuffle,
                    normalize, on oneTBB threads ahead of the compute) and
                    the first step are inside it.
           eval:    `./model eval --json --threads T` on the 10000 test
                    images (batches of 64), its samples_per_s.
           peak RSS: ru_maxrss of the train process (wait4).
  PyTorch  bench/pytorch_reference.py in a subprocess (OpenBLAS, T torch
           threads, OPENBLAS_NUM_THREADS=1, glibc malloc tuned to keep
           large blocks: PYTORCH_ENV; oneDNN convolutions when torch has
           them; the JSON's config.pytorch_setup records what the process
           saw): a few untimed warm-up steps,
           then N timed steps (batch gathering and normalization included),
           then the test split in batches of 64 under no_grad. Peak RSS is
           the subprocess's ru_maxrss (train and eval).

The machine is shared: --wait-idle S waits (up to S seconds) before each
timed process for the CPUs to be almost idle, and the report quotes how busy
they were. Reported: medians over the runs. GFLOP/s counts 3x the forward
FLOPs per sample (`./model info`: 2 per multiply-add, plus the element-wise
ops) for a training sample (forward + input gradient + weight gradient) and 1x for an
evaluated sample. "% ceiling" divides by the practical GEMM ceiling of
TOOLCHAIN.md (tuned GEMM: about 105 GFLOP/s on one thread, the issue's ~200
on two); the JSON also holds the fraction of the register-only FMA peak,
measured in the same run by bench/fma_peak.c (built with cc -march=native;
TOOLCHAIN.md's 117 GFLOP/s per thread, 233 on two, if it cannot be built).

--sweep adds how cost grows: the MLP's hidden width, the CNN's channels
(first convolution C, second 2C) and the batch size, each point compiled from
the example with that one number changed; time per step against FLOPs per
step for nnc and PyTorch (train only, medians of --sweep-runs runs with the
two sides alternating, a FLOP budget per point, one thread unless
--sweep-threads says otherwise).
"""
import argparse
import json
import os
import platform
import re
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = {"mlp": ROOT / "examples" / "fashion_mlp.nn",
            "cnn": ROOT / "examples" / "fashion_cnn_plain.nn",
            "spec_cnn": ROOT / "examples" / "fashion_cnn.nn",
            "resnet_mini": ROOT / "examples" / "resnet_mini.nn"}
DEFAULT_STEPS = {"mlp": 800, "cnn": 200, "spec_cnn": 200, "resnet_mini": 100}
PYTHON = "/usr/bin/python3"
# TOOLCHAIN.md, "Threads and the machine's limits" (GFLOP/s, fp32).
GEMM_CEILING = {1: 105.0, 2: 200.0}
FMA_PEAK = {1: 117.0, 2: 233.0}


def gemm_ceiling(threads):
    t = max(1, min(threads, os.cpu_count() or 1))
    return GEMM_CEILING.get(t, GEMM_CEILING[1] * t)


# The host's FMA peak measured in this run (bench/fma_peak.c), by threads;
# empty when it could not be built (FMA_PEAK is quoted then).
MEASURED_FMA_PEAK = {}


def measure_fma_peak(thread_counts, workdir):
    exe = os.path.join(workdir, "fma_peak")
    try:
        subprocess.run(["cc", "-O2", "-march=native", "-pthread",
                        str(HERE / "fma_peak.c"), "-o", exe],
                       check=True, capture_output=True)
        for t in sorted(set(thread_counts)):
            out = subprocess.run([exe, str(t)], check=True, capture_output=True,
                                 text=True).stdout
            MEASURED_FMA_PEAK[t] = json.loads(out)["gflops"]
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        print(f"bench: no measured FMA peak ({e}); quoting TOOLCHAIN.md's",
              file=sys.stderr)
        MEASURED_FMA_PEAK.clear()


def fma_peak(threads):
    t = max(1, min(threads, os.cpu_count() or 1))
    if t in MEASURED_FMA_PEAK:
        return MEASURED_FMA_PEAK[t]
    return FMA_PEAK.get(t, FMA_PEAK[1] * t)


# PyTorch at its best (issue 17): one BLAS thread under torch's own threads,
# and glibc's malloc keeping large blocks instead of mapping and unmapping
# them at every step (what PyTorch's CPU tuning guide gets from jemalloc or
# tcmalloc; without it PyTorch's speed swings 2.5x with what ran before).
PYTORCH_ENV = {"OPENBLAS_NUM_THREADS": "1",
               "MALLOC_MMAP_THRESHOLD_": "67108864",
               "MALLOC_TRIM_THRESHOLD_": "268435456",
               "MALLOC_TOP_PAD_": "67108864"}


# --- model variants ------------------------------------------------------

def substitute(text, pattern, replacement, what):
    new, n = re.subn(pattern, replacement, text)
    if n != 1:
        raise SystemExit(f"bench: expected one {what} in the example, found {n}")
    return new


def variant(model, width=128, channels=32, batch=64):
    """The example's text with the hidden width / channels / batch changed;
    the defaults give the example itself."""
    text = EXAMPLES[model].read_text()
    if model in ("spec_cnn", "resnet_mini"):  # measured as written (no sweep)
        return text
    text = substitute(text, r"batch = 64\b", f"batch = {batch}", "'batch = 64'")
    if model == "mlp":
        return substitute(text, r"dense\(128\)", f"dense({width})", "dense(128)")
    # Both found before either is changed: conv2d(64, 3) may be a new first one.
    text = substitute(text, r"conv2d\(32, 3\)", "conv2d(@C1@, 3)", "conv2d(32, 3)")
    text = substitute(text, r"conv2d\(64, 3\)", "conv2d(@C2@, 3)", "conv2d(64, 3)")
    return text.replace("@C1@", str(channels)).replace("@C2@", str(2 * channels))


# --- processes -----------------------------------------------------------

def run_child(cmd, workdir, env=None):
    """Runs cmd to completion; (stdout, wall seconds, peak RSS in MiB)."""
    out_path = Path(workdir) / "child.out"
    err_path = Path(workdir) / "child.err"
    start = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err,
                             cwd=workdir, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"bench: {' '.join(map(str, cmd))} failed ({p.returncode}):\n"
                         + err_path.read_text()[-2000:] + out_path.read_text()[-2000:])
    return out_path.read_text(), seconds, usage.ru_maxrss / 1024.0


def cpu_busy(seconds=1.0):
    """Fraction of all CPUs' time spent busy (by any process) over `seconds`."""
    def snapshot():
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait
    total0, idle0 = snapshot()
    time.sleep(seconds)
    total1, idle1 = snapshot()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


class Quiet:
    """Before each timed process: waits up to max_wait seconds for the other
    processes on this shared machine to leave the CPUs (< 10% busy), and
    keeps the busy fraction it saw last, for the report."""

    def __init__(self, max_wait):
        self.max_wait = max_wait
        self.seen = []

    def wait(self):
        if self.max_wait <= 0:
            return None
        deadline = time.monotonic() + self.max_wait
        busy = cpu_busy()
        while busy >= 0.1 and time.monotonic() < deadline:
            busy = cpu_busy()
        self.seen.append(busy)
        return busy


class Nnc:
    def __init__(self, nnc, workdir, quiet):
        self.nnc = nnc
        self.workdir = Path(workdir)
        self.quiet = quiet

    def compile(self, name, text):
        src = self.workdir / f"{name}.nn"
        src.write_text(text)
        binary = self.workdir / name
        # A first compile: the object cache is not read (nor written).
        _, seconds, _ = run_child([self.nnc, src, "-I", ROOT / "examples", "-o", binary,
                                   "--no-cache"], self.workdir)
        return binary, seconds

    def forward_flops(self, binary):
        out, _, _ = run_child([binary, "info"], self.workdir)
        m = re.search(r"FLOPs per sample \(forward\): (\d+)", out)
        if not m:
            raise SystemExit("bench: `model info` printed no forward FLOPs")
        return int(m.group(1))

    def train(self, binary, steps, threads):
        log = self.workdir / "train.jsonl"
        log.unlink(missing_ok=True)
        busy = self.quiet.wait()
        _, _, rss = run_child([binary, "train", "--epochs", 1, "--steps", steps,
                               "--threads", threads, "--quiet", "--log", log,
                               "--checkpoint-dir", self.workdir / "ck"],
                              self.workdir)
        events = [json.loads(line) for line in log.read_text().splitlines()]
        epoch = next(e for e in events if e.get("event") == "epoch")
        return {"steps": epoch["step"], "seconds": epoch["seconds"],
                "samples_per_s": epoch["samples_per_s"], "peak_rss_mib": rss,
                "cpu_busy_before": busy}

    def eval(self, binary, threads):
        busy = self.quiet.wait()
        out, _, rss = run_child([binary, "eval", "--json", "--threads", threads,
                                 "--weights", self.workdir / "ck" / "last.safetensors"],
                                self.workdir)
        j = json.loads(out.strip().splitlines()[-1])
        return {"samples": j["samples"], "samples_per_s": j["samples_per_s"],
                "accuracy": j.get("accuracy"), "peak_rss_mib": rss,
                "cpu_busy_before": busy}


def pytorch(model, steps, threads, workdir, quiet, batch=64, width=128, channels=32,
            evaluate=True, warmup=5):
    env = dict(os.environ, **PYTORCH_ENV)
    cmd = [PYTHON, HERE / "pytorch_reference.py", model, "--bench-steps", steps,
           "--warmup", warmup, "--threads", threads, "--batch", batch,
           "--width", width, "--channels", channels]
    if evaluate:
        cmd.append("--eval")
    busy = quiet.wait()
    out, _, rss = run_child(cmd, workdir, env)
    j = json.loads(out.strip().splitlines()[-1])
    j["peak_rss_mib"] = rss
    j["cpu_busy_before"] = busy
    return j


# --- the benchmark -------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a and b else None


def summarize(side, fwd, threads):
    """Medians of one side's runs, plus GFLOP/s and fractions of peak."""
    train = median([r["train_samples_per_s"] for r in side])
    s = {"train_samples_per_s": train,
         "eval_samples_per_s": median([r.get("eval_samples_per_s") for r in side]),
         "peak_rss_mib": median([r["peak_rss_mib"] for r in side])}
    if "compile_s" in side[0]:
        s["compile_s"] = median([r["compile_s"] for r in side])
    s["train_gflops"] = train * 3 * fwd / 1e9
    s["train_fraction_of_gemm_ceiling"] = s["train_gflops"] / gemm_ceiling(threads)
    s["train_fraction_of_fma_peak"] = s["train_gflops"] / fma_peak(threads)
    if s["eval_samples_per_s"]:
        s["eval_gflops"] = s["eval_samples_per_s"] * fwd / 1e9
    s["runs"] = side
    return s


def main_rows(args, nnc, workdir):
    rows = []
    for model in args.models:
        steps = args.steps or DEFAULT_STEPS[model]
        text = variant(model)
        assert text == EXAMPLES[model].read_text()
        runs = {t: {"nnc": [], "pytorch": []} for t in args.threads}
        fwd = None
        for r in range(args.runs):
            binary, compile_s = nnc.compile(model, text)
            fwd = fwd or nnc.forward_flops(binary)
            for t in args.threads:
                n = nnc.train(binary, steps, t)
                e = nnc.eval(binary, t)
                runs[t]["nnc"].append({
                    "compile_s": compile_s, "train_samples_per_s": n["samples_per_s"],
                    "train_seconds": n["seconds"], "steps": n["steps"],
                    "eval_samples_per_s": e["samples_per_s"],
                    "eval_accuracy": e["accuracy"], "peak_rss_mib": n["peak_rss_mib"],
                    "eval_peak_rss_mib": e["peak_rss_mib"],
                    "cpu_busy_before_train": n["cpu_busy_before"],
                    "cpu_busy_before_eval": e["cpu_busy_before"]})
                if args.pytorch:
                    runs[t]["pytorch"].append(pytorch(model, steps, t, workdir, nnc.quiet))
                log(f"{model} threads={t} run {r + 1}/{args.runs}: nnc "
                    f"{n['samples_per_s']:.0f} samples/s"
                    + (f", PyTorch {runs[t]['pytorch'][-1]['train_samples_per_s']:.0f}"
                       if args.pytorch else ""))
        for t in args.threads:
            row = {"model": model, "source": str(EXAMPLES[model].relative_to(ROOT)),
                   "threads": t, "batch": 64, "steps": steps,
                   "forward_flops_per_sample": fwd, "train_flops_per_sample": 3 * fwd,
                   "nnc": summarize(runs[t]["nnc"], fwd, t)}
            if args.pytorch:
                row["pytorch"] = summarize(runs[t]["pytorch"], fwd, t)
                row["ratio"] = {
                    "train": ratio(row["nnc"]["train_samples_per_s"],
                                   row["pytorch"]["train_samples_per_s"]),
                    "eval": ratio(row["nnc"]["eval_samples_per_s"],
                                  row["pytorch"]["eval_samples_per_s"])}
            rows.append(row)
    return rows


def sweep_points(args):
    points = []
    for model in args.models:
        if model in ("spec_cnn", "resnet_mini"):
            continue
        if model == "mlp":
            points += [("mlp", {"width": w}) for w in args.sweep_widths]
        else:
            points += [("cnn", {"channels": c}) for c in args.sweep_channels]
        points += [(model, {"batch": b}) for b in args.sweep_batches]
    seen, unique = set(), []
    for model, p in points:
        key = (model, p.get("width", 128), p.get("channels", 32), p.get("batch", 64))
        if key not in seen:
            seen.add(key)
            unique.append((model, p))
    return unique


def sweep(args, nnc, workdir):
    rows = []
    for model, p in sweep_points(args):
        width, channels, batch = p.get("width", 128), p.get("channels", 32), p.get("batch", 64)
        binary, compile_s = nnc.compile(f"{model}-sweep", variant(model, width, channels, batch))
        fwd = nnc.forward_flops(binary)
        step_flops = 3 * fwd * batch
        epoch_steps = -(-54000 // batch)
        steps = args.sweep_steps or int(min(epoch_steps, max(
            20, args.sweep_gflop * 1e9 / step_flops)))
        t = args.sweep_threads
        # Medians of --sweep-runs runs, nnc and PyTorch alternating, so a slow
        # phase of the shared host lands on both sides instead of one point.
        nruns, pruns = [], []
        for _ in range(args.sweep_runs):
            nruns.append(nnc.train(binary, steps, t))
            if args.pytorch:
                pruns.append(pytorch(model, steps, t, workdir, nnc.quiet, batch, width,
                                     channels, evaluate=False))
        n_sps = median([r["samples_per_s"] for r in nruns])
        row = {"model": model, "width": width if model == "mlp" else None,
               "channels": [channels, 2 * channels] if model == "cnn" else None,
               "batch": batch, "threads": t, "steps": nruns[0]["steps"],
               "forward_flops_per_sample": fwd, "train_gflop_per_step": step_flops / 1e9,
               "nnc": {"compile_s": compile_s,
                       "ms_per_step": 1e3 * batch / n_sps,
                       "train_samples_per_s": n_sps,
                       "train_gflops": n_sps * 3 * fwd / 1e9,
                       "runs_samples_per_s": [r["samples_per_s"] for r in nruns]}}
        if args.pytorch:
            p_sps = median([j["train_samples_per_s"] for j in pruns])
            row["pytorch"] = {"ms_per_step": 1e3 * batch / p_sps,
                              "train_samples_per_s": p_sps,
                              "train_gflops": p_sps * 3 * fwd / 1e9,
                              "runs_samples_per_s": [j["train_samples_per_s"] for j in pruns]}
            row["ratio"] = {"train": ratio(n_sps, p_sps)}
        size = f"width={width}" if model == "mlp" else f"channels={channels}/{2 * channels}"
        log(f"sweep {model} {size} batch={batch}: "
            f"nnc {row['nnc']['ms_per_step']:.2f} ms/step")
        rows.append(row)
    return rows


# --- output --------------------------------------------------------------

def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def pytorch_setup(rows):
    """What the PyTorch runs reported of their setup (one row's)."""
    for r in rows:
        for run in (r.get("pytorch") or {}).get("runs", []):
            if run.get("setup"):
                return run["setup"]
    return None


def fma_note(result):
    peaks = result["conventions"]["fma_peak_gflops_measured"]
    if not peaks:
        return ""
    text = ", ".join(f"{v:.0f} GFLOP/s on {t} thread{'s' if int(t) > 1 else ''}"
                     for t, v in sorted(peaks.items(), key=lambda kv: int(kv[0])))
    train = [f"{r['model']} {r['threads']}T {pct(r['nnc'].get('train_fraction_of_fma_peak'))}"
             for r in result["rows"]]
    return (f" FMA peak measured in this run (bench/fma_peak.c): {text}; nnc's training "
            f"reaches " + ", ".join(train) + " of it.")


def pct(v):
    return "-" if v is None else f"{100 * v:.0f}%"


def markdown(result):
    rows = result["rows"]
    lines = [
        "| model | threads | train samples/s nnc | PyTorch | nnc/PyTorch "
        "| eval samples/s nnc | PyTorch | nnc/PyTorch "
        "| train GFLOP/s nnc (% ceiling) | PyTorch (% ceiling) "
        "| nnc compile s | peak RSS MiB nnc | PyTorch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        n, p, q = r["nnc"], r.get("pytorch", {}), r.get("ratio", {})

        def gf(s):
            if not s:
                return "-"
            return f"{s['train_gflops']:.1f} ({pct(s['train_fraction_of_gemm_ceiling'])})"
        lines.append(
            f"| {r['model']} | {r['threads']} | {fmt(n['train_samples_per_s'])} "
            f"| {fmt(p.get('train_samples_per_s'))} | {fmt(q.get('train'), 2)} "
            f"| {fmt(n['eval_samples_per_s'])} | {fmt(p.get('eval_samples_per_s'))} "
            f"| {fmt(q.get('eval'), 2)} | {gf(n)} | {gf(p)} "
            f"| {fmt(n['compile_s'], 2)} | {fmt(n['peak_rss_mib'])} "
            f"| {fmt(p.get('peak_rss_mib'))} |")
    cfg = result["config"]
    runs = f"{cfg['runs']} run" + ("s" if cfg["runs"] != 1 else "")
    lines += ["", f"Medians of {runs}; steps per training run: "
              + ", ".join(f"{r['model']} {r['steps']}" for r in rows[::len(cfg['threads'])])
              + f"; batch 64; load average before/after: "
              f"{result['machine']['load_before'][0]:.2f}/{result['machine']['load_after'][0]:.2f}"
              + busy_note(result["machine"]["cpu_busy_before_runs"]) + ". "
              "GFLOP/s = samples/s x 3 x forward FLOPs per sample (`./model info`); "
              "% ceiling: of the GEMM ceiling (105 GFLOP/s on 1 thread, 200 on 2)."
              + fma_note(result)]
    if result.get("sweep"):
        t = result["sweep"][0]["threads"]
        lines += ["", f"Sweep: medians of {cfg['sweep_runs']} runs per point and side "
                  f"(alternating), on {t} thread{'s' if t != 1 else ''}.",
                  "", "| model | width / channels | batch | GFLOP per step "
                  "| nnc ms/step | nnc GFLOP/s | PyTorch ms/step | PyTorch GFLOP/s | nnc/PyTorch |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in result["sweep"]:
            size = (f"dense {r['width']}" if r["model"] == "mlp"
                    else f"conv {r['channels'][0]}/{r['channels'][1]}")
            n, p = r["nnc"], r.get("pytorch", {})
            lines.append(
                f"| {r['model']} | {size} | {r['batch']} | {r['train_gflop_per_step']:.3f} "
                f"| {fmt(n['ms_per_step'], 2)} | {fmt(n['train_gflops'], 1)} "
                f"| {fmt(p.get('ms_per_step'), 2)} | {fmt(p.get('train_gflops'), 1)} "
                f"| {fmt(r.get('ratio', {}).get('train'), 2)} |")
    return "\n".join(lines) + "\n"


def busy_note(seen):
    if not seen:
        return ""
    return (f"; CPUs busy (other processes) in the second before each timed run: "
            f"median {pct(statistics.median(seen))}, max {pct(max(seen))}")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def int_list(s):
    return [int(x) for x in s.split(",") if x.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nnc", required=True, help="the nnc compiler to measure")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--threads", type=int_list, default=[2, 1],
                    help="thread counts, comma-separated (default 2,1)")
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--steps", type=int, default=0,
                    help="training steps per run (default: mlp 800, cnn 200)")
    ap.add_argument("--no-pytorch", dest="pytorch", action="store_false")
    ap.add_argument("--out", default=str(HERE / "results"),
                    help="folder for latest.json and latest.md")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="before each timed process, wait up to SECONDS for the CPUs "
                         "to be < 10%% busy (a shared machine); 0: do not wait")
    ap.add_argument("--sweep", action="store_true", help="also sweep width and batch")
    ap.add_argument("--sweep-widths", type=int_list, default=[128, 256, 512, 1024, 2048])
    ap.add_argument("--sweep-channels", type=int_list, default=[32, 64, 128])
    ap.add_argument("--sweep-batches", type=int_list, default=[32, 64, 128, 256])
    ap.add_argument("--sweep-threads", type=int, default=1,
                    help="threads of the sweeps (default 1: PyTorch's two OpenMP threads "
                         "slow down many times over whenever another process runs)")
    ap.add_argument("--sweep-gflop", type=float, default=150,
                    help="training GFLOP per sweep point (at least 20 steps, at most an epoch)")
    ap.add_argument("--sweep-steps", type=int, default=0, help="fixed steps per sweep point")
    ap.add_argument("--sweep-runs", type=int, default=3,
                    help="runs per sweep point and side (medians; default 3)")
    args = ap.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    for m in args.models:
        if m not in EXAMPLES:
            ap.error(f"unknown model '{m}'; expected one of {', '.join(EXAMPLES)}")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="nnc-bench-") as workdir:
        measure_fma_peak(list(args.threads) + [args.sweep_threads], workdir)
        quiet = Quiet(args.wait_idle)
        nnc = Nnc(os.path.abspath(shutil.which(args.nnc) or args.nnc), workdir, quiet)
        rows = main_rows(args, nnc, workdir)
        sweep_rows = sweep(args, nnc, workdir) if args.sweep else []
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    result = {
        "machine": {"cpu": cpu, "cpus": os.cpu_count(), "load_before": load_before,
                    "load_after": os.getloadavg(),
                    "cpu_busy_before_runs": quiet.seen},
        "config": {"runs": args.runs, "threads": args.threads, "models": args.models,
                   "sweep_runs": args.sweep_runs if args.sweep else None,
                   "steps": args.steps or {m: DEFAULT_STEPS[m] for m in args.models},
                   "batch": 64, "pytorch": args.pytorch, "pytorch_warmup_steps": 5,
                   "pytorch_env": PYTORCH_ENV,
                   "pytorch_setup": pytorch_setup(rows)},
        "conventions": {
            "train_flops_per_sample": "3 x forward FLOPs per sample from `./model info`",
            "gemm_ceiling_gflops": GEMM_CEILING, "fma_peak_gflops": FMA_PEAK,
            "fma_peak_gflops_measured": MEASURED_FMA_PEAK,
            "nnc_train": "epoch record of --log: samples / seconds of the (partial) "
                         "epoch; data loading excluded, batch preparation and first "
                         "step included",
            "pytorch_train": "N steps after 5 warm-up steps, batch gathering included",
            "eval": "10000 test images, batches of 64",
            "peak_rss": "ru_maxrss of the train process (nnc) / the whole "
                        "subprocess (PyTorch)"},
        "rows": rows,
        "sweep": sweep_rows,
    }
    table = markdown(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "latest.md").write_text(table)
    sys.stdout.write(table)


if __name__ == "__main__":
    main()
