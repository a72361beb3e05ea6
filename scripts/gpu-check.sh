#!/usr/bin/env bash
# The checks of `nnc --target cuda` that need an NVIDIA GPU (issue 15), in
# two halves:
#
#   scripts/gpu-check.sh prepare   here, after scripts/build.sh: builds
#       Fashion-MNIST's MLP (also with precision = bf16), SPEC 2.3's CNN,
#       resnet_mini and the fortunes GPT for the GPU into gpu-check/
#       (git-ignored) with everything they need to run on a machine without
#       Debian's packages (their shared libraries and the dynamic loader in
#       lib/, the data in data/), and the CPU references the GPU is held to
#       (ref/: gpu_check.py reference, made by the same models' CPU builds).
#   scripts/gpu-check.sh run       on the GPU machine (the device tool:
#       carry gpu-check, timeout_s ~480), at most $GPU_CHECK_SECONDS (420):
#       gpu_check.py run. The report goes to $OUT/gpu-check.md (keep it in
#       bench/results/), the logs and kernel profiles to $OUT/logs.tar.gz;
#       exit 1 if a check fails. GPU_CHECK_MODELS=a,b runs those, in order.
#
# NNRT_LIBCUDA runs the GPU half against another driver (the test suite's
# stand-in: the flow only, its kernels do nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=gpu-check
MODELS="fashion_mlp fashion_mlp_bf16 fashion_cnn resnet_mini gpt_fortunes"

prepare() {
  local nnc=build/bin/nnc
  [ -x "$nnc" ] || { echo "gpu-check: build nnc first (scripts/build.sh)" >&2; exit 2; }
  rm -rf "$DIR" && mkdir -p "$DIR/lib" "$DIR/data" "$DIR/cpu"
  # The MLP once more with precision = bf16 (bf16 tensor-core GEMMs).
  sed 's/^  epochs = /  precision = bf16\n  epochs = /' examples/fashion_mlp.nn \
    > "$DIR/fashion_mlp_bf16.nn"
  for m in $MODELS; do
    local src="examples/$m.nn"
    [ -f "$src" ] || src="$DIR/$m.nn"
    "$nnc" "$src" -I examples --target cuda -o "$DIR/${m}_cuda"
    "$nnc" "$src" -I examples -o "$DIR/cpu/$m"
  done
  # Fashion-MNIST's first 20,000 training images (the whole set would not
  # fit in what travels) and its whole test set; Debian's fortunes.
  local fm=/usr/share/datasets/fashion-mnist
  python3 examples/data/idx_filter.py "$fm/train-images-idx3-ubyte.gz" \
    "$fm/train-labels-idx1-ubyte.gz" "$DIR/data/train-images-idx3-ubyte.gz" \
    "$DIR/data/train-labels-idx1-ubyte.gz" 20000
  cp "$fm"/t10k-*.gz "$DIR/data/"
  cp -r /usr/share/games/fortunes "$DIR/data/fortunes"
  # The CPU references, then the CPU builds go: only the GPU's travel. The
  # GPT's one-step states (20 MiB) would not fit either: it is held to the
  # CPU's validation loss after the same training.
  python3 scripts/gpu_check.py reference "$DIR"
  rm -rf "$DIR/cpu" "$DIR"/ref/gpt_*.safetensors
  # Every shared library the programs load, and the loader itself, so that
  # they run on another distribution: lib/ld-linux-x86-64.so.2 --library-path
  # lib PROGRAM.
  for p in "$DIR"/*_cuda; do
    ldd "$p" | awk '/=>/ {print $3} /ld-linux/ {print $1}'
  done | sort -u | while read -r lib; do
    [ -f "$lib" ] && cp -L "$lib" "$DIR/lib/"
  done
  # The working tree and what it carries travel together, 64 MiB at most:
  # the programs and libraries go compressed.
  strip --strip-unneeded "$DIR"/*_cuda "$DIR"/lib/*
  cp scripts/gpu_check.py "$DIR/"
  (cd "$DIR" && tar cJf programs.tar.xz ./*_cuda lib &&
    rm -rf ./*_cuda lib)
  du -sh "$DIR"
}

run() {
  [ -d "$DIR/ref" ] || { echo "gpu-check: run 'scripts/gpu-check.sh prepare' first" >&2; exit 2; }
  [ -f "$DIR/programs.tar.xz" ] && (cd "$DIR" && tar xJf programs.tar.xz)
  python3 "$DIR/gpu_check.py" run "$DIR"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
