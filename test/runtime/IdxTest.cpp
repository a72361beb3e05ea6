//===- IdxTest.cpp - IDX loader: real Fashion-MNIST and every error path --===//
#include "runtime/Idx.h"
#include "runtime/Preprocess.h"

#include "TestUtil.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>

using namespace nnrt;
using namespace nnrt::test;

namespace {

std::vector<uint8_t> pixels(size_t n) {
  std::vector<uint8_t> data(n);
  for (size_t i = 0; i < n; ++i)
    data[i] = uint8_t(i * 7);
  return data;
}

struct IdxFiles : ::testing::Test {
  TempDir dir;
  std::string images = dir.file("images-idx3-ubyte");
  std::string labels = dir.file("labels-idx1-ubyte");
  void writeGood(size_t n = 5) {
    writeFile(images, idxBytes({uint32_t(n), 3, 2}, pixels(n * 6)));
    std::vector<uint8_t> l(n);
    for (size_t i = 0; i < n; ++i)
      l[i] = uint8_t(i % 3);
    writeFile(labels, idxBytes({uint32_t(n)}, l));
  }
};

} // namespace

TEST_F(IdxFiles, LoadsPlainFiles) {
  writeGood();
  Dataset data = loadIdxDataset(images, labels);
  EXPECT_EQ(data.size(), 5u);
  EXPECT_EQ(data.featureShape(), (std::vector<int64_t>{1, 3, 2}));
  EXPECT_EQ(data.featureSize(), 6u);
  EXPECT_EQ(data.store().featureType, FeatureType::U8);
  EXPECT_EQ(data.targetKind(), TargetKind::ClassIndex);
  EXPECT_EQ(data.numClasses(), 3);
  EXPECT_EQ(data.label(4), 1);
  std::vector<float> sample(6);
  data.copyFeatures(1, sample.data());
  EXPECT_EQ(sample[0], float(uint8_t(6 * 7)));
}

TEST_F(IdxFiles, LoadsGzipFilesIdentically) {
  writeGood();
  writeGzip(images + ".gz", readFile(images));
  writeGzip(labels + ".gz", readFile(labels));
  Dataset plain = loadIdxDataset(images, labels);
  Dataset gz = loadIdxDataset(images + ".gz", labels + ".gz");
  EXPECT_EQ(plain.store().u8, gz.store().u8);
  EXPECT_EQ(plain.store().labels, gz.store().labels);
}

TEST_F(IdxFiles, MissingFile) {
  EXPECT_NNRT_ERROR(loadIdxDataset(dir.file("nope.gz"), labels),
                    "nope.gz: cannot open file");
}

TEST_F(IdxFiles, EmptyFile) {
  writeGood();
  writeFile(images, std::string());
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels),
                    "images-idx3-ubyte: file is empty");
}

TEST_F(IdxFiles, WrongMagicNamesBoth) {
  writeGood();
  // A label file given where the images belong.
  EXPECT_NNRT_ERROR(loadIdxDataset(labels, labels),
                    "labels-idx1-ubyte: expected an IDX image file (magic "
                    "0x00000803), got 0x00000801");
  writeFile(images, idxBytes({5, 3, 2}, pixels(30), 0x00000d03)); // floats
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels), "got 0x00000d03");
  writeFile(images, std::string("PK\x03\x04junkjunkjunk"));
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels),
                    "expected an IDX image file");
}

TEST_F(IdxFiles, TruncatedHeaderAndData) {
  writeGood();
  std::vector<uint8_t> bytes = readFile(images);
  writeFile(images, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 9));
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels), "header is truncated");
  writeFile(images, std::vector<uint8_t>(bytes.begin(), bytes.end() - 1));
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels),
                    "header declares 5 x 3 x 2 = 30 bytes of data, but the "
                    "file holds 29 (truncated?)");
  bytes.push_back(0);
  writeFile(images, bytes);
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels), "(trailing data)");
}

TEST_F(IdxFiles, HugeDeclaredDimsDoNotAllocate) {
  writeGood();
  writeFile(images,
            idxBytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, pixels(10)));
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels),
                    "= too many bytes of data, but the file holds 10");
}

TEST_F(IdxFiles, TruncatedGzip) {
  writeGood(200);
  writeGzip(images + ".gz", readFile(images));
  std::vector<uint8_t> gz = readFile(images + ".gz");
  writeFile(images + ".gz",
            std::vector<uint8_t>(gz.begin(), gz.begin() + gz.size() / 2));
  EXPECT_NNRT_ERROR(loadIdxDataset(images + ".gz", labels),
                    "images-idx3-ubyte.gz: truncated or corrupt gzip data: "
                    "unexpected end of file");
}

TEST_F(IdxFiles, CorruptGzip) {
  writeGood(200);
  writeGzip(images + ".gz", readFile(images));
  std::vector<uint8_t> gz = readFile(images + ".gz");
  for (size_t i = 20; i < gz.size() - 8; i += 3)
    gz[i] ^= 0x5a;
  writeFile(images + ".gz", gz);
  EXPECT_NNRT_ERROR(loadIdxDataset(images + ".gz", labels),
                    "images-idx3-ubyte.gz: ");
}

TEST_F(IdxFiles, CountsDisagree) {
  writeGood(5);
  writeFile(labels, idxBytes({4}, {0, 1, 2, 0}));
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels),
                    "labels-idx1-ubyte: holds 4 labels but images-idx3-ubyte "
                    "holds 5 images");
}

TEST_F(IdxFiles, LabelOutOfRange) {
  writeGood(5);
  writeFile(labels, idxBytes({5}, {0, 1, 2, 12, 0}));
  EXPECT_NNRT_ERROR(
      loadIdxDataset(images, labels, IdxOptions{10}),
      "labels-idx1-ubyte: label 12 of sample 3 is out of range [0, 10)");
  Dataset inferred = loadIdxDataset(images, labels);
  EXPECT_EQ(inferred.numClasses(), 13);
  EXPECT_NNRT_ERROR(inferred.checkClasses(10), "label 12 is out of range");
}

TEST_F(IdxFiles, NoImages) {
  writeFile(images, idxBytes({0, 28, 28}, {}));
  writeFile(labels, idxBytes({0}, {}));
  EXPECT_NNRT_ERROR(loadIdxDataset(images, labels), "holds no images");
}

TEST(FashionMnist, RealFiles) {
  std::string dir = NNRT_FASHION_DIR;
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed at " << dir;
  Dataset train =
      loadIdxDataset(dir + "/train-images-idx3-ubyte.gz",
                     dir + "/train-labels-idx1-ubyte.gz", IdxOptions{10});
  Dataset test =
      loadIdxDataset(dir + "/t10k-images-idx3-ubyte.gz",
                     dir + "/t10k-labels-idx1-ubyte.gz", IdxOptions{10});
  EXPECT_EQ(train.size(), 60000u);
  EXPECT_EQ(test.size(), 10000u);
  EXPECT_EQ(train.featureShape(), (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ(train.store().u8.size(), 60000u * 784u); // compact: bytes
  EXPECT_TRUE(train.store().f32.empty());
  std::vector<size_t> perClass(10, 0);
  for (size_t i = 0; i < train.size(); ++i)
    ++perClass[size_t(train.label(i))];
  for (size_t count : perClass)
    EXPECT_EQ(count, 6000u); // Fashion-MNIST is balanced

  Preprocessor scale;
  scale.addScale(1.0f / 255.0f);
  scale.fit(train);
  double sum = 0;
  std::vector<float> sample(784);
  for (size_t i = 0; i < train.size(); ++i) {
    train.copyFeatures(i, sample.data());
    scale.apply(sample.data());
    for (float v : sample)
      sum += v;
  }
  EXPECT_NEAR(sum / (60000.0 * 784.0), 0.2860, 5e-4);
}

// A small gzip file whose header declares a few bytes but whose stream
// inflates to 512 MiB: the reader stops one byte past the declared size
// instead of inflating everything first (the address space is capped at
// 128 MiB above what the process holds, so inflating it whole fails).
TEST_F(IdxFiles, GzipBombStopsAtTheDeclaredSize) {
  writeGood();
  // Concatenated gzip members read as one stream: the IDX header and data,
  // then 512 members of 1 MiB of zeros (about 1 KiB each compressed).
  writeGzip(images + ".head.gz", idxBytes({5, 3, 2}, pixels(30)));
  writeGzip(images + ".zeros.gz", std::vector<uint8_t>(1 << 20, 0));
  std::vector<uint8_t> bomb = readFile(images + ".head.gz");
  std::vector<uint8_t> zeros = readFile(images + ".zeros.gz");
  for (int i = 0; i < 512; ++i)
    bomb.insert(bomb.end(), zeros.begin(), zeros.end());
  ASSERT_LT(bomb.size(), 2u << 20);
  writeFile(images + ".gz", bomb);
  EXPECT_EXIT(
      {
        long pages = 0;
        if (std::FILE *f = std::fopen("/proc/self/statm", "r")) {
          if (std::fscanf(f, "%ld", &pages) != 1)
            pages = 0;
          std::fclose(f);
        }
        struct rlimit limit;
        limit.rlim_cur = limit.rlim_max =
            rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)) + (rlim_t(128) << 20);
        setrlimit(RLIMIT_AS, &limit);
        std::string message = errorOf([&] { readIdx(images + ".gz", 3); });
        std::fprintf(stderr, "%s\n", message.c_str());
        std::exit(message.find("images-idx3-ubyte.gz: header declares 5 x 3 "
                               "x 2 = 30 bytes of data, but the file holds "
                               "more (trailing data)") != std::string::npos
                      ? 0
                      : 1);
      },
      ::testing::ExitedWithCode(0), "trailing data");
}
