#!/usr/bin/env bash
# The demo: installs what nnc needs, builds it, compiles the Fashion-MNIST MLP
# of examples/ into a native program, trains it (progress bar on a terminal)
# and evaluates it on the test set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
NNC=build/bin/nnc
OUT=build/demo
mkdir -p "$OUT"

echo
echo "== $($NNC --version)"

echo
echo "== nnc --check on every example"
for f in examples/*.nn; do
  $NNC "$f" --check && echo "ok    $f"
done

echo
echo "== a mistake, and how nnc reports it"
cat > "$OUT/typo.nn" <<'NN'
model mlp(image: f32[1, 28, 28]) -> f32[10] {
  dens(128)
  relu
  dense(10)
}
NN
$NNC "$OUT/typo.nn" --check || true

echo
echo "== SPEC 2.1: linear regression (y = 2.5 x - 1)"
$NNC examples/linear_regression.nn -o "$OUT/line"
(cd "$OUT" && ./line train --quiet --checkpoint-dir line-ckpt && ./line info --weights line-ckpt/last.safetensors | tail -n 6)

echo
echo "== SPEC 2.2: compile the Fashion-MNIST MLP"
time $NNC examples/fashion_mlp.nn -o "$OUT/mlp"
(cd "$OUT" && ./mlp info | head -n 8)

echo
echo "== train it (5 epochs, Adam 1e-3, batch 64)"
(cd "$OUT" && ./mlp train --checkpoint-dir mlp-ckpt --log mlp-train.jsonl)

echo
echo "== evaluate on the 10,000 test images"
(cd "$OUT" && ./mlp eval --weights mlp-ckpt/last.safetensors)
