#!/usr/bin/env python3
"""Writes the "language of a word" data set of examples/word_language.nn from
Debian's word lists (packages wamerican wbritish wngerman wfrench witalian
wspanish wportuguese wdutch, in /usr/share/dict): deterministic, no network.

    examples/data/make_words.py [OUT_DIR] [--per-language N]

OUT_DIR (default: examples/data/words) gets train.csv and test.csv, each with
the columns word,language (language: dutch, english, french, german, italian,
portuguese, spanish). A word:
- is lowercased, all letters (str.isalpha: no apostrophes, digits or
  hyphens), 2 to 16 UTF-8 bytes long (so that pad(16) never cuts one);
- is not an all-capitals abbreviation in its list ("ABC");
- occurs in exactly one language's list: words of several languages
  ("radio", "hotel") are dropped, since no model can tell them apart.
English is the union of the American and British lists.

Each language keeps the N words (default 3000) with the smallest SHA-1 of
"language:word", a fixed pseudo-random choice. A word goes to test.csv when
the first byte of SHA-1("split:" + word) is below 52 (about 20%), else to
train.csv. Rows are sorted by language, then word.
"""
import argparse
import csv
import hashlib
import os
import sys

DICT = "/usr/share/dict"
LISTS = {
    "english": ["american-english", "british-english"],
    "german": ["ngerman"],
    "french": ["french"],
    "italian": ["italian"],
    "spanish": ["spanish"],
    "portuguese": ["portuguese"],
    "dutch": ["dutch"],
}
PACKAGES = "wamerican wbritish wngerman wfrench witalian wspanish wportuguese wdutch"


def sha1(text):
    return hashlib.sha1(text.encode("utf-8")).digest()


def read_list(name):
    path = os.path.join(DICT, name)
    if not os.path.exists(path):
        sys.exit(f"make_words.py: {path} is missing; install the Debian packages {PACKAGES}")
    words = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            word = line.strip()
            if len(word) > 1 and word.isupper():
                continue  # an abbreviation
            word = word.lower()
            if word.isalpha() and 2 <= len(word.encode("utf-8")) <= 16:
                words.add(word)
    return words


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=os.path.join(here, "words"))
    parser.add_argument("--per-language", type=int, default=3000)
    args = parser.parse_args()

    vocab = {lang: set().union(*(read_list(n) for n in names)) for lang, names in LISTS.items()}
    seen = {}
    for words in vocab.values():
        for w in words:
            seen[w] = seen.get(w, 0) + 1
    rows = {"train": [], "test": []}
    for lang in sorted(vocab):
        unique = [w for w in vocab[lang] if seen[w] == 1]
        unique.sort(key=lambda w: sha1(f"{lang}:{w}"))
        for w in sorted(unique[: args.per_language]):
            rows["test" if sha1("split:" + w)[0] < 52 else "train"].append((w, lang))

    os.makedirs(args.out, exist_ok=True)
    for split, items in rows.items():
        with open(os.path.join(args.out, split + ".csv"), "w", encoding="utf-8", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(["word", "language"])
            out.writerows(items)
        print(f"{os.path.join(args.out, split + '.csv')}: {len(items)} words")


if __name__ == "__main__":
    main()
