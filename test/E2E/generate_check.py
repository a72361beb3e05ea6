#!/usr/bin/python3
"""./model generate on two small corpus language models: corpus_parity's
(embedding, positions, dense layers) and gpt_parity's (two causal
attention blocks). Both have the compiled nnc_decode (the KV cache).

Checks, on each:
- the same seed gives the same text, another seed another text;
- greedy generation with the KV cache (the default) chooses, token by token
  within the first window, predict's most probable token (up to float ties:
  its probability under predict is within 1e-5 of the maximum; the cache
  computes one position with other kernels than predict's whole window);
- `--no-cache` is exactly predict's argmax, also past the window, and a
  prompt longer than the block keeps its last T tokens (predict on just
  those gives the same token); top-k 1 is greedy;
- a long generation with the cache (its window rebuilt from the last T/2
  tokens whenever it fills) writes every token;
- an empty prompt and a negative temperature are usage errors (exit 2).

usage: generate_check.py WORKDIR
"""
import csv
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_parity  # noqa: E402
import gpt_parity  # noqa: E402
from e2e_util import run  # noqa: E402


def check_model(d, name, module):
    d = os.path.join(d, name)
    os.makedirs(d, exist_ok=True)
    module.write_corpus(d)
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(module.model_source())
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--checkpoint-dir", os.path.join(d, "ck"), "--quiet"])
    ckpt = os.path.join(d, "ck", "last.safetensors")
    window = module.T

    # Bytes: the model may write any byte, UTF-8 or not.
    def generate(prompt, *flags):
        cmd = [exe, "generate", "--weights", ckpt, "--prompt", prompt] + list(flags)
        r = subprocess.run(cmd, capture_output=True)
        out, p = r.stdout, prompt.encode()
        if r.returncode != 0 or not out.startswith(p) or not out.endswith(b"\n"):
            sys.exit(f"FAIL {name}: {cmd} exited {r.returncode} with {out!r} {r.stderr!r}")
        return out[len(p):-1]

    def predict(text):
        """predict's next-token probabilities after `text`, by byte."""
        path = os.path.join(d, "prompt.txt")
        with open(path, "wb") as f:
            f.write(text)
        r = subprocess.run([exe, "predict", "--weights", ckpt, "--input", path],
                           capture_output=True)
        row = list(csv.DictReader(r.stdout.decode("latin-1").splitlines()))[0]
        probs = {int(k[5:]) - 1: float(v) for k, v in row.items()
                 if k.startswith("prob_") and k != "prob_0"}
        return int(row["next_id"]) - 1, probs

    a = generate("The ", "--tokens", "40", "--seed", "7")
    b = generate("The ", "--tokens", "40", "--seed", "7")
    c = generate("The ", "--tokens", "40", "--seed", "8")
    if a != b or a == c or len(a) != 40:
        sys.exit(f"FAIL {name}: seeds: 7 gave {a!r} then {b!r}, 8 gave {c!r}")

    prompt = b"The q"
    greedy = generate(prompt.decode(), "--tokens", str(window - len(prompt)),
                      "--temperature", "0")
    exact = generate(prompt.decode(), "--tokens", str(window - len(prompt)),
                     "--temperature", "0", "--no-cache")
    text = prompt
    for ch, ex in zip(greedy, exact):
        best, probs = predict(text)
        if ex != best:
            sys.exit(f"FAIL {name}: --no-cache greedy token after {text!r} is "
                     f"{ex}, predict's argmax {best}")
        if probs[ch] < probs[best] - 1e-5:
            sys.exit(f"FAIL {name}: the cached greedy token after {text!r} is {ch} "
                     f"(p = {probs[ch]}), predict's argmax {best} (p = {probs[best]})")
        text += bytes([ch])
    if generate(prompt.decode(), "--tokens", str(len(exact)), "--top-k", "1",
                "--seed", "3", "--no-cache") != exact:
        sys.exit(f"FAIL {name}: top-k 1 differs from temperature 0")

    long = "The quick brown fox jumps over"
    tail = long.encode()[-window:]
    g = generate(long, "--tokens", "1", "--temperature", "0", "--no-cache")[0]
    if g != predict(long.encode())[0] or g != predict(tail)[0]:
        sys.exit(f"FAIL {name}: after a prompt longer than {window} tokens the "
                 f"greedy token {g} differs from predict on its last {window}")
    many = generate("The ", "--tokens", str(5 * window), "--seed", "1")
    if len(many) != 5 * window:
        sys.exit(f"FAIL {name}: {len(many)} bytes of {5 * window} generated")

    for flags, message in [(["--prompt", ""], "has no tokens"),
                           (["--prompt", "x", "--temperature", "-1"],
                            "--temperature")]:
        r = subprocess.run([exe, "generate", "--weights", ckpt] + flags,
                           capture_output=True, text=True)
        if r.returncode != 2 or message not in r.stderr:
            sys.exit(f"FAIL {name}: generate {flags} exited {r.returncode}: {r.stderr}")
    print(f"ok {name}: seeds; greedy with the KV cache = predict's argmax "
          f"within the window, --no-cache exactly, last {window} tokens kept; "
          f"{5 * window} tokens past the window; usage errors")


def main():
    check_model(sys.argv[1], "mlp", corpus_parity)
    check_model(sys.argv[1], "gpt", gpt_parity)


if __name__ == "__main__":
    main()
