#!/usr/bin/env python3
"""Reference metrics for nnrt's MetricsTest, computed with scikit-learn.

Usage: metrics_reference.py INPUT.json OUTPUT.json
INPUT holds {"classification": [{"true": [...], "pred": [...]}, ...],
             "regression": [{"true": [[...]...], "pred": [[...]...]}, ...]}.
"""
import json
import sys

from sklearn import metrics

with open(sys.argv[1]) as f:
    data = json.load(f)
out = {"classification": [], "regression": []}
for case in data["classification"]:
    t, p = case["true"], case["pred"]
    out["classification"].append({
        "accuracy": metrics.accuracy_score(t, p),
        "precision": metrics.precision_score(t, p, average="macro", zero_division=0),
        "recall": metrics.recall_score(t, p, average="macro", zero_division=0),
        "f1": metrics.f1_score(t, p, average="macro", zero_division=0),
        "confusion": metrics.confusion_matrix(t, p, labels=list(range(case["classes"]))).tolist(),
    })
for case in data["regression"]:
    t, p = case["true"], case["pred"]
    out["regression"].append({
        "mse": metrics.mean_squared_error(t, p),
        "mae": metrics.mean_absolute_error(t, p),
        "r2": metrics.r2_score(t, p),
    })
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
