#!/usr/bin/env python3
"""Writes an IMDB-layout text data set for SPEC 2.7's program: DIR/train and
DIR/test, each with folders pos/ and neg/ of one UTF-8 review per file.
A review is 20-250 words drawn from the first 5000 words of Debian's
american-english list, each replaced with probability 0.2 by a sentiment
word of its class (8 per class), so that word counts decide the class.
Deterministic (seeded).

usage: make_reviews.py DIR [TRAIN_PER_CLASS] [TEST_PER_CLASS]
"""
import os
import random
import sys

POS = "great wonderful superb excellent moving brilliant fun loved".split()
NEG = "awful boring terrible dull waste bad hated poor".split()


def main():
    out = sys.argv[1]
    counts = {"train": int(sys.argv[2]) if len(sys.argv) > 2 else 300,
              "test": int(sys.argv[3]) if len(sys.argv) > 3 else 100}
    rng = random.Random(0)
    with open("/usr/share/dict/american-english", encoding="utf-8") as f:
        filler = f.read().split()[:5000]
    for split, n in counts.items():
        for cls, words in (("pos", POS), ("neg", NEG)):
            d = os.path.join(out, split, cls)
            os.makedirs(d, exist_ok=True)
            for i in range(n):
                text = " ".join(rng.choice(words) if rng.random() < 0.2 else rng.choice(filler)
                                for _ in range(rng.randint(20, 250)))
                with open(os.path.join(d, f"{i}.txt"), "w", encoding="utf-8") as f:
                    f.write(text + "\n")
    print(f"{out}: {counts['train']} + {counts['test']} reviews per class")


if __name__ == "__main__":
    main()
