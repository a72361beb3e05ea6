#!/usr/bin/env python3
"""Data-parallel training on this machine, and what it predicts for more
(issue 16).

  mpi.py --nnc BUILD/bin/nnc [--runs 3] [--models mlp,cnn,gpt] [--wait-idle S]
         [--out bench/results]

Each model (examples/fashion_mlp.nn, examples/fashion_cnn_plain.nn: batch 64,
Adam, Fashion-MNIST; examples/gpt_fortunes.nn: SPEC 2.9's baby GPT, batch 12
windows of 64 tokens) is trained `--steps N` three ways, with the same
global batch:

  1 x 2    one process, --threads 2 (the usual program: nnc_train)
  1 x 1    one process, --threads 1
  2 x 1    `mpirun -np 2 --bind-to core`, --threads 1 each, a program
           compiled with `nnc --distributed --batch B/2` (nnc_grad,
           MPI_Allreduce of the gradient arena, nnc_update)

samples/s is the epoch record's (rank 0's log: every rank's samples over the
epoch's seconds); "all-reduce" is the share of those seconds rank 0 spent in
the gradients' MPI_Allreduce (the log's allreduce_s), "wait" the share spent
before it in the row count's, which ends when the slower rank reaches it
(wait_s). Medians of --runs.

The cost model (written after the table): a step on N machines, each with
this machine's 2 threads and the file's batch per rank (weak scaling), takes
t_compute (measured: batch / the 1 x 2 samples/s) + t_allreduce, where a
ring all-reduce of S gradient bytes costs 2 (N-1)/N S / bandwidth +
2 (N-1) latency (nnc does not overlap it with the backward pass). Scaling
efficiency = t_compute / (t_compute + t_allreduce), for 25 Gb/s Ethernet
(20 us latency, TCP) and 100 Gb/s (5 us, RDMA) links at N = 2..64. The
same formula with the shared-memory link of this machine, fitted to the
measured 2-rank all-reduce of the largest model, is checked against the
other models' measured all-reduce times.
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench import Quiet, run_child  # noqa: E402

MODELS = {"mlp": (ROOT / "examples" / "fashion_mlp.nn", 64, 400),
          "cnn": (ROOT / "examples" / "fashion_cnn_plain.nn", 64, 120),
          "gpt": (ROOT / "examples" / "gpt_fortunes.nn", 12, 30)}
# Open MPI refuses to start as root without these.
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
LINKS = [("25 Gb/s, 20 us", 25e9 / 8, 20e-6), ("100 Gb/s, 5 us", 100e9 / 8, 5e-6)]
RANKS = [2, 4, 8, 16, 32, 64]


def train(workdir, binary, steps, threads, batch, ranks, quiet):
    log = Path(workdir) / "train.jsonl"
    log.unlink(missing_ok=True)
    # (A run in steps, the GPT's, takes no --epochs.)
    cmd = [binary, "train"] + (["--epochs", 1] if "gpt" not in binary.name else []) + [
        "--steps", steps, "--threads", threads, "--batch", batch, "--quiet",
        "--log", log, "--checkpoint-dir", Path(workdir) / "ck"]
    env = None
    if ranks > 1:
        cmd = ["mpirun", "--bind-to", "core", "--map-by", "core", "-np", ranks] + cmd
        env = MPI_ENV
    busy = quiet.wait()
    run_child(cmd, workdir, env)
    epoch = next(e for e in map(json.loads, log.read_text().splitlines())
                 if e.get("event") == "epoch")
    return {"samples_per_s": epoch["samples_per_s"], "seconds": epoch["seconds"],
            "steps": epoch["step"], "allreduce_s": epoch.get("allreduce_s", 0.0),
            "wait_s": epoch.get("wait_s", 0.0),
            "cpu_busy_before": busy}


def ring_allreduce(bytes_, ranks, bandwidth, latency):
    return 2 * (ranks - 1) / ranks * bytes_ / bandwidth + 2 * (ranks - 1) * latency


def measure(args, workdir):
    quiet = Quiet(args.wait_idle)
    rows = []
    for name in args.models:
        source, batch, steps = MODELS[name]
        # The usual program for one process; for 2 ranks one compiled for
        # half the batch (a program computes the batch it was compiled for,
        # a smaller --batch being padding).
        binary = Path(workdir) / name
        ranked = Path(workdir) / f"{name}_ranks"
        run_child([args.nnc, source, "-I", ROOT / "examples", "-o", binary], workdir)
        run_child([args.nnc, source, "-I", ROOT / "examples", "-o", ranked,
                   "--distributed", "--batch", batch // 2], workdir)
        info, _, _ = run_child([binary, "info"], workdir)
        params = int(re.search(r"trainable parameters: (\d+)", info).group(1))
        row = {"model": name, "batch": batch, "steps": steps, "parameters": params,
               "gradient_bytes": 4 * params, "runs": {}}
        for label, threads, ranks in (("1x2", 2, 1), ("1x1", 1, 1), ("2x1", 1, 2)):
            runs = [train(workdir, ranked if ranks > 1 else binary, steps, threads,
                          batch // ranks, ranks, quiet)
                    for _ in range(args.runs)]
            row["runs"][label] = {
                "samples_per_s": statistics.median(r["samples_per_s"] for r in runs),
                "allreduce_share": statistics.median(
                    r["allreduce_s"] / r["seconds"] for r in runs),
                "allreduce_ms_per_step": statistics.median(
                    1e3 * r["allreduce_s"] / r["steps"] for r in runs),
                "wait_share": statistics.median(r["wait_s"] / r["seconds"] for r in runs),
                "all": runs}
            print(f"{name} {label}: {row['runs'][label]['samples_per_s']:,.0f} samples/s",
                  file=sys.stderr)
        rows.append(row)
    return rows, quiet.seen


def model_table(rows):
    """Scaling efficiency per model, link and N from the measured step."""
    out = []
    for row in rows:
        t_compute = row["batch"] / row["runs"]["1x2"]["samples_per_s"]
        for link, bandwidth, latency in LINKS:
            eff = [t_compute / (t_compute + ring_allreduce(row["gradient_bytes"], n,
                                                         bandwidth, latency))
                   for n in RANKS]
            out.append({"model": row["model"], "link": link,
                        "t_compute_ms": 1e3 * t_compute,
                        "efficiency": dict(zip(RANKS, eff))})
    return out


def local_check(rows):
    """The 2-rank all-reduce of the largest gradient fits a bandwidth (the
    latency is negligible at these sizes); the others' are predicted."""
    big = max(rows, key=lambda r: r["gradient_bytes"])
    measured = big["runs"]["2x1"]["allreduce_ms_per_step"] / 1e3
    bandwidth = big["gradient_bytes"] / measured if measured > 0 else float("inf")
    return bandwidth, [(r["model"], r["runs"]["2x1"]["allreduce_ms_per_step"],
                        1e3 * ring_allreduce(r["gradient_bytes"], 2, bandwidth, 0))
                       for r in rows]


def markdown(rows, seen):
    lines = ["| model | parameters | batch | 1 x 2 samples/s | 1 x 1 | 2 ranks x 1 | "
             "2 x 1 / 1 x 2 | all-reduce share (2 x 1) | wait share | all-reduce ms/step |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        a, b, c = (r["runs"][k] for k in ("1x2", "1x1", "2x1"))
        lines.append(f"| {r['model']} | {r['parameters']:,} | {r['batch']} | "
                     f"{a['samples_per_s']:,.0f} | {b['samples_per_s']:,.0f} | "
                     f"{c['samples_per_s']:,.0f} | {c['samples_per_s'] / a['samples_per_s']:.2f} | "
                     f"{100 * c['allreduce_share']:.1f}% | {100 * c['wait_share']:.1f}% | "
                     f"{c['allreduce_ms_per_step']:.3f} |")
    busy = max(seen) if seen else None
    lines += ["", f"Medians of the runs; same global batch in every column. CPUs busy "
              f"(other processes) before the timed runs: "
              f"{'not measured' if busy is None else f'max {100 * busy:.0f}%'}.", ""]
    lines += ["Cost model: scaling efficiency t_compute / (t_compute + ring all-reduce) "
              "on N machines like this one (2 threads, the file's batch per rank):", "",
              "| model | link | t_compute ms | " + " | ".join(f"N={n}" for n in RANKS) + " |",
              "|---|---|---:|" + "---:|" * len(RANKS)]
    for m in model_table(rows):
        lines.append(f"| {m['model']} | {m['link']} | {m['t_compute_ms']:.2f} | " +
                     " | ".join(f"{100 * m['efficiency'][n]:.0f}%" for n in RANKS) + " |")
    bandwidth, check = local_check(rows)
    lines += ["", f"Check on this machine (2 ranks, shared memory; bandwidth fitted to the "
              f"largest gradient: {bandwidth / 1e9:.2f} GB/s). The smaller gradients take "
              f"less than the formula says (they stay in cache; a shared-memory link is not "
              f"a latency-bandwidth one), so at these sizes the model errs on the safe side:",
              "",
              "| model | measured all-reduce ms/step | model ms/step |", "|---|---:|---:|"]
    lines += [f"| {m} | {got:.3f} | {want:.3f} |" for m, got, want in check]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnc", default=str(ROOT / "build" / "bin" / "nnc"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--models", default="mlp,cnn,gpt",
                    type=lambda s: [m for m in s.split(",") if m])
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--from-json", metavar="FILE",
                    help="rewrite the tables from an earlier run's mpi.json")
    args = ap.parse_args()
    if args.from_json:
        earlier = json.loads(Path(args.from_json).read_text())
        rows, seen = earlier["rows"], earlier["cpu_busy_before"]
    else:
        with tempfile.TemporaryDirectory() as workdir:
            rows, seen = measure(args, workdir)
    result = {"rows": rows, "model": model_table(rows), "cpu_busy_before": seen}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mpi.json").write_text(json.dumps(result, indent=1) + "\n")
    table = markdown(rows, seen)
    (out / "mpi.md").write_text(table)
    sys.stdout.write(table)


if __name__ == "__main__":
    main()
