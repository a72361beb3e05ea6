#!/usr/bin/env bash
# The demo: installs what nnc needs, builds it, then shows the compiler at work
# on the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
NNC=build/bin/nnc

echo
echo "== nnc --version"
$NNC --version

echo
echo "== nnc --check on every example"
for f in examples/*.nn; do
  $NNC "$f" --check && echo "ok    $f"
done

echo
echo "== the MLP of examples/fashion_mlp.nn, analysed (nnc --emit graph)"
$NNC examples/fashion_mlp.nn --emit graph

echo
echo "== its syntax tree (nnc --emit ast), first lines"
$NNC examples/fashion_mlp.nn --emit ast | head -n 25

echo
echo "== a mistake, and how nnc reports it"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/typo.nn" <<'NN'
model mlp(image: f32[1, 28, 28]) -> f32[10] {
  dens(128)
  relu
  dense(10)
}
NN
$NNC "$tmp/typo.nn" --check || true
