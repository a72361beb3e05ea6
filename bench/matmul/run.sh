#!/bin/sh
# GFLOP/s of nnc's generated matmuls on one core.
#   bench/matmul/run.sh [BUILD_DIR] [extra nnc-translate args]
# e.g. bench/matmul/run.sh /tmp/build --codegen-options="matmul-tile-sizes=8,32,16"
# With --codegen-options="parallel-chunks=8" the kernels run on every core
# (nnrt_parallel_for on oneTBB).
set -e
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
"$build/bin/nnc-translate" "$here/kernels.mlir" --codegen --emit=obj -o "$tmp/kernels.o" "$@"
end=$(date +%s.%N)
echo "compile (pipeline + LLVM -O3 + object): $(echo "$end - $start" | bc) s"
case "$*" in
*parallel-chunks=[2-9]* | *parallel-chunks=[1-9][0-9]*)
  cc -O2 "$here/bench.c" "$tmp/kernels.o" "$build/lib/libnnrt.a" -ltbb \
    -lstdc++ -o "$tmp/bench"
  "$tmp/bench" ;;
*)
  cc -O2 "$here/bench.c" "$tmp/kernels.o" -o "$tmp/bench"
  taskset -c 0 "$tmp/bench" 2>/dev/null || "$tmp/bench" ;;
esac
