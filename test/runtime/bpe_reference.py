#!/usr/bin/env python3
"""Reference bpe tokenization for nnrt's TextTest: Python's sentencepiece,
trained with the options docs/language.md states for bpe(vocab = N).

Usage: bpe_reference.py INPUT.json OUTPUT.json
INPUT:  {"train": [text, ...], "texts": [text, ...], "vocab": N, "length": T}
OUTPUT: {"pieces": [piece of id 0, 1, ...], "ids": [[id, ...] per text]}
"""
import io
import json
import sys

import sentencepiece as spm

with open(sys.argv[1], encoding="utf-8") as f:
    case = json.load(f)
model = io.BytesIO()
longest = max(len(t.encode("utf-8")) for t in case["train"])
spm.SentencePieceTrainer.train(
    sentence_iterator=iter(case["train"]), model_writer=model,
    model_type="bpe", vocab_size=case["vocab"], pad_id=0, unk_id=1,
    bos_id=-1, eos_id=-1, max_sentence_length=max(longest, 4192),
    input_sentence_size=0, num_threads=1, minloglevel=2)
sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
T = case["length"]
ids = []
for text in case["texts"]:
    row = sp.encode(text)[:T]
    ids.append(row + [0] * (T - len(row)))
out = {"pieces": [sp.id_to_piece(i) for i in range(sp.get_piece_size())],
       "ids": ids}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
