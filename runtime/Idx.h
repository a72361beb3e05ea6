//===- Idx.h - IDX (MNIST-format) image and label files -*- C++ -*---------===//
#ifndef NNRT_IDX_H
#define NNRT_IDX_H

#include "runtime/Dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnrt {

/// The decoded content of one IDX file of unsigned bytes.
struct IdxArray {
  std::vector<uint32_t> dims; ///< dims[0] is the item count
  std::vector<uint8_t> data;  ///< product(dims) bytes
};

/// Reads a whole file, gunzipping it when it starts with the gzip magic
/// 1f 8b. Throws nnrt::Error on I/O errors and truncated/corrupt streams.
/// At most `limit` bytes are read; more is an error.
std::vector<uint8_t> readMaybeGzip(const std::string &path,
                                   size_t limit = size_t(1) << 34);

/// Reads an IDX file of unsigned bytes with `expectedRank` dimensions
/// (magic 0x0000080<rank>) and checks that its size matches its header.
IdxArray readIdx(const std::string &path, unsigned expectedRank);

struct IdxOptions {
  /// Number of classes; 0 infers max(label) + 1. Labels >= numClasses are an
  /// error naming the file and the sample.
  int32_t numClasses = 0;
};

/// Loads an idx3 image file (N x H x W, u8) and an idx1 label file (N, u8)
/// into a dataset with per-sample shape [1, H, W], u8 storage and class
/// targets. Counts must agree.
Dataset loadIdxDataset(const std::string &imagesPath,
                       const std::string &labelsPath,
                       const IdxOptions &options = {});

} // namespace nnrt

#endif // NNRT_IDX_H
