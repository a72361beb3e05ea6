"""The checks of `nnc --target cuda` programs on an NVIDIA GPU
(scripts/gpu-check.sh, issue 15). Standard library only: the GPU machine's
python need not have numpy.

  gpu_check.py reference DIR   here (after gpu-check.sh built DIR): each
      model's CPU program makes the references the GPU is held to: one
      training step's start and result (DIR/ref/M.start.safetensors,
      M.cpu.safetensors), a short training's test score and speed
      (DIR/ref/M.json) and its weights (M.trained.safetensors; not the
      GPT's, too big to travel).
  gpu_check.py run DIR         on the GPU machine: per model, the device
      line of `info`, the same step on the GPU with every launch waited for
      (a failing kernel is named) compared with the CPU's, a few profiled
      steps (the costliest kernels), and the same training (score within
      the model's tolerance of the CPU's, samples/s, device memory), and
      the CPU's trained weights evaluated on the GPU (loss within 0.2%). The
      report goes to $OUT/gpu-check.md (else DIR/gpu-check.md) as it is
      written, the logs to $OUT/logs.tar.gz, the GPU's one-step states to
      $OUT/states.tar.gz; exit 1 if a check failed.

Every program runs under a time limit (a training
$GPU_CHECK_TRAIN_SECONDS, 150 s), and the whole run stops starting models
at a deadline ($GPU_CHECK_SECONDS, 420 s), so that the device tool's call
returns with what was learnt."""
import json
import math
import os
import struct
import subprocess
import sys
import tarfile
import time
from array import array

# name: (how it trains for the comparison, the score compared and how close
# the GPU's must come to the CPU's, one-step tolerance).
# tf32 inputs with f32 accumulation give about 1e-3 relative error per GEMM
# and an Adam update divides moments: one step's updates agree to a few %;
# bf16 operands (8-bit mantissas) to about 10%.
MODELS = {
    "fashion_mlp": (["--epochs", "3"], "accuracy", 0.02, 5e-2),
    "fashion_mlp_bf16": (["--epochs", "3"], "accuracy", 0.02, 1.5e-1),
    "fashion_cnn": (["--epochs", "1"], "accuracy", 0.02, 5e-2),
    "resnet_mini": (["--steps", "300"], "accuracy", 0.03, 5e-2),
    "gpt_fortunes": (["--steps", "300"], "loss", 0.1, 5e-2),
}
IDX = ["train=data/train-images-idx3-ubyte.gz,data/train-labels-idx1-ubyte.gz",
       "test=data/t10k-images-idx3-ubyte.gz,data/t10k-labels-idx1-ubyte.gz"]


def data_args(model):
    if model.startswith("gpt"):
        return ["--data", "train=data/fortunes"]
    return [a for d in IDX for a in ("--data", d)]


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__" or e["dtype"] != "F32":
            continue
        a, b = e["data_offsets"]
        values = array("f")
        values.frombytes(raw[8 + n + a:8 + n + b])
        if sys.byteorder != "little":
            values.byteswap()
        out[name] = values
    return out


def rms(values):
    return math.sqrt(sum(v * v for v in values) / max(1, len(values)))


def noise_gradients(start, cpu, gpu):
    """The parameters whose gradient is zero in exact arithmetic (a
    convolution's bias before a batchnorm, which removes any constant per
    channel): their Adam first moment, on the CPU, is rounding noise,
    1e-5 of the median tensor's or less, and so must the GPU's be. Their
    updates (Adam normalizes noise to full-size steps) are not compared.
    Returns (names skipped, names whose GPU moment is not noise)."""
    moments = {n[len("optimizer."):-len(".exp_avg")]: n for n in start
               if n.startswith("optimizer.") and n.endswith(".exp_avg")}
    if not moments:
        return set(), []
    sizes = sorted(rms(cpu[m]) for m in moments.values())
    median = sizes[len(sizes) // 2]
    skipped, loud = set(), []
    for param, m in moments.items():
        if rms(cpu[m]) < 1e-5 * median:
            skipped |= {param, m, m + "_sq"}
            if rms(gpu[m]) >= 1e-5 * median:
                loud.append(param)
    return skipped, loud


def compare_step(start_path, cpu_path, gpu_path, tolerance):
    """The updates of every state tensor (parameters and optimizer state)
    over one step, GPU against CPU, as the relative norm of their
    difference: within `tolerance`, twice that for Adam's second moments
    (squares of gradients double their relative error). Returns (report
    lines, ok)."""
    start, cpu, gpu = (read_safetensors(p)
                       for p in (start_path, cpu_path, gpu_path))
    worst, worst_name, failed = 0.0, "", []
    missing = [n for n in sorted(start) if n not in cpu or n not in gpu]
    failed += [f"{n}: missing" for n in missing]
    skipped, loud = noise_gradients(
        start, cpu, gpu) if not missing else (set(), [])
    failed += [f"{p}: a gradient that is zero on the CPU is not on the GPU"
               for p in loud]
    for name in sorted(start):
        if name in missing or name in skipped:
            continue
        du = [c - s for c, s in zip(cpu[name], start[name])]
        dg = [g - s for g, s in zip(gpu[name], start[name])]
        if any(math.isnan(v) or math.isinf(v) for v in dg):
            failed.append(f"{name}: NaN or inf on the GPU")
            continue
        norm = math.sqrt(sum(v * v for v in du))
        diff = math.sqrt(sum((a - b) ** 2 for a, b in zip(du, dg)))
        rel = (0.0 if diff == 0 else math.inf) if norm == 0 else diff / norm
        limit = tolerance * (2 if name.endswith(".exp_avg_sq") else 1)
        if rel > worst:
            worst, worst_name = rel, name
        if rel > limit:
            failed.append(f"{name}: update differs by {rel:.3g} (relative; "
                          f"tolerance {limit})")
    noise = sorted(n for n in skipped if n in start and
                   not n.startswith("optimizer."))
    lines = [f"one step, {len(start)} state tensors: largest relative "
             f"difference of the updates {worst:.3g} ({worst_name}; "
             f"tolerance {tolerance}, {2 * tolerance} for second moments)"]
    if noise:
        lines.append(f"gradients zero in exact arithmetic, rounding noise on "
                     f"both (not compared): {', '.join(noise)}")
    lines += [f"FAIL {f}" for f in failed[:12]]
    if len(failed) > 12:
        lines.append(f"FAIL ... {len(failed) - 12} more")
    return lines, not failed


class Runner:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.loader = os.path.join(self.root, "lib", "ld-linux-x86-64.so.2")

    def program(self, name):
        exe = os.path.join(self.root, name)
        if os.path.exists(self.loader):  # the bundle's own libraries
            return [self.loader, "--library-path",
                    os.path.join(self.root, "lib"), exe]
        return [exe]

    def run(self, name, args, limit, env=None):
        """(exit status or 'timeout', output) of one program run in DIR."""
        full = dict(os.environ, **(env or {}))
        try:
            p = subprocess.run(self.program(name) + args, cwd=self.root,
                               env=full, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=limit)
            return p.returncode, p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace")
            return "timeout", out


def epochs(log_path):
    """The log's first and last epoch lines ({} if none)."""
    lines = [json.loads(line) for line in open(log_path)] \
        if os.path.exists(log_path) else []
    lines = [j for j in lines if j.get("event") == "epoch"] or [{}]
    return lines[0], lines[-1]


def evaluate(runner, exe, weights, model, limit):
    """`eval --json`'s result ({loss, metrics...}), or None and why."""
    status, out = runner.run(exe, ["eval", "--json", "--weights", weights]
                             + data_args(model), limit)
    if status != 0:
        return None, f"eval failed ({status}): {tail(out)}"
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line), ""
    return None, "eval printed no result"


def score(runner, exe, weights, model, limit):
    result, why = evaluate(runner, exe, weights, model, limit)
    return (result.get(MODELS[model][1]) if result else None), why


def tail(text, n=3):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:])


def train(runner, exe, model, ckdir, log, limit, extra=None):
    args = (["train", "--quiet", "--seed", "1"] + MODELS[model][0]
            + data_args(model)
            + ["--checkpoint-dir", ckdir, "--log", log])
    start = time.time()
    status, out = runner.run(exe, args, limit, extra)
    return status, out, time.time() - start


def reference(root):
    """The CPU programs' references, made here."""
    root = os.path.abspath(root)
    runner = Runner(root)
    os.makedirs(os.path.join(root, "ref"), exist_ok=True)
    for model in MODELS:
        exe = f"cpu/{model}"
        if not os.path.exists(os.path.join(root, exe)):
            continue
        base = f"cpu/ck_{model}"
        steps = [["--steps", "1", "--seed", "3", "--checkpoint-dir",
                  base + "_0"],
                 ["--steps", "2", "--resume", base + "_0/last.safetensors",
                  "--checkpoint-dir", base + "_1"]]
        for s in steps:
            status, out = runner.run(exe, ["train", "--quiet"] + s
                                     + data_args(model), 600)
            if status != 0:
                sys.exit(f"gpu_check: {model} on the CPU: {tail(out)}")
        os.replace(os.path.join(root, base + "_0/last.safetensors"),
                   os.path.join(root, f"ref/{model}.start.safetensors"))
        os.replace(os.path.join(root, base + "_1/last.safetensors"),
                   os.path.join(root, f"ref/{model}.cpu.safetensors"))
        log = f"cpu/{model}.jsonl"
        status, out, wall = train(runner, exe, model, base + "_train", log,
                                  1800)
        if status != 0:
            sys.exit(f"gpu_check: {model} training on the CPU: {tail(out)}")
        trained = os.path.join(root, base + "_train/last.safetensors")
        result, why = evaluate(runner, exe, trained, model, 600)
        if result is None:
            sys.exit(f"gpu_check: {model} on the CPU: {why}")
        value = result.get(MODELS[model][1])
        # The trained weights too (not the GPT's: too big to travel), for
        # the GPU's evaluation of the same weights.
        if not model.startswith("gpt"):
            os.replace(trained,
                       os.path.join(root, f"ref/{model}.trained.safetensors"))
        first, last = epochs(os.path.join(root, log))
        ref = {"score": value, "eval": result,
               "train_loss": first.get("train_loss"),
               "samples_per_s": last.get("samples_per_s"),
               "wall_s": round(wall, 1), "threads": os.cpu_count()}
        with open(os.path.join(root, f"ref/{model}.json"), "w") as f:
            json.dump(ref, f)
        print(f"{model}: CPU {MODELS[model][1]} {value:.4f}, "
              f"{ref['samples_per_s']} samples/s")


def run(root):
    root = os.path.abspath(root)
    out_dir = os.environ.get("OUT") or root
    report_path = os.path.join(out_dir, "gpu-check.md")
    report = open(report_path, "w")
    deadline = time.time() + float(os.environ.get("GPU_CHECK_SECONDS", 420))
    only = os.environ.get("GPU_CHECK_MODELS")
    runner = Runner(root)
    failed = []

    def say(text=""):
        print(text, flush=True)
        report.write(text + "\n")
        report.flush()

    say(f"# scripts/gpu-check.sh run, {time.strftime('%Y-%m-%d', time.gmtime())}")
    say()
    try:
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
             "--format=csv,noheader"], stdout=subprocess.PIPE, timeout=30)
        say("GPU (nvidia-smi): " + smi.stdout.decode().strip())
    except (OSError, subprocess.TimeoutExpired):
        say("GPU (nvidia-smi): not available")
    say(f"host: {os.cpu_count()} cores; CPU references made on the build "
        "host (ref/*.json: its threads)")
    for model in only.split(",") if only else MODELS:
        how, metric, close, step_tol = MODELS[model]
        exe = f"{model}_cuda"
        if not os.path.exists(os.path.join(root, exe)):
            continue
        say()
        say(f"## {model}")
        say()
        left = deadline - time.time()
        if left < 30:
            say("not run: the run's deadline came first")
            failed.append(f"{model}: not run")
            continue
        status, out = runner.run(exe, ["info"], 60)
        say("info: " + next((l.strip() for l in out.splitlines()
                             if "device" in l.lower()), tail(out, 2)))
        ref = json.load(open(os.path.join(root, f"ref/{model}.json")))
        # One step from the CPU's state, every launch waited for.
        ck = f"ck_{model}_step"
        compare = os.path.exists(
            os.path.join(root, f"ref/{model}.start.safetensors"))
        if not compare:
            say("one step: not compared (no CPU states in the bundle)")
        start = (["--resume", f"ref/{model}.start.safetensors", "--steps",
                  "2"] if compare else ["--steps", "1"])
        status, out = runner.run(
            exe, ["train", "--quiet", "--checkpoint-dir", ck] + start
            + data_args(model), min(90, left), {"NNRT_CUDA_SYNC": "1"})
        if status != 0:
            say(f"FAIL step on the GPU ({status}): {tail(out, 5)}")
            failed.append(f"{model}: step")
            continue
        if compare:
            lines, ok = compare_step(
                os.path.join(root, f"ref/{model}.start.safetensors"),
                os.path.join(root, f"ref/{model}.cpu.safetensors"),
                os.path.join(root, ck, "last.safetensors"), step_tol)
            for line in lines:
                say(line)
            if not ok:
                failed.append(f"{model}: step parity")
        # The CPU's trained weights evaluated on the GPU: the inference
        # entry point alone (batchnorm's running statistics, no dropout).
        trained = os.path.join(root, f"ref/{model}.trained.safetensors")
        if os.path.exists(trained):
            result, why = evaluate(runner, exe, trained, model, 60)
            if result is None:
                say(f"FAIL eval of the CPU's weights: {why}")
                failed.append(f"{model}: eval parity")
            else:
                want, got = ref["eval"], result
                dl = abs(got["loss"] - want["loss"]) / abs(want["loss"])
                dm = abs(got.get(metric, 0) - want.get(metric, 0))
                ok = dl <= 2e-3 and dm <= 0.005
                say(f"{'ok' if ok else 'FAIL'} eval of the CPU's trained "
                    f"weights: loss {got['loss']:.5f} (CPU {want['loss']:.5f}, "
                    f"relative {dl:.2g}), {metric} {got.get(metric)} (CPU "
                    f"{want.get(metric)})")
                if not ok:
                    failed.append(f"{model}: eval parity")
        # A few steps with each kernel timed.
        prof = f"profile_{model}.txt"
        status, out = runner.run(
            exe, ["train", "--quiet", "--steps", "20", "--checkpoint-dir",
                  f"ck_{model}_prof"] + data_args(model),
            min(60, deadline - time.time()),
            {"NNRT_CUDA_PROFILE": os.path.join(root, prof)})
        if os.path.exists(os.path.join(root, prof)):
            rows = open(os.path.join(root, prof)).read().splitlines()[1:]
            total = sum(float(r.split()[2]) for r in rows)
            launches = sum(int(r.split()[1]) for r in rows)
            say(f"20 steps profiled (each launch waited for): "
                f"{len(rows)} kernels, {launches} launches, {total:.3f} s "
                "in kernels; costliest:")
            for r in rows[:6]:
                k, n, s, share = r.split()
                say(f"- {k}: {n} launches, {float(s) * 1e3:.1f} ms "
                    f"({float(share) * 100:.0f}%)")
        else:
            say(f"profile: none ({status}): {tail(out)}")
        # The same training as the CPU reference.
        left = deadline - time.time()
        if left < 20:
            say("training not run: the run's deadline came first")
            failed.append(f"{model}: training not run")
            continue
        log = f"log_{model}.jsonl"
        cap = float(os.environ.get("GPU_CHECK_TRAIN_SECONDS", 150))
        status, out, wall = train(runner, exe, model, f"ck_{model}_train",
                                  log, min(cap, left - 10))
        first, epoch = epochs(os.path.join(root, log))
        if status != 0:
            say(f"FAIL training ({status}, {wall:.0f} s): {tail(out)}")
            failed.append(f"{model}: training")
            continue
        value, why = score(runner, exe, f"ck_{model}_train/last.safetensors",
                           model, 120)
        say(f"training ({' '.join(how)}): {wall:.1f} s wall, "
            f"{epoch.get('samples_per_s')} samples/s on the GPU "
            f"(CPU: {ref['samples_per_s']} on {ref['threads']} threads), "
            f"device memory {epoch.get('device_memory_mib')} MiB")
        # The first epoch's mean training loss: the same training within
        # 2% (tf32 rounding makes the runs drift apart, but an average over
        # hundreds of steps stays close). The test score after a short run
        # at the top of the schedule swings by several points from one
        # evaluation to the next (bench/results/gpu-check.md).
        first = first.get("train_loss")
        if first is not None and ref.get("train_loss"):
            d = abs(first - ref["train_loss"]) / ref["train_loss"]
            ok = d <= 0.02
            say(f"{'ok' if ok else 'FAIL'} first epoch's mean training loss: "
                f"GPU {first:.5f}, CPU {ref['train_loss']:.5f} (relative "
                f"{d:.2g})")
            if not ok:
                failed.append(f"{model}: training loss")
        if value is None:
            say(f"FAIL eval: {why}")
            failed.append(f"{model}: eval")
        elif abs(value - ref["score"]) <= close:
            say(f"ok test {metric}: GPU {value:.4f}, CPU {ref['score']:.4f}")
        else:
            say(f"FAIL test {metric}: GPU {value:.4f}, CPU {ref['score']:.4f} "
                f"(tolerance {close})")
            failed.append(f"{model}: {metric}")
    say()
    say("all checks passed" if not failed else
        "SOME CHECKS FAILED: " + "; ".join(failed))
    report.close()
    with tarfile.open(os.path.join(out_dir, "logs.tar.gz"), "w:gz") as t:
        for name in sorted(os.listdir(root)):
            if name.endswith((".jsonl", ".txt")) and name != "gpu-check.md":
                t.add(os.path.join(root, name), arcname=name)
    # The GPU's one-step states, to look into a failed comparison here.
    with tarfile.open(os.path.join(out_dir, "states.tar.gz"), "w:gz") as t:
        for model in MODELS:
            state = os.path.join(root, f"ck_{model}_step", "last.safetensors")
            if os.path.exists(state) and not model.startswith("gpt"):
                t.add(state, arcname=f"{model}.gpu.safetensors")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("reference", "run"):
        sys.exit(__doc__)
    if sys.argv[1] == "reference":
        reference(sys.argv[2])
    else:
        sys.exit(run(sys.argv[2]))
