#!/usr/bin/env bash
# Installs the Debian 12 packages nnc needs, when any is missing. Idempotent:
# a machine that has them all is left alone (no apt-get update, no network).
set -euo pipefail

PACKAGES=(
  # build; nnc links programs with lld (GNU ld when it is missing: slower)
  cmake ninja-build g++ pkg-config lld
  # compiler: LLVM/MLIR 19 (libMLIR.so, tablegen, FileCheck, lit), ANTLR4;
  # lld's libraries, with which nnc links programs in process
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools liblld-19-dev
  antlr4 libantlr4-runtime-dev uuid-dev
  # nnc's allocator (glibc's malloc without it: a slower compile)
  libjemalloc-dev
  # runtime and tools
  libtbb-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev libgtest-dev
  libstb-dev libutf8proc-dev libsentencepiece-dev
  # audio(): decoding, resampling, FFTs of mfcc/log_mel
  libsndfile1-dev libsamplerate0-dev libfftw3-dev
  # tests: PyTorch reference, real data sets
  python3 python3-torch python3-numpy python3-sklearn dataset-fashion-mnist
  python3-sentencepiece
  # audio tests: torchaudio's MFCC/MelSpectrogram as the reference; spoken
  # digits of examples/data/make_digits.py (espeak-ng, converted by sox)
  python3-torchaudio espeak-ng sox
  # word lists of examples/data/make_words.py (examples/word_language.nn)
  wamerican wbritish wngerman wfrench witalian wspanish wportuguese wdutch
  # the fortunes of examples/data/make_fortunes.py (examples/fortune_topics.nn)
  fortunes
  # test/E2E/report.test renders the HTML training report in headless Chromium
  chromium
  # test/E2E/mpi.test: data-parallel training under mpirun (the programs
  # load libmpi at run time; nothing links it)
  openmpi-bin libopenmpi3
  libopenblas0-pthread
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
