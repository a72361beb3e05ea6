#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run, before an issue is
# resolved (too slow for scripts/test.sh). Builds nnc, nnrt and nnrt-tests
# with -fsanitize=address,undefined into build-asan/ (Ninja, RelWithDebInfo),
# then runs through them:
#   1. nnrt-tests (the runtime's unit tests);
#   2. the frontend lit tests (diagnostics of every kind) but the fuzzers;
#   3. the `nnc --check` fuzz corpus (test/Frontend/fuzz.py);
#   4. the code generation fuzz (test/Frontend/fuzz_codegen.py): nnc -o, and
#      the programs it links run info / train / eval / predict.
# Programs compiled by the sanitized nnc link the sanitized nnrt and the
# sanitizer runtimes (tools/nnc/CMakeLists.txt passes this build's
# -fsanitize= flags to their link), so the runtime is checked in them too;
# the generated model code itself is not instrumented.
# The first sanitizer report stops the process (halt_on_error, exit 86) and is
# written to a file (UBSan's to stderr); a stage fails on a non-zero exit or
# any report. A UBSan report in a lit test that expects nnc to fail (`not`)
# shows only as a FileCheck mismatch.
# LLVM's libLLVM/libMLIR are not instrumented; leaks are checked all the same
# (none from LLVM's static state showed up, so nothing is suppressed: a
# suppression matching those libraries would hide leaks of our passes too).
#
#   scripts/sanitize.sh [--quick]    --quick: smaller fuzz counts
#   BUILD_DIR (build-asan), JOBS (2) override the build folder and ninja -j.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/install-deps.sh || exit 1
BUILD_DIR="${BUILD_DIR:-build-asan}"
JOBS="${JOBS:-2}"
CHECK_COUNT=300
GEN_COUNT=40
SPEC_COUNT=8
if [ "${1:-}" = "--quick" ]; then
  CHECK_COUNT=60 GEN_COUNT=8 SPEC_COUNT=2
fi

start=$(date +%s)
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$SAN" -DCMAKE_C_FLAGS="$SAN" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" || exit 1
fi
ninja -C "$BUILD_DIR" -j "$JOBS" nnc nnrt-tests || exit 1
built=$(date +%s)

# Reports go to files ($LOGS/NAME-report.PID), so that none is lost in a
# test that expects nnc to fail (`not nnc ...`) or in output a script drops.
ASAN_BASE="halt_on_error=1:exitcode=86:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1"
UBSAN_BASE="halt_on_error=1:exitcode=86:print_stacktrace=1"
if [ -x /usr/lib/llvm-19/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-19/bin/llvm-symbolizer
fi
LOGS="$ROOT/$BUILD_DIR/sanitize-logs"
rm -rf "$LOGS" && mkdir -p "$LOGS"
LIT="python3 /usr/lib/llvm-19/build/utils/lit/lit.py"
failed=()
summary=()

# The files of stage NAME that hold a report: its report files (LeakSanitizer
# also writes lone warnings there, "Running thread N was not suspended"), and
# its log when UBSan printed there (GCC's libubsan beside libasan ignores
# log_path: its reports go to stderr, marked by exit status 86).
reports_of() {
  grep -lE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOGS/$1-report."* \
    "$LOGS/$1.log" 2>/dev/null
}

# stage NAME PATTERN CMD...: runs CMD with its output in $LOGS/NAME.log; a
# non-zero exit or a sanitizer report in the output fails the stage. The last
# log line matching PATTERN is the stage's line in the summary.
stage() {
  local name=$1 pattern=$2 t0 rc reports
  shift 2
  t0=$(date +%s)
  ASAN_OPTIONS="$ASAN_BASE:log_path=$LOGS/$name-report" \
    UBSAN_OPTIONS="$UBSAN_BASE:log_path=$LOGS/$name-report" \
    "$@" >"$LOGS/$name.log" 2>&1
  rc=$?
  reports=$(reports_of "$name" | wc -l)
  summary+=("$(printf '%-13s exit %-3s reports %-3s %5ss  %s' "$name" "$rc" "$reports" \
    "$(($(date +%s) - t0))" "$(grep -E "$pattern" "$LOGS/$name.log" | tail -n 1)")")
  if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ]; then
    failed+=("$name")
  fi
}

BIN="$ROOT/$BUILD_DIR/bin"
WORK="$ROOT/$BUILD_DIR/sanitize-work"
rm -rf "$WORK" && mkdir -p "$WORK"

stage nnrt-tests 'PASSED|FAILED' "$BIN/nnrt-tests" --gtest_brief=1
stage frontend-lit '^ *(Passed|Failed)' \
  $LIT -s --filter-out 'fuzz' "$ROOT/$BUILD_DIR/test/Frontend"
stage fuzz-check '^fuzz:' \
  python3 test/Frontend/fuzz.py "$BIN/nnc" test/Frontend/Inputs/spec "$WORK/check" \
  --count "$CHECK_COUNT" --seed 20240601 --timeout 60
stage fuzz-codegen '^fuzz-codegen: .*(failures|trained)' \
  python3 test/Frontend/fuzz_codegen.py "$BIN/nnc" test/Frontend/Inputs/spec "$WORK/codegen" \
  --count "$GEN_COUNT" --spec-count "$SPEC_COUNT" --seed 20240701 --timeout 300 --mem-mb 0 \
  --verbose

end=$(date +%s)
echo
echo "sanitize: ASan+UBSan build in $BUILD_DIR (build step $((built - start))s), checks $((end - built))s; logs in $LOGS"
for line in "${summary[@]}"; do echo "  $line"; done
if [ ${#failed[@]} -eq 0 ]; then
  echo "sanitize: PASS (4 stages, no sanitizer reports)"
  exit 0
fi
echo "sanitize: FAIL: ${failed[*]}"
for name in "${failed[@]}"; do
  first=$(reports_of "$name" | sort | head -n 1)
  if [ -n "$first" ]; then
    echo "--- $first (the first file with a report)"
    grep -m1 -B2 -A38 -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$first"
  else
    echo "--- $LOGS/$name.log (last lines)"
    tail -n 25 "$LOGS/$name.log"
  fi
done
exit 1
