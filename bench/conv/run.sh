#!/bin/sh
# Speed of nnc's generated convolutions and pools on one core.
#   bench/conv/run.sh [BUILD_DIR]
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bin/nnc-opt" "$here/kernels.mlir" -convert-nn-to-linalg -o "$tmp/kernels.mlir"
"$build/bin/nnc-translate" "$tmp/kernels.mlir" --codegen --emit=obj -o "$tmp/kernels.o"
cc -O2 "$here/bench.c" "$tmp/kernels.o" -o "$tmp/bench"
taskset -c 0 "$tmp/bench" 2>/dev/null || "$tmp/bench"
