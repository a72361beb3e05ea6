#!/usr/bin/env python3
"""Reference UTF-8 checks and word tokenization for nnrt's TextTest, written
independently of the C++ (Python's strict decoder and unicodedata).

Usage: text_reference.py INPUT.json OUTPUT.json
INPUT:  {"utf8": [hex, ...], "train": [text, ...], "texts": [text, ...],
         "vocab": N, "lowercase": bool, "length": T}
OUTPUT: {"utf8": [offset of the first bad byte or -1, ...],
         "vocab": [word, ...] (ids 2..), "ids": [[id, ...] per text]}
"""
import collections
import json
import sys
import unicodedata

APOSTROPHES = "'\u2019"


def words(text, lowercase):
    """Runs of letters, marks, numbers and apostrophes; apostrophes trimmed."""
    out, run = [], []
    for ch in text + " ":
        if ch in APOSTROPHES or unicodedata.category(ch)[0] in "LMN":
            run.append(ch)
            continue
        word = "".join("'" if c in APOSTROPHES else (c.lower() if lowercase else c)
                       for c in run).strip("'")
        if word:
            out.append(word)
        run = []
    return out


def first_bad_byte(data):
    try:
        data.decode("utf-8")
        return -1
    except UnicodeDecodeError as e:
        return e.start


with open(sys.argv[1], encoding="utf-8") as f:
    case = json.load(f)
counts = collections.Counter()
for text in case["train"]:
    counts.update(words(text, case["lowercase"]))
ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
vocab = [w for w, _ in ranked[: case["vocab"] - 2]]
index = {w: i + 2 for i, w in enumerate(vocab)}
ids = []
for text in case["texts"]:
    row = [index.get(w, 1) for w in words(text, case["lowercase"])][: case["length"]]
    ids.append(row + [0] * (case["length"] - len(row)))
out = {
    "utf8": [first_bad_byte(bytes.fromhex(h)) for h in case["utf8"]],
    "vocab": vocab,
    "ids": ids,
}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
