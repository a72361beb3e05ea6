#!/usr/bin/env bash
# The checks of `nnc --target cuda` that need an NVIDIA GPU (issue 15), in
# two halves:
#
#   scripts/gpu-check.sh prepare   here, after scripts/build.sh: builds the
#       Fashion-MNIST MLP (also with precision = bf16) and SPEC 2.3's CNN
#       for the GPU and for the CPU
#       into gpu-check/ (git-ignored) with everything they need to run on a
#       machine without Debian's packages: their shared libraries and the
#       dynamic loader (lib/), the data (data/), the comparison script.
#   scripts/gpu-check.sh run       on the GPU machine (the device tool:
#       carry gpu-check), about 5 minutes: the device line of `info`, one
#       training step from the same state on the GPU and on the CPU
#       (parameters, optimizer state and loss compared), then each model
#       trained on both (test accuracy, samples/s). The report goes to
#       $OUT/gpu-check.md (or gpu-check/gpu-check.md) and the console;
#       exit 1 if a check fails. Keep it in bench/results/.
#
# NNRT_LIBCUDA runs the GPU half against another driver (the test suite's
# stand-in: the flow only, its kernels do nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=gpu-check

prepare() {
  local nnc=build/bin/nnc
  [ -x "$nnc" ] || { echo "gpu-check: build nnc first (scripts/build.sh)" >&2; exit 2; }
  rm -rf "$DIR" && mkdir -p "$DIR/lib" "$DIR/data"
  # The MLP once more with precision = bf16 (bf16 tensor-core GEMMs).
  sed 's/^  epochs = /  precision = bf16\n  epochs = /' examples/fashion_mlp.nn \
    > "$DIR/fashion_mlp_bf16.nn"
  for m in fashion_mlp fashion_cnn fashion_mlp_bf16; do
    local src="examples/$m.nn"
    [ -f "$src" ] || src="$DIR/$m.nn"
    "$nnc" "$src" --target cuda -o "$DIR/${m}_cuda"
    "$nnc" "$src" -o "$DIR/${m}_cpu"
  done
  # Every shared library the programs load, and the loader itself, so that
  # they run on another distribution: lib/ld-linux-x86-64.so.2 --library-path
  # lib PROGRAM.
  for p in "$DIR"/*_cuda "$DIR"/*_cpu; do
    ldd "$p" | awk '/=>/ {print $3} /ld-linux/ {print $1}'
  done | sort -u | while read -r lib; do
    [ -f "$lib" ] && cp -L "$lib" "$DIR/lib/"
  done
  # The working tree and what it carries travel together, 64 MiB at most.
  strip --strip-unneeded "$DIR"/*_cuda "$DIR"/*_cpu "$DIR"/lib/*
  cp /usr/share/datasets/fashion-mnist/*.gz "$DIR/data/"
  cp scripts/gpu_check_compare.py "$DIR/"
  du -sh "$DIR"
}

run() {
  [ -d "$DIR" ] || { echo "gpu-check: run 'scripts/gpu-check.sh prepare' first" >&2; exit 2; }
  cd "$DIR"
  local out="${OUT:-.}/gpu-check.md" loader lib=lib
  loader=$(ls lib/ld-linux-x86-64.so.2)
  local data="train=data/train-images-idx3-ubyte.gz,data/train-labels-idx1-ubyte.gz"
  data+=" test=data/t10k-images-idx3-ubyte.gz,data/t10k-labels-idx1-ubyte.gz"
  local failed=0
  prog() { "$loader" --library-path "$lib" "$@"; }
  datas() { for d in $data; do printf -- '--data %s ' "$d"; done; }
  {
    echo "# scripts/gpu-check.sh run, $(date -u +%F)"
    echo
    command -v nvidia-smi >/dev/null &&
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader |
      sed 's/^/GPU (nvidia-smi): /'
    echo "host: $(nproc) cores"
    echo
    for m in fashion_mlp fashion_cnn fashion_mlp_bf16; do
      echo "## $m"
      echo
      prog "./${m}_cuda" info | sed -n 2p
      # One step from the same state (a CPU step's checkpoint: parameters
      # and Adam moments) on each, compared.
      rm -rf "ck_$m"*
      prog "./${m}_cpu" train --quiet --steps 1 --seed 3 $(datas) \
        --checkpoint-dir "ck_${m}_0" >/dev/null
      prog "./${m}_cpu" train --quiet --steps 2 $(datas) \
        --resume "ck_${m}_0/last.safetensors" --checkpoint-dir "ck_${m}_cpu" >/dev/null
      prog "./${m}_cuda" train --quiet --steps 2 $(datas) \
        --resume "ck_${m}_0/last.safetensors" --checkpoint-dir "ck_${m}_gpu" >/dev/null
      python3 gpu_check_compare.py "ck_${m}_0/last.safetensors" \
        "ck_${m}_cpu/last.safetensors" "ck_${m}_gpu/last.safetensors" || failed=1
      # Training: the same epochs on each; accuracy and speed.
      local epochs=3
      [ "$m" = fashion_cnn ] && epochs=1
      local acc_cpu="" acc_cuda=""
      for t in cpu cuda; do
        echo
        echo "train $epochs epoch(s) on $t:"
        local start=$SECONDS
        prog "./${m}_$t" train --epochs "$epochs" --seed 1 $(datas) \
          --checkpoint-dir "ck_${m}_train_$t" --log "log_${m}_$t.jsonl" 2>&1 |
          grep -E '^epoch' || failed=1
        echo "wall: $((SECONDS - start)) s"
        grep -o '"device_memory_mib":[0-9.]*' "log_${m}_$t.jsonl" | tail -1 |
          sed 's/.*:/device memory (MiB, peak): /' || true
        local acc
        acc=$(prog "./${m}_$t" eval --weights "ck_${m}_train_$t/last.safetensors" \
          $(datas) | awk '$1 == "accuracy" {print $2; exit}')
        echo "test accuracy: ${acc:-none}"
        eval "acc_$t=\${acc:-0}"
      done
      # The same training on the GPU: within 2 points of the CPU's.
      if awk -v a="$acc_cpu" -v b="$acc_cuda" 'BEGIN {d = a - b; exit !(d < 0.02 && d > -0.02)}'; then
        echo "ok accuracy: cuda $acc_cuda, cpu $acc_cpu"
      else
        echo "FAIL accuracy: cuda $acc_cuda, cpu $acc_cpu"
        failed=1
      fi
      echo
    done
    [ "$failed" = 0 ] && echo "all checks passed" || echo "SOME CHECKS FAILED"
  } 2>&1 | tee "$out"
  grep -q "all checks passed" "$out"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh prepare|run" >&2; exit 2 ;;
esac
