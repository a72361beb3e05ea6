//===- Idx.cpp - IDX (MNIST-format) image and label files -----------------===//
#include "runtime/Idx.h"

#include "runtime/Error.h"
#include "runtime/HugePages.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>

namespace nnrt {

namespace {
struct FileCloser {
  void operator()(std::FILE *file) const { std::fclose(file); }
};
struct GzCloser {
  void operator()(gzFile_s *file) const { gzclose(file); }
};
} // namespace

/// zlib's message without the "<path>: " it puts in front.
static std::string gzipMessage(const std::string &path, const char *message) {
  std::string text = message ? message : "unknown error";
  if (text.compare(0, path.size() + 2, path + ": ") == 0)
    text.erase(0, path.size() + 2);
  return text;
}

namespace {
/// A plain or gzip-compressed file read front to back in pieces, so that a
/// reader can stop as soon as it has what it needs: a small gzip file may
/// inflate to gigabytes.
class ByteStream {
public:
  explicit ByteStream(const std::string &path)
      : path(path), name(baseName(path)) {
    unsigned char magic[2] = {0, 0};
    size_t magicBytes = 0;
    plain.reset(std::fopen(path.c_str(), "rb"));
    if (!plain)
      throw Error(name + ": cannot open file: " + systemError(errno) + " (" +
                  path + ")");
    // fopen succeeds on a folder (`--data train=DIR`); reading it fails.
    struct stat info;
    if (::fstat(::fileno(plain.get()), &info) == 0 && S_ISDIR(info.st_mode))
      throw Error(path + ": is a folder; expected a file");
    magicBytes = std::fread(magic, 1, 2, plain.get());
    if (magicBytes == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      plain.reset();
      gz.reset(gzopen(path.c_str(), "rb"));
      if (!gz)
        throw Error(name + ": cannot open file: " + systemError(errno));
      gzbuffer(gz.get(), 1 << 17);
    } else {
      std::rewind(plain.get());
    }
  }

  bool compressed() const { return gz != nullptr; }

  /// Up to `n` bytes into `out`; fewer only at the end of the data.
  size_t read(uint8_t *out, size_t n) {
    size_t done = 0;
    while (done < n) {
      size_t want = std::min<size_t>(n - done, 1 << 30);
      size_t got = gz ? readGzip(out + done, want)
                      : std::fread(out + done, 1, want, plain.get());
      if (got == 0)
        break;
      done += got;
    }
    if (done < n)
      checkEnd();
    return done;
  }

private:
  size_t readGzip(uint8_t *out, size_t n) {
    int got = gzread(gz.get(), out, unsigned(n));
    if (got < 0) {
      int code = 0;
      const char *message = gzerror(gz.get(), &code);
      throw Error(name + ": corrupt gzip data: " + gzipMessage(path, message));
    }
    return size_t(got);
  }

  void checkEnd() {
    if (plain) {
      if (std::ferror(plain.get()))
        throw Error(name + ": read error: " + systemError(errno) + " (" +
                    path + ")");
      return;
    }
    // A stream cut short ends without error from gzread but leaves
    // Z_BUF_ERROR ("unexpected end of file") behind.
    int code = Z_OK;
    const char *message = gzerror(gz.get(), &code);
    if (code != Z_OK && code != Z_STREAM_END)
      throw Error(name + ": truncated or corrupt gzip data: " +
                  gzipMessage(path, message));
  }

  std::string path, name;
  std::unique_ptr<std::FILE, FileCloser> plain;
  std::unique_ptr<gzFile_s, GzCloser> gz;
};

/// Appends up to `n` bytes of `in` to `data` in 1 MiB pieces (memory grows
/// with what the file holds, not with what a header claims); returns the
/// count appended.
size_t appendFrom(ByteStream &in, std::vector<uint8_t> &data, uint64_t n) {
  size_t start = data.size();
  while (data.size() - start < n) {
    size_t piece =
        size_t(std::min<uint64_t>(n - (data.size() - start), 1 << 20));
    size_t old = data.size();
    data.resize(old + piece);
    size_t got = in.read(data.data() + old, piece);
    data.resize(old + got);
    if (got < piece)
      break;
  }
  return data.size() - start;
}
} // namespace

std::vector<uint8_t> readMaybeGzip(const std::string &path, size_t limit) {
  ByteStream in(path);
  std::vector<uint8_t> data;
  // One byte past the limit tells a file at the limit from a larger one.
  appendFrom(in, data, uint64_t(limit) + 1);
  if (data.size() > limit)
    throw Error(baseName(path) +
                (in.compressed() ? ": decompressed data is larger than "
                                 : ": file is larger than ") +
                std::to_string(limit) + " bytes");
  return data;
}

static uint32_t readBigEndian32(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) |
         (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

IdxArray readIdx(const std::string &path, unsigned expectedRank) {
  std::string name = baseName(path);
  const char *what = expectedRank == 3   ? "an IDX image file"
                     : expectedRank == 1 ? "an IDX label file"
                                         : "an IDX file";
  uint32_t expectedMagic = 0x00000800u | expectedRank;
  ByteStream in(path);
  std::vector<uint8_t> bytes;
  size_t headerBytes = 4 + 4 * size_t(expectedRank);
  appendFrom(in, bytes, headerBytes);
  if (bytes.empty())
    throw Error(name + ": file is empty; expected " + what +
                fmt::format(" (magic 0x{:08x})", expectedMagic));
  if (bytes.size() < 4)
    throw Error(name + ": file is too short (" + std::to_string(bytes.size()) +
                " bytes) for " + what);
  uint32_t magic = readBigEndian32(bytes.data());
  if (magic != expectedMagic)
    throw Error(name +
                fmt::format(": expected {} (magic 0x{:08x}), got 0x{:08x}",
                            what, expectedMagic, magic));
  if (bytes.size() < headerBytes)
    throw Error(name +
                ": header is truncated: " + std::to_string(bytes.size()) +
                " bytes, expected at least " + std::to_string(headerBytes));
  IdxArray array;
  uint64_t expected = 1;
  for (unsigned d = 0; d < expectedRank; ++d) {
    uint32_t dim = readBigEndian32(bytes.data() + 4 + 4 * d);
    array.dims.push_back(dim);
    // Bounded by the bytes actually present, so no overflow and no giant
    // allocation from a lying header.
    if (dim != 0 && expected > (uint64_t(1) << 40) / dim)
      expected = uint64_t(1) << 41;
    else
      expected *= dim;
  }
  // Read no more than the declared size plus one byte: enough to tell
  // trailing data, and a gzip bomb behind a small header is never inflated.
  // Room for all of it up front (up to 256 MiB, so that a lying header
  // reserves no more), read in place: no reallocation or copy of a large
  // file (Fashion-MNIST's 47 MB), on huge pages (see HugePages.h).
  reserveHugePages(array.data,
                   size_t(std::min<uint64_t>(expected + 1, 1u << 28)));
  uint64_t actual = appendFrom(in, array.data, expected + 1);
  if (expected != actual) {
    std::string dims;
    for (uint32_t dim : array.dims)
      dims += (dims.empty() ? "" : " x ") + std::to_string(dim);
    throw Error(name + ": header declares " + dims + " = " +
                (expected > (uint64_t(1) << 40) ? std::string("too many")
                                                : std::to_string(expected)) +
                " bytes of data, but the file holds " +
                (expected > actual ? std::to_string(actual) + " (truncated?)"
                                   : std::string("more (trailing data)")));
  }
  return array;
}

Dataset loadIdxDataset(const std::string &imagesPath,
                       const std::string &labelsPath,
                       const IdxOptions &options) {
  IdxArray images = readIdx(imagesPath, 3);
  IdxArray labels = readIdx(labelsPath, 1);
  std::string imagesName = baseName(imagesPath);
  std::string labelsName = baseName(labelsPath);
  if (images.dims[0] != labels.dims[0])
    throw Error(labelsName + ": holds " + std::to_string(labels.dims[0]) +
                " labels but " + imagesName + " holds " +
                std::to_string(images.dims[0]) + " images");
  if (images.dims[0] == 0)
    throw Error(imagesName + ": holds no images");
  if (images.dims[1] == 0 || images.dims[2] == 0)
    throw Error(imagesName + ": images have an empty dimension (" +
                std::to_string(images.dims[1]) + " x " +
                std::to_string(images.dims[2]) + ")");
  if (images.dims[0] > UINT32_MAX / 2)
    throw Error(imagesName + ": too many images");

  auto storage = std::make_shared<DatasetStorage>();
  storage->source = imagesName + "+" + labelsName;
  storage->featureShape = {1, images.dims[1], images.dims[2]};
  storage->featureSize = size_t(images.dims[1]) * images.dims[2];
  storage->featureType = FeatureType::U8;
  storage->u8 = std::move(images.data);
  storage->numSamples = images.dims[0];
  storage->targetKind = TargetKind::ClassIndex;
  storage->labels.resize(storage->numSamples);
  int32_t maxLabel = 0;
  for (size_t i = 0; i < storage->numSamples; ++i) {
    int32_t label = labels.data[i];
    if (options.numClasses > 0 && label >= options.numClasses)
      throw Error(labelsName + ": label " + std::to_string(label) +
                  " of sample " + std::to_string(i) + " is out of range [0, " +
                  std::to_string(options.numClasses) + ")");
    storage->labels[i] = label;
    maxLabel = std::max(maxLabel, label);
  }
  storage->numClasses =
      options.numClasses > 0 ? options.numClasses : maxLabel + 1;
  return Dataset(std::move(storage));
}

} // namespace nnrt
