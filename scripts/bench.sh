#!/usr/bin/env bash
# nnc against PyTorch on this machine (bench/bench.py): builds nnc if needed,
# prints the Markdown table and writes bench/results/latest.{json,md}.
#   scripts/bench.sh [--runs N] [--threads 2,1] [--models mlp,cnn] [--steps N]
#                    [--no-pytorch] [--wait-idle S] [--sweep] [--out DIR]
# Measure on an idle machine: the table's note quotes the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR="${BUILD_DIR:-build}"
BUILD_DIR="$BUILD_DIR" scripts/build.sh >&2
exec /usr/bin/python3 bench/bench.py --nnc "$BUILD_DIR/bin/nnc" "$@"
