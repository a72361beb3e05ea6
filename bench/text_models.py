#!/usr/bin/env python3
"""Text classification with words and bpe tokens: an LSTM against a bag of
embeddings (mean-pooled) and word trigrams (conv1d + max over time), on
the fortunes topics of examples/fortune_topics.nn (issue 13).

  bench/text_models.py --nnc BUILD/bin/nnc [--seeds 3] [--epochs 6]
                       [--out bench/results]

Each of the file's six train declarations is built once and trained from
`--seeds` initializations (`train --seed S --epochs E`); the weights after
the last epoch are evaluated on the test split (601 fortunes). The data is
written by examples/data/make_fortunes.py (Debian's fortunes package) into
a temporary folder. Writes text_models.md (the table docs/language.md
quotes) and text_models.json: accuracy and macro F1 as mean and range over
the seeds, training time per run, compile time.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "/usr/bin/python3"
MODELS = [("lstm", "LSTM(64), state after the last real token"),
          ("mean", "mean of the real tokens' embeddings"),
          ("conv", "conv1d(64, 3) + relu + max over time")]
TOKENIZERS = [("words", "words(vocab = 6000, lowercase), pad(64)"),
              ("bpe", "bpe(vocab = 4000), pad(96)")]


def run(cmd, cwd):
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def measure(nnc, work, name, seeds, epochs):
    start = time.perf_counter()
    run([nnc, "fortune_topics.nn", "--train", name, "-o", name], work)
    compile_s = time.perf_counter() - start
    runs = []
    for seed in range(1, seeds + 1):
        ckpt = f"ck/{name}-{seed}"
        start = time.perf_counter()
        run([f"./{name}", "train", "--quiet", "--seed", str(seed), "--epochs", str(epochs),
             "--checkpoint-dir", ckpt], work)
        train_s = time.perf_counter() - start
        result = json.loads(run([f"./{name}", "eval", "--json", "--weights",
                                 f"{ckpt}/last.safetensors"], work))
        runs.append({"seed": seed, "accuracy": result["accuracy"], "f1": result["f1"],
                     "train_s": train_s})
    return {"name": name, "compile_s": compile_s, "runs": runs}


def summary(values):
    return statistics.mean(values), min(values), max(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nnc", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", default=str(ROOT / "bench/results"))
    args = parser.parse_args()
    nnc = str(Path(args.nnc).resolve())

    results = []
    with tempfile.TemporaryDirectory() as work:
        run([PYTHON, str(ROOT / "examples/data/make_fortunes.py"), "data/fortunes"], work)
        shutil.copy(ROOT / "examples/fortune_topics.nn", work)  # its paths are relative to it
        for model, _ in MODELS:
            for tokenizer, _ in TOKENIZERS:
                name = f"{model}_{tokenizer}"
                results.append(measure(nnc, work, name, args.seeds, args.epochs))
                acc = summary([r["accuracy"] for r in results[-1]["runs"]])
                print(f"{name}: accuracy {acc[0]:.3f} ({acc[1]:.3f}-{acc[2]:.3f})", flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "text_models.json").write_text(json.dumps(
        {"seeds": args.seeds, "epochs": args.epochs, "results": results}, indent=2) + "\n")
    lines = [
        "# Text classification: words and bpe, LSTM vs mean-pooled vs conv1d",
        "",
        f"`bench/text_models.py`: examples/fortune_topics.nn (Debian's fortunes, 4 topics, "
        f"2,408 training and 601 test fortunes; majority class 35%), Adam 0.003, batch 32, "
        f"{args.epochs} epochs, the last weights evaluated on the test split; mean and range "
        f"over {args.seeds} seeds. Train time is per run on this machine (2 threads), "
        f"compile time is nnc's.",
        "",
        "| model | tokens | test accuracy | macro F1 | train s | compile s |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        model, tokenizer = r["name"].split("_")
        acc = summary([x["accuracy"] for x in r["runs"]])
        f1 = summary([x["f1"] for x in r["runs"]])
        train_s = statistics.median(x["train_s"] for x in r["runs"])
        lines.append(f"| {dict(MODELS)[model]} | {dict(TOKENIZERS)[tokenizer]} | "
                     f"{acc[0]:.3f} ({acc[1]:.3f}-{acc[2]:.3f}) | {f1[0]:.3f} | "
                     f"{train_s:.1f} | {r['compile_s']:.1f} |")
    (out / "text_models.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'text_models.md'}")


if __name__ == "__main__":
    main()
