#!/usr/bin/env bash
# Runs the whole test suite through ctest: installs missing Debian packages,
# builds if needed, then every lit file and unit test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR="${BUILD_DIR:-build}"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
