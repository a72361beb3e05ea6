#!/usr/bin/env python3
"""Small deterministic text-classification data for the text E2E tests.

    text_data.py folders DIR N SEED   DIR/{neg,pos}/NNN.txt, N files each
    text_data.py csv FILE N SEED      FILE with columns id,review,sentiment
    text_data.py csv-words FILE N SEED  the same, with a few more filler
        words drawn from 500 words of /usr/share/dict/american-english
        (wamerican): enough distinct text for a bpe(vocab = 300) model
    text_data.py check-csv PRED MIN_ACC ROWS
        PRED (path,class,prob_neg,prob_pos rows, or index,...) has ROWS rows
        and at least MIN_ACC of them name the class the path or the text's
        words give.

A review is 4-12 words: filler words shared by both classes, and at least
one word of its class's list (some in capitals, some with punctuation and
accents), so a bag of words separates them.
"""
import csv
import os
import random
import sys

POS = ["good", "great", "Superb", "lovely", "wonderful", "génial", "don't-miss"]
NEG = ["bad", "awful", "Terrible", "boring", "dreadful", "nul", "worst"]
FILLER = ["the", "film", "was", "a", "and", "plot", "actors", "it", "really", "story", "über", "."]


def dictionary_words():
    """500 lowercase ASCII words of the wamerican list, every 100th."""
    with open("/usr/share/dict/american-english", encoding="utf-8") as f:
        words = [w.strip() for w in f if w.strip().isascii() and w.strip().isalpha()
                 and w.strip().islower()]
    return words[::100][:500]


def review(rng, label, filler=FILLER):
    words = [rng.choice(filler) for _ in range(rng.randint(3, 10))]
    for _ in range(rng.randint(1, 2)):
        words.insert(rng.randint(0, len(words)), rng.choice(POS if label == "pos" else NEG))
    return " ".join(words) + rng.choice(["", "!", "\n"])


def main():
    cmd = sys.argv[1]
    if cmd == "folders":
        out, n, seed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        rng = random.Random(seed)
        for label in ("neg", "pos"):
            os.makedirs(os.path.join(out, label), exist_ok=True)
            for i in range(n):
                with open(os.path.join(out, label, "%03d.txt" % i), "w", encoding="utf-8") as f:
                    f.write(review(rng, label))
    elif cmd in ("csv", "csv-words"):
        out, n, seed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        rng = random.Random(seed)
        filler = FILLER + dictionary_words() if cmd == "csv-words" else FILLER
        with open(out, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "review", "sentiment"])
            for i in range(n):
                label = rng.choice(["neg", "pos"])
                w.writerow([i, review(rng, label, filler), label])
    elif cmd == "check-csv":
        path, min_acc, rows = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
        with open(path, encoding="utf-8") as f:
            data = list(csv.DictReader(f))
        assert len(data) == rows, f"{len(data)} rows, expected {rows}"
        right = 0
        for r in data:
            truth = os.path.basename(os.path.dirname(r["path"])) if "path" in r else None
            p = [float(r["prob_neg"]), float(r["prob_pos"])]
            assert abs(sum(p) - 1) < 1e-4, r
            assert r["class"] == ("neg" if p[0] > p[1] else "pos"), r
            right += truth is None or r["class"] == truth
        acc = right / len(data)
        assert acc >= min_acc, f"accuracy {acc} < {min_acc}"
        print(f"ok {len(data)} rows, accuracy {acc:.3f}")
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
