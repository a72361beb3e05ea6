//===- TextTest.cpp - UTF-8, text sources, tokenizers, vocabularies -------===//
#include "runtime/Text.h"
#include "runtime/Rng.h"
#include "runtime/SafeTensors.h"
#include "runtime/Tokenizer.h"
#include "runtime/Utf8.h"

#include "TestUtil.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace nnrt;
using namespace nnrt::test;

namespace fs = std::filesystem;

namespace {

/// A Text dataset of `texts` (no targets).
Dataset texts(std::vector<std::string> samples) {
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = "mem";
  storage->featureType = FeatureType::Text;
  storage->numSamples = samples.size();
  storage->texts = std::move(samples);
  return Dataset(storage);
}

TokenizerOptions words(int64_t vocab, int64_t length, bool lowercase = true) {
  TokenizerOptions o;
  o.kind = TokenizerOptions::Kind::Words;
  o.vocab = vocab;
  o.length = length;
  o.lowercase = lowercase;
  return o;
}

std::vector<int32_t> row(const DatasetStorage &s, size_t i) {
  return std::vector<int32_t>(s.i32.begin() + i * s.featureSize,
                              s.i32.begin() + (i + 1) * s.featureSize);
}

/// A checkpoint dir/c.safetensors holding `tensors` and metadata
/// "tokenize" = `describe`, read back.
SafeTensorsFile saveTokenizer(const TempDir &dir,
                              const std::vector<TensorData> &tensors,
                              const std::string &describe) {
  std::vector<TensorView> views;
  for (const TensorData &d : tensors)
    views.push_back(d.view());
  writeSafeTensors(dir.file("c.safetensors"), views, {{"tokenize", describe}});
  return SafeTensorsFile::read(dir.file("c.safetensors"));
}

struct TextFiles : ::testing::Test {
  TempDir dir;
  std::string write(const std::string &name, const std::string &text) {
    return dir.write(name, text);
  }
};

} // namespace

TEST(Utf8, AcceptsWellFormedText) {
  for (const char *ok :
       {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
        "\xEF\xBB\xBFx", "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF"})
    EXPECT_EQ(invalidUtf8Offset(std::string(ok)), std::string::npos) << ok;
}

TEST(Utf8, NamesTheFirstByteOfTheFirstBadSequence) {
  const std::pair<const char *, size_t> bad[] = {
      {"ab\x80", 2},             // a lone continuation byte
      {"\xC0\x80", 0},           // overlong NUL
      {"x\xE0\x80\x80", 1},      // overlong 3-byte form
      {"\xED\xA0\x80", 0},       // a UTF-16 surrogate
      {"ok\xF4\x90\x80\x80", 2}, // above U+10FFFF
      {"\xF5\x80\x80\x80", 0},   // not a lead byte
      {"\xE2\x82", 0},           // cut short at the end
      {"\xE2\x82x", 0},          // cut short by ASCII
      {"\xC3\xA9\xFF", 2},
  };
  for (const auto &[text, offset] : bad)
    EXPECT_EQ(invalidUtf8Offset(std::string(text)), offset) << text;
  EXPECT_EQ(describeInvalidUtf8("ab\xFF", 2),
            "not valid UTF-8 at byte offset 2 (byte 0xff)");
}

TEST(Utf8, AgreesWithPythonsStrictDecoder) {
  // Random byte strings biased to the bytes around the UTF-8 boundaries,
  // against `bytes.decode("utf-8")` (UnicodeDecodeError.start).
  static const uint8_t pool[] = {
      0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
      0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  // Half the cases: boundary code points encoded, then one byte replaced
  // or the end cut off half of the time.
  static const char32_t points[] = {0x41,   0x7F,    0x80,     0x7FF,
                                    0x800,  0xD7FF,  0xE000,   0xFFFD,
                                    0xFFFF, 0x10000, 0x10FFFF, 0xE9};
  Rng rng(7);
  std::vector<std::string> cases;
  nlohmann::json hex = nlohmann::json::array();
  for (int n = 0; n < 4000; ++n) {
    std::string bytes;
    size_t length = 1 + rng.below(6);
    if (n % 2) {
      for (size_t k = 0; k < length / 2 + 1; ++k)
        appendUtf8(bytes, points[rng.below(std::size(points))]);
      if (rng.below(2))
        bytes[rng.below(bytes.size())] =
            static_cast<char>(pool[rng.below(sizeof pool)]);
      else if (rng.below(2))
        bytes.pop_back();
    } else {
      for (size_t k = 0; k < length; ++k)
        bytes += static_cast<char>(pool[rng.below(sizeof pool)]);
    }
    std::string h;
    for (unsigned char c : bytes)
      h += fmt::format("{:02x}", c);
    cases.push_back(bytes);
    hex.push_back(h);
  }
  nlohmann::json out = runPythonReference("text_reference.py",
                                          {{"utf8", hex},
                                           {"train", nlohmann::json::array()},
                                           {"texts", nlohmann::json::array()},
                                           {"vocab", 3},
                                           {"lowercase", true},
                                           {"length", 1}});
  ASSERT_FALSE(out.is_null());
  size_t valid = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    int64_t expected = out["utf8"][i].get<int64_t>();
    size_t offset = invalidUtf8Offset(cases[i]);
    valid += expected < 0;
    EXPECT_EQ(offset == std::string::npos ? -1 : int64_t(offset), expected)
        << "case " << hex[i];
  }
  EXPECT_GT(valid, 500u); // both outcomes are exercised
  EXPECT_LT(valid, 3000u);
}

TEST(Words, SplitOnLettersDigitsMarksAndApostrophes) {
  EXPECT_EQ(
      splitWords("Don\xE2\x80\x99t stop!  'Quoted' x--y snake_case 42nd", true),
      (std::vector<std::string>{"don't", "stop", "quoted", "x", "y", "snake",
                                "case", "42nd"}));
  EXPECT_EQ(splitWords("Caf\xC3\xA9 NA\xC3\x8FVE", false),
            (std::vector<std::string>{"Caf\xC3\xA9", "NA\xC3\x8FVE"}));
  // A combining accent stays in its word; Greek and Cyrillic lowercase.
  EXPECT_EQ(splitWords("Cafe\xCC\x81 \xCE\x9B\xCF\x8C\xCE\xB3\xCE\xBF\xCF\x82,"
                       "\xD0\x9C\xD0\xB8\xD1\x80",
                       true),
            (std::vector<std::string>{
                "cafe\xCC\x81", "\xCE\xBB\xCF\x8C\xCE\xB3\xCE\xBF\xCF\x82",
                "\xD0\xBC\xD0\xB8\xD1\x80"}));
  EXPECT_TRUE(splitWords("... ' -- \xF0\x9F\x98\x80 !", true).empty());
}

TEST(Tokenizers, BytesAreBytePlusOneCutOrPadded) {
  Tokenizer t(TokenizerOptions{TokenizerOptions::Kind::Bytes, 0, true, 3, ""});
  EXPECT_TRUE(t.ready());
  EXPECT_EQ(t.encode("\xC3\xA9\xFF"), (std::vector<int32_t>{0xC4, 0xAA, 256}));
  auto ids = t.tokenize(texts({"abcd", "a", std::string("\0z", 2)}).store());
  EXPECT_EQ(ids->featureShape, (std::vector<int64_t>{3}));
  EXPECT_EQ(row(*ids, 0), (std::vector<int32_t>{98, 99, 100}));
  EXPECT_EQ(row(*ids, 1), (std::vector<int32_t>{98, 0, 0}));
  EXPECT_EQ(row(*ids, 2), (std::vector<int32_t>{1, 123, 0}));
  EXPECT_NNRT_ERROR(t.tokenize(texts({"x", ""}).store()),
                    "mem: sample 1: empty text");
  EXPECT_EQ(t.describe(), "bytes pad(3)");
}

TEST(Tokenizers, WordsByFrequencyThenCodePointOrder) {
  Dataset all = texts({"b a c b", "a b d", "c c e", "zz zz zz zz"});
  Dataset train = all.subset({0, 1, 2}); // the last text is not training
  Tokenizer t(words(5, 4));
  EXPECT_FALSE(t.ready());
  t.fit(train);
  // counts: b 3, c 3, a 2, d 1, e 1 -> b, c (tie by order), a
  EXPECT_EQ(t.words(), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(t.encode("A b, zz! c d"), (std::vector<int32_t>{4, 2, 1, 3, 1}));
  auto ids = t.tokenize(all.store());
  EXPECT_EQ(row(*ids, 0), (std::vector<int32_t>{2, 4, 3, 2}));
  EXPECT_EQ(row(*ids, 3), (std::vector<int32_t>{1, 1, 1, 1}));
  EXPECT_EQ(t.describe(), "words(vocab = 5, lowercase = true) pad(4)");

  Tokenizer cased(words(100, 2, false));
  cased.fit(texts({"The the THE the"}));
  EXPECT_EQ(cased.words(), (std::vector<std::string>{"the", "THE", "The"}));
}

TEST(Tokenizers, WordsAgreeWithAPythonReference) {
  // A corpus with accents, apostrophes, digits, several scripts and
  // punctuation; vocabulary and ids against text_reference.py.
  const char *parts[] = {
      "The",
      "the",
      "cat's",
      "\xE2\x80\x99quoted\xE2\x80\x99",
      "na\xC3\xAFve",
      "Caf\xC3\xA9",
      "42",
      "x2",
      "\xCE\x9A\xCF\x8C\xCF\x83\xCE\xBC\xCE\xBF\xCF\x82",
      "\xD0\x9C\xD0\xB8\xD1\x80",
      "\xE6\x97\xA5\xE6\x9C\xAC",
      "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0\xA5\x80",
      "--",
      "!",
      ",",
      "\xF0\x9F\x98\x80",
      "dog",
      "DOG",
      "a_b",
      "it's",
      "''",
      "r\xC3\xA9sum\xC3\xA9"};
  Rng rng(3);
  std::vector<std::string> corpus;
  for (int n = 0; n < 300; ++n) {
    std::string text;
    size_t count = 1 + rng.below(12);
    for (size_t k = 0; k < count; ++k)
      text += std::string(parts[rng.below(std::size(parts))]) +
              (rng.below(3) ? " " : "");
    text += "w" + std::to_string(rng.below(40)); // every text has a word
    corpus.push_back(text);
  }
  for (bool lowercase : {true, false}) {
    Dataset all = texts(corpus);
    std::vector<uint32_t> trainRows;
    for (uint32_t i = 0; i < corpus.size(); i += 2)
      trainRows.push_back(i);
    Dataset train = all.subset(trainRows);
    Tokenizer t(words(30, 8, lowercase));
    t.fit(train);
    auto ids = t.tokenize(all.store());

    nlohmann::json trainTexts = nlohmann::json::array();
    for (uint32_t i : trainRows)
      trainTexts.push_back(corpus[i]);
    nlohmann::json out = runPythonReference("text_reference.py",
                                            {{"utf8", nlohmann::json::array()},
                                             {"train", trainTexts},
                                             {"texts", corpus},
                                             {"vocab", 30},
                                             {"lowercase", lowercase},
                                             {"length", 8}});
    ASSERT_FALSE(out.is_null());
    EXPECT_EQ(t.words(), out["vocab"].get<std::vector<std::string>>());
    for (size_t i = 0; i < corpus.size(); ++i)
      ASSERT_EQ(row(*ids, i), out["ids"][i].get<std::vector<int32_t>>())
          << "text " << i << ": " << corpus[i];
  }
}

TEST(Tokenizers, ATextWithoutWordsIsAnErrorNamingIt) {
  Tokenizer t(words(10, 4));
  t.fit(texts({"some words"}));
  auto storage = std::make_shared<DatasetStorage>(texts({"ok", "?!"}).store());
  storage->lines = {2, 3};
  storage->source = "dir/reviews.csv";
  EXPECT_NNRT_ERROR(t.tokenize(*storage),
                    "reviews.csv:3: no words in this text");
}

TEST(Tokenizers, VocabularySurvivesACheckpoint) {
  Tokenizer t(words(6, 5, false));
  t.fit(texts({"\xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9 b b b it's", "z"}));
  TempDir dir;
  auto save = [&](const std::vector<TensorData> &tensors,
                  const std::string &describe) {
    return saveTokenizer(dir, tensors, describe);
  };
  SafeTensorsFile file = save(t.state(), t.describe());
  Tokenizer restored(words(6, 5, false));
  restored.restore(file);
  EXPECT_TRUE(restored.ready());
  EXPECT_EQ(restored.words(), t.words());
  EXPECT_EQ(restored.words(),
            (std::vector<std::string>{"b", "\xC3\xA9t\xC3\xA9", "it's", "z"}));
  EXPECT_EQ(restored.encode("z b q"), t.encode("z b q"));

  // Another tokenizer, a missing or broken vocabulary: one-line errors.
  Tokenizer other(words(7, 5, false));
  EXPECT_NNRT_ERROR(other.restore(file),
                    "c.safetensors: the checkpoint's tokenizer 'words(vocab = "
                    "6, lowercase = false) pad(5)' differs from this "
                    "program's 'words(vocab = 7, lowercase = false) pad(5)'");
  EXPECT_NNRT_ERROR(restored.restore(save({}, "")),
                    "c.safetensors: the checkpoint's tokenizer ''");
  EXPECT_NNRT_ERROR(restored.restore(save({}, t.describe())),
                    "c.safetensors: ");
  EXPECT_NNRT_ERROR(
      restored.restore(
          save({TensorData::u8("tokenize.vocab", {4}, {'a', '\n', 'a', '\n'})},
               t.describe())),
      "tensor 'tokenize.vocab' holds the word 'a' twice");
  EXPECT_NNRT_ERROR(
      restored.restore(save(
          {TensorData::u8("tokenize.vocab", {2}, {0xFF, '\n'})}, t.describe())),
      "tensor 'tokenize.vocab' is not UTF-8 text");
}

namespace {

TokenizerOptions bpe(int64_t vocab, int64_t length) {
  TokenizerOptions o;
  o.kind = TokenizerOptions::Kind::Bpe;
  o.vocab = vocab;
  o.length = length;
  o.dataset = "reviews";
  return o;
}

/// The paragraphs of Debian's GPL-3 text: a fixed English corpus.
std::vector<std::string> licenseParagraphs() {
  std::ifstream in("/usr/share/common-licenses/GPL-3");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  std::vector<std::string> paragraphs;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos)
      end = text.size();
    std::string p = text.substr(pos, end - pos);
    if (p.find_first_not_of(" \n") != std::string::npos)
      paragraphs.push_back(p);
    pos = end + 2;
  }
  return paragraphs;
}

} // namespace

TEST(Tokenizers, BpeAgreesWithPythonsSentencePiece) {
  std::vector<std::string> corpus = licenseParagraphs();
  ASSERT_GT(corpus.size(), 100u);
  // A training text over SentencePiece's default max_sentence_length (4192
  // bytes), which it would skip: a review is one sentence, however long.
  std::string longText;
  for (size_t k = 1; longText.size() < 6000; ++k)
    longText += corpus[k] + " ";
  corpus.insert(corpus.begin(), longText);
  // Texts never trained on: unknown characters (accents, CJK) become 1.
  corpus.push_back("Caf\xC3\xA9 na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC "
                   "software");
  corpus.push_back("  leading and trailing spaces  ");
  Dataset all = texts(corpus);
  std::vector<uint32_t> trainRows;
  for (uint32_t i = 0; i + 2 < corpus.size(); i += 2)
    trainRows.push_back(i);
  Tokenizer t(bpe(300, 24));
  EXPECT_FALSE(t.ready());
  t.fit(all.subset(trainRows));
  EXPECT_TRUE(t.ready());
  EXPECT_EQ(t.describe(), "bpe(vocab = 300) pad(24)");
  auto ids = t.tokenize(all.store());

  nlohmann::json trainTexts = nlohmann::json::array();
  for (uint32_t i : trainRows)
    trainTexts.push_back(corpus[i]);
  nlohmann::json out =
      runPythonReference("bpe_reference.py", {{"train", trainTexts},
                                              {"texts", corpus},
                                              {"vocab", 300},
                                              {"length", 24}});
  ASSERT_FALSE(out.is_null());
  std::vector<std::string> pieces =
      out["pieces"].get<std::vector<std::string>>();
  ASSERT_EQ(pieces.size(), 300u);
  EXPECT_EQ(pieces[0], "<pad>");
  EXPECT_EQ(pieces[1], "<unk>");
  for (int32_t id = 0; id < 300; ++id)
    EXPECT_EQ(t.piece(id), pieces[id]) << "id " << id;
  size_t unknown = 0, padded = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    std::vector<int32_t> r = row(*ids, i);
    ASSERT_EQ(r, out["ids"][i].get<std::vector<int32_t>>())
        << "text " << i << ": " << corpus[i];
    unknown += std::count(r.begin(), r.end(), Tokenizer::kUnknown);
    padded += r.back() == Tokenizer::kPadding;
  }
  EXPECT_GT(unknown, 0u); // both the unknown id and padding are exercised
  EXPECT_GT(padded, 0u);
}

TEST(Tokenizers, BpeOnTooLittleTextIsAnErrorNamingTheDataset) {
  Tokenizer t(bpe(300, 4));
  EXPECT_NNRT_ERROR(t.fit(texts({"hello world", "a small corpus"})),
                    "dataset 'reviews': the training split (2 texts) is too "
                    "small for bpe(vocab = 300): SentencePiece makes at most ");
  EXPECT_FALSE(t.ready());
  Tokenizer narrow(bpe(4, 4));
  EXPECT_NNRT_ERROR(narrow.fit(texts({"abcdef"})),
                    "dataset 'reviews': bpe(vocab = 4) is smaller than the 9 "
                    "pieces SentencePiece needs for the training split's "
                    "characters, the word start and <pad>, <unk>; use a "
                    "vocab of at least 9");
}

TEST(Tokenizers, BpeModelSurvivesACheckpoint) {
  std::vector<std::string> corpus = licenseParagraphs();
  Tokenizer t(bpe(200, 6));
  t.fit(texts(corpus));
  TempDir dir;
  auto save = [&](const std::vector<TensorData> &tensors,
                  const std::string &describe) {
    return saveTokenizer(dir, tensors, describe);
  };
  std::vector<TensorData> state = t.state();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].view().name, "tokenize.bpe_model");
  SafeTensorsFile file = save(state, t.describe());
  Tokenizer restored(bpe(200, 6));
  restored.restore(file);
  EXPECT_TRUE(restored.ready());
  EXPECT_EQ(restored.bpeModel(), t.bpeModel());
  const char *text = "This License applies to any program, zebra!";
  EXPECT_EQ(restored.encode(text), t.encode(text));
  EXPECT_GT(t.encode(text).size(), 5u);

  Tokenizer other(bpe(300, 6));
  EXPECT_NNRT_ERROR(other.restore(file),
                    "c.safetensors: the checkpoint's tokenizer 'bpe(vocab = "
                    "200) pad(6)' differs from this program's 'bpe(vocab = "
                    "300) pad(6)'");
  EXPECT_NNRT_ERROR(restored.restore(save({}, t.describe())),
                    "c.safetensors: ");
  std::vector<uint8_t> damaged(t.bpeModel().begin(), t.bpeModel().end());
  damaged.resize(damaged.size() / 2);
  EXPECT_NNRT_ERROR(
      restored.restore(
          save({TensorData::u8("tokenize.bpe_model", {int64_t(damaged.size())},
                               damaged)},
               t.describe())),
      "c.safetensors: tensor 'tokenize.bpe_model' is not a SentencePiece "
      "model");
  // A valid model of another size is refused too.
  Tokenizer small(bpe(100, 6));
  small.fit(texts(corpus));
  std::vector<uint8_t> proto(small.bpeModel().begin(), small.bpeModel().end());
  EXPECT_NNRT_ERROR(
      restored.restore(save({TensorData::u8("tokenize.bpe_model",
                                            {int64_t(proto.size())}, proto)},
                            t.describe())),
      "c.safetensors: tensor 'tokenize.bpe_model' is a SentencePiece model of "
      "100 pieces");
}

TEST_F(TextFiles, FoldersAreClassesFilesAreSamples) {
  write("reviews/pos/b.txt", "good");
  write("reviews/pos/a.txt", "\xEF\xBB\xBFgreat"); // the BOM is dropped
  write("reviews/pos/.hidden", "ignored");
  write("reviews/neg/deep/x.txt", "bad");
  write("reviews/README", "a file beside the class folders: ignored");
  Dataset d = loadTextSource(dir.file("reviews"), TextSourceOptions{});
  const DatasetStorage &s = d.store();
  EXPECT_EQ(s.featureType, FeatureType::Text);
  EXPECT_EQ(s.classNames, (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(s.texts, (std::vector<std::string>{"bad", "great", "good"}));
  EXPECT_EQ(s.labels, (std::vector<int32_t>{0, 1, 1}));
  EXPECT_EQ(d.origin(1), dir.file("reviews/pos/a.txt"));
  EXPECT_EQ(textClasses(dir.file("reviews"), TextSourceOptions{}),
            s.classNames);

  // A held-out folder keeps the training classes' indices.
  write("held/pos/c.txt", "fine");
  TextSourceOptions held;
  held.classes = {"neg", "pos"};
  EXPECT_EQ(loadTextSource(dir.file("held"), held).store().labels,
            (std::vector<int32_t>{1}));
  write("held/meh/d.txt", "so so");
  EXPECT_NNRT_ERROR(loadTextSource(dir.file("held"), held),
                    "held/meh: class 'meh' is not one of the training "
                    "data's classes");
}

TEST_F(TextFiles, BadFilesAreOneLineErrorsNamingThem) {
  write("a/pos/1.txt", "fine");
  fs::create_directories(dir.file("a/neg"));
  EXPECT_NNRT_ERROR(loadTextSource(dir.file("a"), TextSourceOptions{}),
                    dir.file("a/neg") + ": class folder holds no files");
  write("a/neg/1.txt", "");
  EXPECT_NNRT_ERROR(loadTextSource(dir.file("a"), TextSourceOptions{}),
                    dir.file("a/neg/1.txt") + ": empty text file");
  write("a/neg/1.txt", "\xEF\xBB\xBF");
  EXPECT_NNRT_ERROR(loadTextSource(dir.file("a"), TextSourceOptions{}),
                    dir.file("a/neg/1.txt") + ": empty text file");
  write("a/neg/1.txt", "ok\nbad \xC3\x28 here");
  EXPECT_NNRT_ERROR(loadTextSource(dir.file("a"), TextSourceOptions{}),
                    dir.file("a/neg/1.txt") +
                        ": not valid UTF-8 at byte offset 7 (byte 0xc3); "
                        "text files must be UTF-8");
  EXPECT_NNRT_ERROR(loadTextSource(dir.file("none"), TextSourceOptions{}),
                    "none: no such folder; text() expects a folder with one "
                    "subfolder per class");
  write("flat/x.txt", "no class folders");
  EXPECT_NNRT_ERROR(loadTextSource(dir.file("flat"), TextSourceOptions{}),
                    "flat: has no class subfolders; text() expects one "
                    "subfolder per class holding one UTF-8 text file per "
                    "sample");
}

TEST_F(TextFiles, CsvColumnsWithQuotedNewlinesAndClassNames) {
  std::string path =
      write("r.csv", "id,review,sentiment\r\n"
                     "1,\"Loved it,\nreally \"\"loved\"\" it\",pos\r\n"
                     "\n"
                     "2,meh, neutral \n"
                     "3,awful,neg\n");
  TextSourceOptions o;
  o.textColumn = "review";
  o.targetColumn = "sentiment";
  Dataset d = loadTextSource(path, o);
  const DatasetStorage &s = d.store();
  EXPECT_EQ(s.texts, (std::vector<std::string>{"Loved it,\nreally \"loved\" it",
                                               "meh", "awful"}));
  EXPECT_EQ(s.classNames, (std::vector<std::string>{"neg", "neutral", "pos"}));
  EXPECT_EQ(s.labels, (std::vector<int32_t>{2, 1, 0}));
  EXPECT_EQ(s.lines, (std::vector<size_t>{2, 5, 6}));
  EXPECT_EQ(d.origin(2), "r.csv:6");
  EXPECT_EQ(textClasses(path, o), s.classNames);

  // predict: only the text column is needed.
  std::string inputs = write("in.csv", "review\nfirst\n\"second\"\n");
  EXPECT_EQ(loadTextInputs(inputs, "review").store().texts,
            (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(loadTextInputs(inputs, "review").targetKind(), TargetKind::None);
}

TEST_F(TextFiles, CsvErrorsNameFileAndLine) {
  TextSourceOptions o;
  o.textColumn = "review";
  o.targetColumn = "sentiment";
  auto load = [&](const std::string &text) {
    return loadTextSource(write("e.csv", text), o);
  };
  EXPECT_NNRT_ERROR(load("reviews,sentiment\nx,pos\n"),
                    "e.csv: no text column 'review' in the header; did you "
                    "mean 'reviews'?");
  EXPECT_NNRT_ERROR(load("review,label\nx,pos\n"),
                    "e.csv: no target column 'sentiment' in the header");
  EXPECT_NNRT_ERROR(load("review,sentiment\nx,pos\n,neg\n"),
                    "e.csv:3: empty text in column 'review'");
  EXPECT_NNRT_ERROR(load("review,sentiment\nx, \n"),
                    "e.csv:2: empty class name in column 'sentiment'");
  EXPECT_NNRT_ERROR(load("review,sentiment\nx,pos,extra\n"),
                    "e.csv:2: expected 2 fields, got 3");
  EXPECT_NNRT_ERROR(load("review,sentiment\n\"open,pos\n"),
                    "e.csv:2: unterminated quoted field");
  EXPECT_NNRT_ERROR(load("review,sentiment\nok,pos\nbad \xFF,neg\n"),
                    "e.csv: not valid UTF-8 at byte offset 28 (byte 0xff) "
                    "(line 3)");
  EXPECT_NNRT_ERROR(load(""), "e.csv: file is empty");
  o.classes = {"neg", "pos"};
  EXPECT_NNRT_ERROR(load("review,sentiment\nx,pso\n"),
                    "e.csv:2: class 'pso' is not one of the training data's "
                    "classes; did you mean 'pos'?");
  o.classes.clear();
  o.numClasses = 1;
  EXPECT_NNRT_ERROR(load("review,sentiment\nx,pos\ny,neg\n"),
                    "e.csv: 2 classes (neg, pos) but the model has 1 outputs");
}
