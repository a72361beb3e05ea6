//===- CorruptionTest.cpp - random damage gives nnrt::Error, never a crash
//-===//
#include "runtime/Csv.h"
#include "runtime/Idx.h"
#include "runtime/Rng.h"
#include "runtime/SafeTensors.h"

#include "TestUtil.h"

using namespace nnrt;
using namespace nnrt::test;

namespace {
/// Flips, overwrites or cuts a few bytes of `bytes`.
std::vector<uint8_t> damage(std::vector<uint8_t> bytes, Rng &rng) {
  switch (rng.below(3)) {
  case 0:
    bytes.resize(size_t(rng.below(bytes.size() + 1)));
    break;
  case 1:
    for (int i = 0; i < 3 && !bytes.empty(); ++i)
      bytes[size_t(rng.below(bytes.size()))] ^= uint8_t(1 + rng.below(255));
    break;
  default:
    if (!bytes.empty())
      bytes[size_t(rng.below(std::min<size_t>(bytes.size(), 24)))] =
          uint8_t(rng.below(256));
    break;
  }
  return bytes;
}

/// Runs `body`; only success or nnrt::Error are acceptable.
template <typename F> void expectErrorOrSuccess(F &&body, size_t round) {
  try {
    body();
  } catch (const Error &) {
  } catch (const std::exception &e) {
    ADD_FAILURE() << "round " << round << ": non-nnrt exception " << e.what();
  }
}
} // namespace

TEST(Corruption, SafeTensors) {
  std::vector<float> weights(100, 0.5f);
  TensorData a = TensorData::f32("a.weight", {10, 10}, weights);
  TensorData b = TensorData::i64("step", {1}, {5});
  std::vector<uint8_t> good =
      encodeSafeTensors({a.view(), b.view()}, {{"epoch", "1"}});
  Rng rng(1);
  for (size_t round = 0; round < 2000; ++round)
    expectErrorOrSuccess(
        [&] {
          SafeTensorsFile file =
              SafeTensorsFile::parse(damage(good, rng), "x.safetensors");
          for (const std::string &name : file.names())
            (void)file.entry(name).numElements();
        },
        round);
}

TEST(Corruption, IdxPlainAndGzip) {
  TempDir dir;
  std::vector<uint8_t> pixels(20 * 4 * 4);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = uint8_t(i);
  std::vector<uint8_t> images = idxBytes({20, 4, 4}, pixels);
  std::vector<uint8_t> labels(20, 1);
  writeFile(dir.file("labels"), idxBytes({20}, labels));
  writeGzip(dir.file("images.gz"), images);
  std::vector<uint8_t> gz = readFile(dir.file("images.gz"));
  Rng rng(2);
  for (size_t round = 0; round < 400; ++round) {
    writeFile(dir.file("images"), damage(images, rng));
    writeFile(dir.file("damaged.gz"), damage(gz, rng));
    expectErrorOrSuccess(
        [&] { loadIdxDataset(dir.file("images"), dir.file("labels")); }, round);
    expectErrorOrSuccess(
        [&] { loadIdxDataset(dir.file("damaged.gz"), dir.file("labels")); },
        round);
  }
}

TEST(Corruption, Csv) {
  TempDir dir;
  std::string text = "x,y,label\n1.5,2,0\n-3,4e2,1\n\"5\",6,1\n";
  std::vector<uint8_t> good(text.begin(), text.end());
  CsvOptions options;
  options.targets = {"label"};
  Rng rng(3);
  for (size_t round = 0; round < 1000; ++round) {
    writeFile(dir.file("d.csv"), damage(good, rng));
    expectErrorOrSuccess(
        [&] {
          Table table = readCsv(dir.file("d.csv"), options);
          makeTabularDataset(table, {TargetKind::ClassIndex, 0});
        },
        round);
  }
}
