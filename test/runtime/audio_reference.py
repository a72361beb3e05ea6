#!/usr/bin/env python3
"""Reference audio features for nnrt's AudioTest: torchaudio 0.13's
transforms.MFCC and AmplitudeToDB("power", top_db = 80) of
transforms.MelSpectrogram, with the settings docs/language.md states for
features { mfcc(...) | log_mel(...) }, transposed to [frames, features].

Usage: audio_reference.py INPUT.json OUTPUT.json
INPUT:  {"cases": [{"clip": [float, ...], "rate": R, "n_fft": N, "hop": H,
                    "mels": M, "coefficients": C (0: log_mel)}, ...],
         "wav": path of a 16-bit PCM WAV file or ""}
OUTPUT: {"features": [[[float] * width] * frames per case],
         "wav": the WAV's samples / 32768 (Python's wave module), or []}
"""
import json
import sys
import wave

import numpy as np
import torch
import torchaudio

with open(sys.argv[1]) as f:
    case_list = json.load(f)
out = {"features": [], "wav": []}
for case in case_list["cases"]:
    clip = torch.tensor(case["clip"], dtype=torch.float32).unsqueeze(0)
    melkwargs = {"n_fft": case["n_fft"], "win_length": case["n_fft"],
                 "hop_length": case["hop"], "n_mels": case["mels"],
                 "f_min": 0.0, "f_max": None, "center": True,
                 "pad_mode": "reflect", "power": 2.0, "norm": None,
                 "mel_scale": "htk", "window_fn": torch.hann_window}
    if case["coefficients"]:
        transform = torchaudio.transforms.MFCC(
            sample_rate=case["rate"], n_mfcc=case["coefficients"],
            dct_type=2, norm="ortho", log_mels=False, melkwargs=melkwargs)
        values = transform(clip)
    else:
        mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=case["rate"], **melkwargs)
        values = torchaudio.transforms.AmplitudeToDB("power", top_db=80)(
            mel(clip))
    out["features"].append(values[0].T.tolist())
if case_list.get("wav"):
    with wave.open(case_list["wav"]) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    out["wav"] = (pcm.astype(np.float64) / 32768.0).tolist()
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
