#!/usr/bin/env python3
"""Deterministic fuzzing of `nnc --check` (run by fuzz.test).

Mutates the SPEC examples (deleted, duplicated and swapped tokens and
characters, random bytes including invalid UTF-8 and NUL, truncation) and
adds pathological inputs (20,000 nested parentheses, a 100,000-term
expression, an empty file, random binary). For every input nnc must exit 0
or 1 within the timeout -- never a signal, 2, 3 or a hang -- and on exit 1
print at least one diagnostic in `file:line:col: error:` (or `nnc: error:`)
form and nothing that looks like a crash.

usage: fuzz.py NNC SPEC_DIR WORK_DIR [--count N] [--seed S] [--timeout T]
"""
import argparse
import os
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

DIAG = re.compile(rb"^(.+?:\d+:\d+: error: |nnc: error: |[^:\n]+: error: )",
                  re.M)
CRASH = [b"Assertion", b"Stack dump", b"terminate called", b"Segmentation",
         b"internal error", b"this is a bug in nnc", b"AddressSanitizer",
         b"LeakSanitizer", b"UndefinedBehavior", b"runtime error:"]
TOKEN = re.compile(rb'"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|\S')
SNIPPETS = [b"(", b")", b"[", b"]", b"{", b"}", b"->", b"=", b":", b",", b";",
            b"\n", b"\"", b"'", b"#", b"//", b"-", b"1e999", b"0", b"-1",
            b"model", b"block", b"dataset", b"train", b"finetune", b"import",
            b"group", b"repeat", b"until", b"input", b"f32[", b"i32[1]",
            b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"@",
            b"\\q", b"\t", b"\r"]


def mutate(rng, src):
    kind = rng.randrange(9)
    if kind <= 2 and len(TOKEN.findall(src)) < 2:
        kind = 5  # too few tokens to delete, duplicate or swap
    if kind == 0:  # delete a token
        toks = list(TOKEN.finditer(src))
        t = rng.choice(toks)
        return src[:t.start()] + src[t.end():], "delete-token"
    if kind == 1:  # duplicate a token
        toks = list(TOKEN.finditer(src))
        t = rng.choice(toks)
        return src[:t.end()] + b" " + t.group() + src[t.end():], "dup-token"
    if kind == 2:  # swap two tokens
        toks = list(TOKEN.finditer(src))
        a, b = sorted(rng.sample(toks, 2), key=lambda m: m.start())
        return (src[:a.start()] + b.group() + src[a.end():b.start()] +
                a.group() + src[b.end():]), "swap-tokens"
    if kind == 3:  # delete characters
        i = rng.randrange(len(src))
        return src[:i] + src[i + rng.randint(1, 4):], "delete-chars"
    if kind == 4:  # duplicate a slice
        i = rng.randrange(len(src))
        j = min(len(src), i + rng.randint(1, 40))
        return src[:j] + src[i:j] + src[j:], "dup-slice"
    if kind == 5:  # insert random bytes
        i = rng.randrange(len(src) + 1)
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        return src[:i] + junk + src[i:], "random-bytes"
    if kind == 6:  # insert a syntactic snippet
        out = src
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(out) + 1)
            out = out[:i] + rng.choice(SNIPPETS) + out[i:]
        return out, "snippet"
    if kind == 7:  # truncate
        return src[:rng.randrange(len(src))], "truncate"
    # replace a number by an extreme one
    nums = list(re.finditer(rb"\b\d+(?:\.\d+)?\b", src))
    if not nums:
        return src + b"\x00", "nul"
    t = rng.choice(nums)
    repl = rng.choice([b"0", b"-1", b"99999999999", b"1e308", b"1e-320",
                       b"2147483648", b"0.0000001", b"100000"])
    return src[:t.start()] + repl + src[t.end():], "number"


def special_inputs(rng):
    yield b"", "empty"
    yield b"\n\n   \n", "blank"
    yield (b"train t {\n  x = " + b"(" * 20000 + b"1" + b")" * 20000 +
           b"\n}\n"), "deep-parens"
    yield b"model m(x: f32[4]) -> f32[4] {\n  " + b"[" * 20000 + b"\n}\n", \
        "deep-unclosed"
    yield b"train t {\n  x = " + b" + ".join([b"1"] * 100000) + b"\n}\n", \
        "long-expr"
    yield b"train t {\n  x = " + b"-" * 50000 + b"1\n}\n", "deep-unary"
    yield (b"model m(x: f32[4]) -> f32[4] {\n" +
           b"  group g {\n" * 300 + b"  relu\n" + b"  }\n" * 300 + b"}\n"), \
        "deep-groups"
    yield (b"model m(x: f32[4]) -> f32[4] {\n  repeat 10000 { repeat 10000 "
           b"{ relu } }\n}\n"), "repeat-explosion"
    yield bytes(rng.randrange(256) for _ in range(4096)), "binary"
    yield b"\xef\xbb\xbfmodel m(x: f32[4]) -> f32[4] { relu }\n", "bom"
    yield b"model m(x: f32[4]) -> f32[4] { relu }" * 1000, "no-newlines"
    yield b"\x00" * 100, "nuls"


def check(nnc, path, timeout):
    try:
        p = subprocess.run([nnc, path, "--check"], capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout after %gs" % timeout
    out = p.stdout + p.stderr
    if p.returncode < 0:
        return "killed by signal %d" % -p.returncode
    if p.returncode not in (0, 1):
        return "exit status %d: %s" % (p.returncode, out[-300:])
    for c in CRASH:
        if c in out:
            return "output contains %r" % c
    if p.returncode == 1 and not DIAG.search(p.stderr):
        return "exit 1 without a 'file:line:col: error:' line: %r" % \
            p.stderr[-300:]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nnc")
    ap.add_argument("spec_dir")
    ap.add_argument("work_dir")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    os.makedirs(args.work_dir, exist_ok=True)
    seeds = []
    for name in sorted(os.listdir(args.spec_dir)):
        if name.endswith(".nn"):
            with open(os.path.join(args.spec_dir, name), "rb") as f:
                data = f.read()
            # Imports would resolve beside the work file: inline nothing,
            # drop them (the importing examples then have unknown names).
            data = re.sub(rb'^import "[^"]*"\n', b"", data, flags=re.M)
            seeds.append((name, data))

    cases = []
    for data, kind in special_inputs(rng):
        cases.append((kind, data))
    while len(cases) < args.count:
        name, src = rng.choice(seeds)
        data = src
        kinds = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            if not data:
                break
            data, kind = mutate(rng, data)
            kinds.append(kind)
        cases.append(("%s:%s" % (name, "+".join(kinds)), data))

    paths = []
    for i, (kind, data) in enumerate(cases):
        path = os.path.join(args.work_dir, "case%03d.nn" % i)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda p: check(args.nnc, p, args.timeout),
                                paths))

    failures = [(p, k, r) for p, (k, _), r in zip(paths, cases, results) if r]
    print("fuzz: %d inputs, %d failures (seed %d)" %
          (len(cases), len(failures), args.seed))
    for path, kind, why in failures:
        print("FAIL %s [%s]: %s" % (path, kind, why))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
