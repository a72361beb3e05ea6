#!/usr/bin/env bash
# Compile-scaling measurement (bench/results/compile-scaling.md): for each N,
# writes a deep model with gen_deep.py and compiles it under a timeout and an
# address-space limit, printing N, wall seconds, peak RSS and the top phases
# of --time-passes. On a shared machine compare cpu_s (user + system): wall
# time there mostly measures the other processes.
#   bench/compile/measure.sh NNC KIND "100 200 500 1000" [TIMEOUT_S] [VMEM_KB]
set -uo pipefail
nnc=$(realpath "$1"); kind=$2; sizes=$3; limit=${4:-300}; vmem=${5:-6000000}
here=$(dirname "$(realpath "$0")")
printf '%-9s %6s %8s %8s %9s  %s\n' kind N wall cpu_s rss_MB "phases (wall s)"
for n in $sizes; do
  dir=$(mktemp -d)
  python3 "$here/gen_deep.py" "$kind" "$n" "$dir"
  ( cd "$dir" && ulimit -v "$vmem" && /usr/bin/time -v timeout "$limit" \
      "$nnc" m.nn -o m --no-cache --time-passes >out.txt 2>err.txt; echo $? >rc )
  rc=$(cat "$dir/rc")
  wall=$(grep 'Elapsed (wall' "$dir/err.txt" | awk '{print $NF}')
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$dir/err.txt")
  rss=$(grep 'Maximum resident' "$dir/err.txt" | awk '{printf "%d", $NF/1024}')
  phases=$(python3 - "$dir/err.txt" <<'PY'
import re, sys
out = []
for line in open(sys.argv[1]):
    m = re.match(r"^ +[0-9.]+ \( *[0-9.]+%\) +([0-9.]+) \( *[0-9.]+%\)  (\S.*)$", line)
    if m:
        out.append(f"{m.group(2)}={float(m.group(1)):.1f}")
print("; ".join(out))
PY
)
  printf '%-9s %6s %8s %8s %9s  rc=%s %s\n' "$kind" "$n" "$wall" "$cpu" "$rss" "$rc" "$phases"
  [ -n "${KEEP:-}" ] && echo "  kept $dir" || rm -rf "$dir"
done
