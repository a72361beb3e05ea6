#!/usr/bin/env python3
"""SPEC 2.10 measured: the baby GPT pretrained on fortunes, adapted to
Debian's license texts (/usr/share/common-licenses) with LoRA and with full
fine-tuning (issue 14).

  bench/gpt_lora.py --nnc BUILD/bin/nnc --weights GPT.safetensors
                    [--threads 2] [--out bench/results]

GPT.safetensors: a checkpoint of examples/gpt_fortunes.nn (its 2000 steps;
bench/gpt.py --full trains one). examples/gpt_lora.nn's two finetunes run
their 500 steps from it: `fortunes_to_licenses` (rank 8, alpha 16 on every
attention projection and dense weight, lr 2e-3) and
`fortunes_to_licenses_full` (every weight, lr 5e-4). Reported: the
validation loss on the licenses' last 10% before (the pretrained weights),
after LoRA and after full fine-tuning; the trained parameters, optimizer
state and checkpoint sizes; and that the merged adapters evaluate as the
adapted model.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd, cwd):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nnc-lora-"))
    (work / "checkpoints" / "gpt").mkdir(parents=True)
    shutil.copy(args.weights, work / "checkpoints" / "gpt" / "best.safetensors")
    for f in ("gpt_fortunes.nn", "gpt_lora.nn"):
        shutil.copy(ROOT / "examples" / f, work / f)
    exes = {}
    for run_name, exe in (("fortunes_to_licenses", "lora"),
                          ("fortunes_to_licenses_full", "full")):
        run([args.nnc, "gpt_lora.nn", "--train", run_name, "-o", exe], work)
        exes[exe] = work / exe

    def val_loss(exe, weights):
        return json.loads(run([exe, "eval", "--weights", weights, "--split",
                               "validation", "--json"], work))["loss"]

    result = {"before": val_loss(exes["full"], work / "checkpoints/gpt/best.safetensors")}
    for name, exe in exes.items():
        info = run([exe, "info"], work)
        trained = int(re.search(r"trainable parameters: (\d+)", info).group(1))
        state = int(re.search(r"optimizer state: (\d+)", info).group(1))
        start = time.perf_counter()
        run([exe, "train", "--threads", args.threads, "--quiet", "--log",
             f"{name}.jsonl"], work)
        seconds = time.perf_counter() - start
        records = [json.loads(l) for l in open(work / f"{name}.jsonl") if '"epoch"' in l]
        ckpt = work / "checkpoints" / ("fortunes_to_licenses" if name == "lora"
                                       else "fortunes_to_licenses_full") / "last.safetensors"
        result[name] = {"val_loss": records[-1]["val_loss"],
                        "curve": [(r["step"], r["val_loss"]) for r in records],
                        "trained_params": trained, "optimizer_state": state,
                        "seconds": seconds, "checkpoint_bytes": ckpt.stat().st_size,
                        "checkpoint": str(ckpt)}
    total = int(re.search(r"trainable parameters: \d+ of (\d+)",
                          run([exes["lora"], "info"], work)).group(1))
    adapters = result["lora"]["trained_params"]
    base = total - adapters
    merged = work / "merged.safetensors"
    run([exes["lora"], "merge", "--weights", result["lora"]["checkpoint"], "-o", merged], work)
    result["merged_val_loss"] = val_loss(exes["full"], merged)
    result["adapted_val_loss"] = val_loss(exes["lora"], result["lora"]["checkpoint"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpt_lora.json").write_text(json.dumps(result, indent=2) + "\n")
    lora, full = result["lora"], result["full"]
    lines = [
        "# LoRA on the baby GPT: fortunes -> Debian's license texts (SPEC 2.10)", "",
        f"`bench/gpt_lora.py --threads {args.threads}`: examples/gpt_lora.nn's finetunes, "
        "500 steps each from the fortunes GPT; validation loss (mean cross-entropy per byte) "
        "on the last 10% of /usr/share/common-licenses.", "",
        "| | validation loss | trained parameters | optimizer state | train time s |",
        "|---|---:|---:|---:|---:|",
        f"| pretrained on fortunes (before) | {result['before']:.4f} | | | |",
        f"| LoRA rank 8 (attention + dense) | {lora['val_loss']:.4f} | {adapters:,} "
        f"({100 * adapters / base:.1f}% of {base:,}) | {lora['optimizer_state']:,} | "
        f"{lora['seconds']:.0f} |",
        f"| full fine-tuning | {full['val_loss']:.4f} | {full['trained_params']:,} | "
        f"{full['optimizer_state']:,} | {full['seconds']:.0f} |", "",
        f"Adapters: {adapters:,} floats = {adapters * 4 / 1024:.0f} KiB against the model's "
        f"{base * 4 / 1024:.0f} KiB ({100 * adapters / base:.1f}%). The merged checkpoint "
        f"(`./model merge`) evaluated by the base model: {result['merged_val_loss']:.6f}; "
        f"the adapted model: {result['adapted_val_loss']:.6f}.", "",
        "Validation loss by step, LoRA: " + ", ".join(f"{s}: {v:.3f}" for s, v in lora["curve"]),
        "", "Full fine-tuning: " + ", ".join(f"{s}: {v:.3f}" for s, v in full["curve"])]
    (out / "gpt_lora.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
