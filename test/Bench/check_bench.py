#!/usr/bin/env python3
"""Checks bench/bench.py's JSON: every row and sweep point has its fields,
every measurement positive (no timing thresholds).

  check_bench.py latest.json
"""
import json
import sys

MAIN = {"nnc": ["compile_s", "train_samples_per_s", "eval_samples_per_s",
                "train_gflops", "train_fraction_of_gemm_ceiling",
                "train_fraction_of_fma_peak", "eval_gflops", "peak_rss_mib"],
        "pytorch": ["train_samples_per_s", "eval_samples_per_s", "train_gflops",
                    "train_fraction_of_gemm_ceiling", "peak_rss_mib"],
        "ratio": ["train", "eval"]}
SWEEP = {"nnc": ["ms_per_step", "train_samples_per_s", "train_gflops"],
         "pytorch": ["ms_per_step", "train_samples_per_s", "train_gflops"],
         "ratio": ["train"]}


def check(where, row, fields):
    for side, names in fields.items():
        for name in names:
            value = row.get(side, {}).get(name)
            if not isinstance(value, (int, float)) or not value > 0:
                sys.exit(f"{where}: {side}.{name} is {value!r}, expected a positive number")


def main():
    result = json.load(open(sys.argv[1]))
    if not result["rows"] or not result["sweep"]:
        sys.exit("no rows or no sweep points")
    for i, row in enumerate(result["rows"]):
        check(f"rows[{i}]", row, MAIN)
        if not row["forward_flops_per_sample"] > 0:
            sys.exit(f"rows[{i}]: no forward FLOPs")
    for i, row in enumerate(result["sweep"]):
        check(f"sweep[{i}]", row, SWEEP)
        if not row["train_gflop_per_step"] > 0:
            sys.exit(f"sweep[{i}]: no FLOPs per step")
    print("ok")


if __name__ == "__main__":
    main()
