#!/usr/bin/env python3
"""Writes breast_cancer.csv from sklearn's bundled copy (python3-sklearn).

sklearn's file starts with a "569,30,malignant,benign" line instead of column
names; this writes an ordinary CSV with a header: 30 feature columns named as
sklearn names them (spaces as underscores) and the class in column "label"
(0 = malignant, 1 = benign).
"""
import csv
import sys

from sklearn.datasets import load_breast_cancer

out = sys.argv[1] if len(sys.argv) > 1 else "breast_cancer.csv"
data = load_breast_cancer()
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow([n.replace(" ", "_") for n in data.feature_names] + ["label"])
    for row, label in zip(data.data, data.target):
        w.writerow([repr(float(v)) for v in row] + [int(label)])
