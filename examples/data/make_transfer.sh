#!/usr/bin/env bash
# The data of examples/transfer.nn, cut from Debian's Fashion-MNIST into
# examples/data/transfer/: the training images of classes 0-4 (t-shirt,
# trouser, pullover, dress, coat) among the first 30,000 (about 15,000) to
# pretrain on, a small labelled set of all
# ten classes to fine-tune on (N images, default 500, taken from the second
# half of the training file, which pretraining never sees), and the 10,000
# test images.
#   examples/data/make_transfer.sh [N]
set -euo pipefail
cd "$(dirname "$0")"
N="${1:-500}"
F=/usr/share/datasets/fashion-mnist
mkdir -p transfer
python3 idx_filter.py "$F/train-images-idx3-ubyte.gz" "$F/train-labels-idx1-ubyte.gz" \
  transfer/five-images.gz transfer/five-labels.gz 30000 --classes 0,1,2,3,4 --end 30000
python3 idx_filter.py "$F/train-images-idx3-ubyte.gz" "$F/train-labels-idx1-ubyte.gz" \
  transfer/small-images.gz transfer/small-labels.gz "$N" --offset 30000
cp "$F/t10k-images-idx3-ubyte.gz" transfer/test-images.gz
cp "$F/t10k-labels-idx1-ubyte.gz" transfer/test-labels.gz
echo "examples/data/transfer: pretraining set (classes 0-4), $N images to fine-tune on, test set"
