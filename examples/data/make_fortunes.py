#!/usr/bin/env python3
"""Writes a topic-classification text data set from Debian's `fortunes`
package for examples/fortune_topics.nn: DIR/train and DIR/test, each with
one folder per topic (computers, politics, science, work) of one UTF-8 file
per fortune (IMDB's layout, SPEC 2.7's `text(DIR)`).

Why this corpus: it is real, human-written English (quotations, jokes,
aphorisms), labelled by the file it comes from, and shipped by Debian, so
no download is needed. Like sentiment, the class is decided by what the
words mean, not by their form; unlike a synthetic corpus, it is noisy (many
fortunes could sit in two files), so the models' differences show.

The split is deterministic: every fifth fortune of a topic (after removing
duplicates and the terminal's overstrike sequences) goes to test.

usage: make_fortunes.py [DIR]   (default: examples/data/fortunes)
"""
import os
import re
import sys

FORTUNES = "/usr/share/games/fortunes"
TOPICS = ["computers", "politics", "science", "work"]


def fortunes(topic):
    with open(os.path.join(FORTUNES, topic), encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r".\x08", "", text)  # overstrike: "_\bx" prints x underlined
    seen = set()
    for entry in text.split("\n%\n"):
        entry = entry.strip().strip("%").strip()
        if entry and entry not in seen:
            seen.add(entry)
            yield entry


def main():
    if len(sys.argv) > 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) == 2 else os.path.join(here, "fortunes")
    counts = {"train": 0, "test": 0}
    for topic in TOPICS:
        for split in counts:
            os.makedirs(os.path.join(out, split, topic), exist_ok=True)
        for i, entry in enumerate(fortunes(topic)):
            split = "test" if i % 5 == 4 else "train"
            counts[split] += 1
            with open(os.path.join(out, split, topic, f"{i:04d}.txt"), "w",
                      encoding="utf-8") as f:
                f.write(entry + "\n")
    print(f"{out}: {counts['train']} train, {counts['test']} test fortunes "
          f"in {len(TOPICS)} topics")


if __name__ == "__main__":
    main()
