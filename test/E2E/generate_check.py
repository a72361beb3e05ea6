#!/usr/bin/python3
"""./model generate on a small corpus language model (corpus_parity's).

Checks: the same seed gives the same text and another seed another text;
temperature 0 is greedy and each token equals the argmax of `predict` on
the text so far; top-k 1 is greedy too; a prompt longer than the block
keeps its last T tokens (predict on just those gives the same token); an
empty prompt and a negative temperature are usage errors (exit 2).

usage: generate_check.py WORKDIR
"""
import csv
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_parity import T, model_source, write_corpus  # noqa: E402
from e2e_util import run  # noqa: E402


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    write_corpus(d)
    with open(os.path.join(d, "model.nn"), "w") as f:
        f.write(model_source())
    exe = os.path.join(d, "model")
    run(["nnc", os.path.join(d, "model.nn"), "-o", exe])
    run([exe, "train", "--checkpoint-dir", os.path.join(d, "ck"), "--quiet"])
    ckpt = os.path.join(d, "ck", "last.safetensors")

    # Bytes: the model may write any byte, UTF-8 or not.
    def generate(prompt, *flags):
        cmd = [exe, "generate", "--weights", ckpt, "--prompt", prompt] + list(flags)
        r = subprocess.run(cmd, capture_output=True)
        out, p = r.stdout, prompt.encode()
        if r.returncode != 0 or not out.startswith(p) or not out.endswith(b"\n"):
            sys.exit(f"FAIL: {cmd} exited {r.returncode} with {out!r} {r.stderr!r}")
        return out[len(p):-1]

    def predict(text):
        """The byte predict chooses after `text` (its next_id - 1)."""
        path = os.path.join(d, "prompt.txt")
        with open(path, "wb") as f:
            f.write(text)
        r = subprocess.run([exe, "predict", "--weights", ckpt, "--input", path],
                           capture_output=True)
        rows = list(csv.DictReader(r.stdout.decode("latin-1").splitlines()))
        return int(rows[0]["next_id"]) - 1

    a = generate("The ", "--tokens", "40", "--seed", "7")
    b = generate("The ", "--tokens", "40", "--seed", "7")
    c = generate("The ", "--tokens", "40", "--seed", "8")
    if a != b or a == c or len(a) != 40:
        sys.exit(f"FAIL: seeds: 7 gave {a!r} then {b!r}, 8 gave {c!r}")
    print(f"ok seeds: seed 7 twice gives {a!r}, seed 8 another text")

    greedy = generate("Pack my", "--tokens", "4", "--temperature", "0")
    text = b"Pack my"
    for ch in greedy:
        want = predict(text)
        if ch != want:
            sys.exit(f"FAIL: greedy token after {text!r} is {ch!r}, predict's "
                     f"argmax {want!r}")
        text += bytes([ch])
    if generate("Pack my", "--tokens", "4", "--top-k", "1", "--seed", "3") != greedy:
        sys.exit("FAIL: top-k 1 differs from temperature 0")
    print(f"ok greedy: 'Pack my' + {greedy!r} = predict's argmax token by token, "
          f"= top-k 1")

    long = "The quick brown fox jumps over"
    tail = long.encode()[-T:]
    g = generate(long, "--tokens", "1", "--temperature", "0")[0]
    if g != predict(long.encode()) or g != predict(tail):
        sys.exit(f"FAIL: after a prompt longer than {T} tokens the greedy token "
                 f"{g!r} differs from predict on its last {T} ({predict(tail)!r})")
    print(f"ok window: a {len(long)}-token prompt continues as its last {T} do")

    for flags, message in [(["--prompt", ""], "has no tokens"),
                           (["--prompt", "x", "--temperature", "-1"],
                            "--temperature")]:
        r = subprocess.run([exe, "generate", "--weights", ckpt] + flags,
                           capture_output=True, text=True)
        if r.returncode != 2 or message not in r.stderr:
            sys.exit(f"FAIL: generate {flags} exited {r.returncode}: {r.stderr}")
    print("ok usage errors")


if __name__ == "__main__":
    main()
