//===- SafeTensorsTest.cpp - checkpoint format, validation, atomicity -----===//
#include "runtime/SafeTensors.h"

#include "TestUtil.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sys/resource.h>

using namespace nnrt;
using namespace nnrt::test;

namespace {
/// The tensors safetensors_interop.py expects.
std::vector<TensorData> sampleTensors() {
  std::vector<float> weight(12);
  for (size_t i = 0; i < 12; ++i)
    weight[i] = float(i) / 8 - 0.5f;
  std::vector<uint8_t> rng(32);
  for (size_t i = 0; i < 32; ++i)
    rng[i] = uint8_t(i);
  return {TensorData::f32("head.weight", {3, 4}, weight),
          TensorData::f32("head.bias", {3}, {1.5f, -2.25f, 1e-7f}),
          TensorData::i64("step", {1}, {938}),
          TensorData::i32("labels", {2, 2}, {0, 7, -3, 2147483647}),
          TensorData::u8("rng", {32}, rng),
          TensorData::f32("empty", {0, 5}, {})};
}

std::vector<TensorView> views(const std::vector<TensorData> &tensors) {
  std::vector<TensorView> result;
  for (const TensorData &t : tensors)
    result.push_back(t.view());
  return result;
}

const std::map<std::string, std::string> sampleMeta = {{"format", "pt"},
                                                       {"epoch", "3"}};

void expectSample(const SafeTensorsFile &file) {
  EXPECT_EQ(file.metadata(), sampleMeta);
  EXPECT_EQ(file.names().size(), 6u);
  std::vector<int64_t> shape = {3, 4};
  std::vector<float> weight = file.floats("head.weight", &shape);
  EXPECT_EQ(weight[0], -0.5f);
  EXPECT_EQ(weight[11], 11.0f / 8 - 0.5f);
  EXPECT_EQ(file.floats("head.bias"),
            (std::vector<float>{1.5f, -2.25f, 1e-7f}));
  EXPECT_EQ(file.int64s("step"), (std::vector<int64_t>{938}));
  EXPECT_EQ(file.int32s("labels"),
            (std::vector<int32_t>{0, 7, -3, 2147483647}));
  EXPECT_EQ(file.uint8s("rng").size(), 32u);
  EXPECT_EQ(file.entry("empty").shape, (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(file.floats("empty").empty());
}

bool havePythonTorch() {
  return std::system("/usr/bin/python3 -c 'import torch' 2>/dev/null") == 0;
}

/// A header image: 8-byte length, `json` padded, then `data` bytes.
std::vector<uint8_t> image(const std::string &json, size_t dataBytes) {
  std::vector<uint8_t> out(8 + json.size() + dataBytes, 0);
  uint64_t n = json.size();
  for (int b = 0; b < 8; ++b)
    out[size_t(b)] = uint8_t(n >> (8 * b));
  std::copy(json.begin(), json.end(), out.begin() + 8);
  return out;
}
} // namespace

TEST(SafeTensors, RoundTripsAndLeavesNoTempFile) {
  TempDir dir;
  std::string path = dir.file("last.safetensors");
  std::vector<TensorData> tensors = sampleTensors();
  writeSafeTensors(path, views(tensors), sampleMeta);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"last.safetensors"}));
  expectSample(SafeTensorsFile::read(path));
  std::vector<uint8_t> bytes = readFile(path);
  EXPECT_EQ(bytes, encodeSafeTensors(views(tensors), sampleMeta));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(bytes[8], '{');
  // Overwriting replaces the file atomically, still no leftovers.
  writeSafeTensors(path, {tensors[2].view()});
  EXPECT_EQ(SafeTensorsFile::read(path).names(),
            (std::vector<std::string>{"step"}));
  EXPECT_EQ(dir.list().size(), 1u);
}

TEST(SafeTensors, FailedWriteKeepsTheOldFile) {
  TempDir dir;
  std::string path = dir.file("best.safetensors");
  std::vector<TensorData> tensors = sampleTensors();
  writeSafeTensors(path, views(tensors), sampleMeta);
  std::vector<uint8_t> before = readFile(path);

  // A real I/O failure: a file size limit makes write() fail with EFBIG
  // half-way through a large tensor.
  std::vector<float> big(1 << 20, 1.0f);
  TensorData huge = TensorData::f32("huge", {1 << 20}, big);
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message = errorOf([&] { writeSafeTensors(path, {huge.view()}); });
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, oldHandler);
  EXPECT_NE(message.find("best.safetensors: write failed"), std::string::npos)
      << message;
  EXPECT_EQ(readFile(path), before);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"best.safetensors"}));

  // Invalid tensors are refused before anything is written.
  TensorData wrong = TensorData::f32("w", {2, 2}, {1, 2, 3});
  EXPECT_NNRT_ERROR(writeSafeTensors(path, {wrong.view()}),
                    "best.safetensors: tensor 'w' has 12 bytes but its dtype "
                    "F32 and shape need 16");
  EXPECT_NNRT_ERROR(
      writeSafeTensors(path, {tensors[0].view(), tensors[0].view()}),
      "given twice");
  EXPECT_NNRT_ERROR(writeSafeTensors(dir.file("no/such/dir/x.safetensors"), {}),
                    "x.safetensors: cannot create a temporary file");
  EXPECT_EQ(readFile(path), before);
}

TEST(SafeTensors, ReaderValidatesEverything) {
  auto parse = [](const std::vector<uint8_t> &bytes) {
    SafeTensorsFile::parse(bytes, "bad.safetensors");
  };
  EXPECT_NNRT_ERROR(parse({1, 2, 3}),
                    "bad.safetensors: not a safetensors file: 3 bytes");
  std::vector<uint8_t> longHeader = image("{}", 0);
  longHeader[0] = 200;
  EXPECT_NNRT_ERROR(parse(longHeader),
                    "header length 200 exceeds the file size 10");
  EXPECT_NNRT_ERROR(parse(image("[1, 2]  ", 0)), "header is not a JSON object");
  EXPECT_NNRT_ERROR(parse(image("{\"a\": ", 0)), "header is not valid JSON");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}})",
                  4)),
      "tensor 'a' has unknown dtype 'F99'");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                  4)),
      "tensor 'a' has a bad shape");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})",
                  4)),
      "tensor 'a' has 4 bytes but dtype F32 and shape [2] need 8");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})",
                  4)),
      "tensor 'a' has data_offsets [0, 8] outside the 4 data bytes");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
                  4)),
      "outside");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  8)),
      "tensor 'b' overlaps the previous tensor's data");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                  8)),
      "gap in the data before tensor 'a'");
  EXPECT_NNRT_ERROR(
      parse(image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  8)),
      "4 bytes of data are not covered by any tensor");
  EXPECT_NNRT_ERROR(parse(image(R"({"a":{"dtype":"F32","shape":[1]}})", 4)),
                    "has no valid data_offsets");
  EXPECT_NNRT_ERROR(parse(image(R"({"__metadata__":{"k":1}})", 0)),
                    "__metadata__ value 'k' is not a string");
  EXPECT_NNRT_ERROR(
      parse(image(
          R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}})",
          4)),
      "too large");

  SafeTensorsFile file = SafeTensorsFile::parse(
      image(
          R"({"head.weight":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
          4),
      "ok.safetensors");
  EXPECT_NNRT_ERROR(
      file.floats("head.weight"),
      "ok.safetensors: tensor 'head.weight' has dtype I32, expected F32");
  EXPECT_NNRT_ERROR(
      file.entry("head.weights"),
      "ok.safetensors: no tensor 'head.weights'; did you mean 'head.weight'?");
  TempDir dir;
  EXPECT_NNRT_ERROR(SafeTensorsFile::read(dir.file("missing.safetensors")),
                    "missing.safetensors: cannot open checkpoint");
  std::vector<uint8_t> good =
      encodeSafeTensors(views(sampleTensors()), sampleMeta);
  for (size_t cut : {size_t(7), size_t(20), good.size() - 1}) {
    writeFile(dir.file("cut.safetensors"),
              std::vector<uint8_t>(good.begin(), good.begin() + long(cut)));
    EXPECT_NNRT_ERROR(SafeTensorsFile::read(dir.file("cut.safetensors")),
                      "cut.safetensors: ");
  }
}

TEST(SafeTensors, PythonReadsWhatNnrtWrites) {
  if (!havePythonTorch())
    GTEST_SKIP() << "python3-torch is not installed";
  TempDir dir;
  std::string path = dir.file("nnrt.safetensors");
  std::vector<TensorData> tensors = sampleTensors();
  writeSafeTensors(path, views(tensors), sampleMeta);
  std::string command = "/usr/bin/python3 " NNRT_TEST_SOURCE_DIR
                        "/safetensors_interop.py check " +
                        path;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(SafeTensors, NnrtReadsWhatPythonWrites) {
  if (!havePythonTorch())
    GTEST_SKIP() << "python3-torch is not installed";
  TempDir dir;
  std::string path = dir.file("torch.safetensors");
  std::string command = "/usr/bin/python3 " NNRT_TEST_SOURCE_DIR
                        "/safetensors_interop.py write " +
                        path;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  SafeTensorsFile file = SafeTensorsFile::read(path);
  expectSample(file);
  // The reference layout puts 8-byte dtypes first.
  EXPECT_EQ(file.names().front(), "step");
}
