#!/usr/bin/env python3
"""Writes the spoken-digits data set of examples/spoken_digits.nn: espeak-ng
says "zero" .. "nine" in many synthetic voices, speeds and pitches; sox
converts some files to other rates, stereo and FLAC so that the audio()
source resamples and mixes down. Deterministic (fixed lists, no randomness),
no network; Debian packages espeak-ng and sox.

    examples/data/make_digits.py [OUT_DIR] [--variants N] [--takes N]

OUT_DIR (default: examples/data/digits) gets train/<digit>/*.wav|flac and
test/<digit>/*.wav|flac, one folder per class (the class names are the
words). A voice is an espeak-ng language voice with a variant (`en-us+f3`).
The split is by voice: the test folder's language voices (English accents:
Received Pronunciation, New York City, West Midlands) never occur in the
training folder, so test accuracy measures speakers the model never heard.

Training voices: TRAIN_LANGUAGES x the first N (--variants, default 3) of
each language's TRAIN_VARIANTS; test voices: TEST_LANGUAGES x TEST_VARIANTS.
Each voice says each digit --takes times (default 2) at the speed and pitch
pairs TAKES[0 .. takes). espeak-ng writes 22050 Hz mono 16-bit WAV; every
file i (in generation order) with i % 5 == 1 becomes 16 kHz mono WAV, i % 5
== 2 44.1 kHz stereo WAV, i % 5 == 3 8 kHz mono FLAC (sox, without dither:
sox's default dither is random noise, and the files would differ from run to
run), the rest stay as written.
"""
import argparse
import os
import shutil
import subprocess
import sys

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven",
          "eight", "nine"]
# English accents and other languages' voices reading the English words.
TRAIN_LANGUAGES = ["en-us", "en-gb", "en-gb-scotland", "en-029",
                   "en-gb-x-gbclan", "de", "nl", "sv", "pl", "it"]
TRAIN_VARIANTS = ["m1", "f2", "m3", "f4", "m5", "f1"]
TEST_LANGUAGES = ["en-gb-x-rp", "en-us-nyc", "en-gb-x-gbcwmd"]
TEST_VARIANTS = ["m2", "f3", "m7"]
# (words per minute, pitch 0..99)
TAKES = [(165, 50), (200, 35), (140, 65), (185, 75)]


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("out", nargs="?", default=os.path.join(here, "digits"))
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--takes", type=int, default=2)
    args = ap.parse_args()
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            sys.exit(f"make_digits.py: needs {tool} (apt-get install "
                     "espeak-ng sox)")
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    voices = {
        "train": [f"{l}+{v}" for l in TRAIN_LANGUAGES
                  for v in TRAIN_VARIANTS[:args.variants]],
        "test": [f"{l}+{v}" for l in TEST_LANGUAGES for v in TEST_VARIANTS],
    }
    count = 0
    for split, names in voices.items():
        for voice in names:
            for digit in DIGITS:
                folder = os.path.join(args.out, split, digit)
                os.makedirs(folder, exist_ok=True)
                for speed, pitch in TAKES[:args.takes]:
                    stem = os.path.join(folder, f"{voice}_s{speed}_p{pitch}")
                    wav = stem + ".wav"
                    run(["espeak-ng", "-v", voice, "-s", str(speed), "-p",
                         str(pitch), "-w", wav, digit])
                    kind = count % 5
                    if kind == 1:
                        run(["sox", "-D", wav, "-r", "16000",
                             stem + ".tmp.wav"])
                        os.replace(stem + ".tmp.wav", wav)
                    elif kind == 2:
                        run(["sox", "-D", wav, "-r", "44100", "-c", "2",
                             stem + ".tmp.wav"])
                        os.replace(stem + ".tmp.wav", wav)
                    elif kind == 3:
                        run(["sox", "-D", wav, "-r", "8000", stem + ".flac"])
                        os.remove(wav)
                    count += 1
    print(f"make_digits.py: {count} files in {args.out} "
          f"({len(voices['train'])} training voices, "
          f"{len(voices['test'])} test voices)")


if __name__ == "__main__":
    main()
