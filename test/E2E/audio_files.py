#!/usr/bin/env python3
"""Sound files for the audio end-to-end tests (Python's wave module only);
the folders of PATH are made.

  audio_files.py tone PATH HZ SECONDS RATE     16-bit mono sine, amplitude 0.5
  audio_files.py empty PATH                    a valid WAV with 0 samples
  audio_files.py half-float PATH               16-bit IEEE float samples
                                               (WAVE_FORMAT_IEEE_FLOAT with 16
                                               bits), which libsndfile refuses
  audio_files.py check-predictions CSV N MIN   predict's CSV has N rows and at
                                               least MIN of them name the
                                               class folder of their path
"""
import csv
import math
import os
import struct
import sys
import wave


def pcm_wav(path, samples, rate):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))


cmd, path = sys.argv[1], sys.argv[2]
if cmd == "check-predictions":
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    n, least = int(sys.argv[3]), float(sys.argv[4])
    if len(rows) != n:
        sys.exit(f"FAIL: {len(rows)} predictions, expected {n}")
    right = sum(os.path.basename(os.path.dirname(r["path"])) == r["class"]
                for r in rows)
    if right < least * n:
        sys.exit(f"FAIL: {right} of {n} right, expected at least {least}")
    sys.exit(0)
os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
if cmd == "tone":
    hz, seconds, rate = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    pcm_wav(path, [int(16384 * math.sin(2 * math.pi * hz * i / rate))
                   for i in range(int(seconds * rate))], rate)
elif cmd == "empty":
    pcm_wav(path, [], 16000)
elif cmd == "half-float":
    data = b"\0" * 38
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 32000, 2, 16)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" +
            struct.pack("<I", len(data)) + data)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
else:
    sys.exit("audio_files.py: unknown command " + cmd)
