//===- CorpusTest.cpp - corpus(...) files, streams and windows ------------===//
#include "runtime/Batch.h"
#include "runtime/Corpus.h"
#include "runtime/Preprocess.h"
#include "runtime/Tokenizer.h"

#include "TestUtil.h"

#include <filesystem>

using namespace nnrt;
using namespace nnrt::test;

namespace fs = std::filesystem;

TEST(Corpus, FolderReadsTextFilesInPathOrderOnce) {
  TempDir dir;
  dir.write("c/b.txt", "bb");
  dir.write("c/a/one.txt", "a1");
  dir.write("c/.hidden", "no");
  writeFile(dir.file("c/b.dat"), std::vector<uint8_t>{'x', 0, 'y'});
  fs::create_symlink("b.txt", dir.file("c/b.u8"));
  std::vector<std::string> files = corpusFiles(dir.file("c"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(fs::path(files[0]).filename(), "one.txt");
  EXPECT_EQ(fs::path(files[1]).filename(), "b.txt");
  // A single file is the whole corpus.
  EXPECT_EQ(corpusFiles(dir.file("c/b.txt")).size(), 1u);
}

TEST(Corpus, BadPathsAreOneLineErrors) {
  TempDir dir;
  EXPECT_EQ(errorOf([&] { corpusFiles(dir.file("missing")); }),
            dir.file("missing") + ": no such file or folder");
  fs::create_directories(dir.file("bin"));
  writeFile(dir.file("bin/x.dat"), std::vector<uint8_t>{0, 1});
  EXPECT_EQ(errorOf([&] { corpusFiles(dir.file("bin")); }),
            dir.file("bin") + ": no text files in the corpus folder");
}

TEST(Corpus, WindowsTargetTheNextIds) {
  std::vector<int32_t> stream = {5, 6, 7, 8, 9, 10, 11, 12};
  // Ids 1..7 (7 ids): (7 - 1) / 3 = 2 windows.
  auto s = corpusWindows(stream, 1, 8, 3, 20, "mem");
  ASSERT_EQ(s->numSamples, 2u);
  EXPECT_EQ(s->labelWidth, 3u);
  EXPECT_EQ(s->i32, (std::vector<int32_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(s->labels, (std::vector<int32_t>{7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(errorOf([&] { corpusWindows(stream, 0, 3, 3, 20, "tail"); }),
            "tail has 3 tokens, fewer than one window of block = 3 plus its "
            "next token");
}

TEST(Corpus, StreamConcatenatesFilesAndBatchesCarryTLabels) {
  TempDir dir;
  dir.write("c/1.txt", "ab");
  dir.write("c/2.txt", "cde");
  Dataset texts = loadCorpusTexts(dir.file("c"));
  TokenizerOptions o;
  o.kind = TokenizerOptions::Kind::Bytes;
  Tokenizer bytes(o);
  bytes.fit(texts);
  std::vector<int32_t> stream = corpusStream(bytes, texts.store());
  EXPECT_EQ(stream, (std::vector<int32_t>{'a' + 1, 'b' + 1, 'c' + 1, 'd' + 1,
                                          'e' + 1}));
  Dataset windows(corpusWindows(stream, 0, stream.size(), 2, 257, "c"));
  Preprocessor pre;
  pre.fit(windows);
  LoaderOptions lo;
  lo.batchSize = 3;
  BatchLoader loader(windows, pre, lo);
  loader.beginEpoch();
  Batch b;
  loader.fillBatch(0, b);
  EXPECT_EQ(b.count, 2u);
  EXPECT_EQ(b.tokens, (std::vector<int32_t>{'a' + 1, 'b' + 1, 'c' + 1,
                                            'd' + 1, 0, 0}));
  EXPECT_EQ(b.labels, (std::vector<int32_t>{'b' + 1, 'c' + 1, 'd' + 1,
                                            'e' + 1, 0, 0}));
}

TEST(Prefetcher, StartsAtAGivenBatch) {
  auto s = std::make_shared<DatasetStorage>();
  s->featureShape = {1};
  s->featureSize = 1;
  s->f32 = {0, 1, 2, 3, 4, 5, 6};
  s->numSamples = 7;
  Preprocessor pre;
  pre.fit(Dataset(s));
  LoaderOptions lo;
  lo.batchSize = 2;
  BatchLoader loader(Dataset(s), pre, lo);
  loader.beginEpoch();
  Prefetcher prefetch(loader, 2, 2);
  Batch b;
  std::vector<float> seen;
  while (prefetch.next(b))
    seen.insert(seen.end(), b.x.begin(), b.x.begin() + b.count);
  EXPECT_EQ(seen, (std::vector<float>{4, 5, 6}));
}
