//===- Tokenizer.cpp - Text to token ids: bytes, words, pad ---------------===//
#include "runtime/Tokenizer.h"

#include "runtime/Error.h"
#include "runtime/Utf8.h"

#include <oneapi/tbb/combinable.h>
#include <oneapi/tbb/parallel_for.h>
#include <utf8proc.h>

#include <algorithm>
#include <unordered_set>

namespace nnrt {

namespace {

bool isApostrophe(char32_t c) { return c == U'\'' || c == U'\u2019'; }

bool isWordCodePoint(char32_t c) {
  if (isApostrophe(c))
    return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
  case UTF8PROC_CATEGORY_MN:
  case UTF8PROC_CATEGORY_MC:
  case UTF8PROC_CATEGORY_ME:
  case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL:
  case UTF8PROC_CATEGORY_NO:
    return true;
  default:
    return false;
  }
}

/// Calls word(w) for every word of `text`, in order; stops when it returns
/// false.
template <typename F>
void forEachWord(const std::string &text, bool lowercase, F &&word) {
  std::u32string run;
  std::string utf8;
  auto flush = [&] {
    size_t begin = 0, end = run.size();
    while (begin < end && isApostrophe(run[begin]))
      ++begin;
    while (end > begin && isApostrophe(run[end - 1]))
      --end;
    if (begin == end) {
      run.clear();
      return true;
    }
    utf8.clear();
    for (size_t k = begin; k < end; ++k) {
      char32_t c = run[k];
      if (isApostrophe(c))
        c = U'\'';
      else if (lowercase)
        c = static_cast<char32_t>(
            utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
      appendUtf8(utf8, c);
    }
    run.clear();
    return word(utf8);
  };
  for (size_t i = 0; i < text.size();) {
    char32_t c = nextCodePoint(text, i);
    if (isWordCodePoint(c))
      run += c;
    else if (!run.empty() && !flush())
      return;
  }
  if (!run.empty())
    flush();
}

} // namespace

std::vector<std::string> splitWords(const std::string &text, bool lowercase) {
  std::vector<std::string> words;
  forEachWord(text, lowercase, [&](const std::string &w) {
    words.push_back(w);
    return true;
  });
  return words;
}

Tokenizer::Tokenizer(TokenizerOptions options) : opts(options) {
  if (opts.kind == TokenizerOptions::Kind::Bytes)
    opts.vocab = 257;
  if (opts.vocab < 3 || opts.vocab > INT32_MAX || opts.length < 1)
    throw Error("tokenize: bad settings " + describe());
  fitted = opts.kind == TokenizerOptions::Kind::Bytes;
}

std::string Tokenizer::describe() const {
  std::string pad = " pad(" + std::to_string(opts.length) + ")";
  if (opts.kind == TokenizerOptions::Kind::Bytes)
    return "bytes" + pad;
  return "words(vocab = " + std::to_string(opts.vocab) +
         ", lowercase = " + (opts.lowercase ? "true" : "false") + ")" + pad;
}

void Tokenizer::setVocabulary(std::vector<std::string> words) {
  vocabulary = std::move(words);
  ids.clear();
  ids.reserve(vocabulary.size());
  for (size_t k = 0; k < vocabulary.size(); ++k)
    ids.emplace(vocabulary[k], int32_t(k + 2));
  fitted = true;
}

void Tokenizer::fit(const Dataset &train) {
  if (opts.kind == TokenizerOptions::Kind::Bytes)
    return;
  const DatasetStorage &store = train.store();
  if (store.featureType != FeatureType::Text)
    throw Error("internal: " + baseName(store.source) +
                ": the tokenizer fits on text samples");
  using Counts = std::unordered_map<std::string, int64_t>;
  tbb::combinable<Counts> partial;
  const std::vector<uint32_t> &samples = train.sampleIndices();
  tbb::parallel_for(size_t(0), samples.size(), [&](size_t i) {
    Counts &counts = partial.local();
    forEachWord(store.texts[samples[i]], opts.lowercase,
                [&](const std::string &w) {
                  ++counts[w];
                  return true;
                });
  });
  Counts total;
  partial.combine_each([&](const Counts &counts) {
    for (const auto &[word, n] : counts)
      total[word] += n;
  });
  std::vector<std::pair<std::string, int64_t>> ranked(total.begin(),
                                                      total.end());
  // Most frequent first; equal counts in code point (= UTF-8 byte) order.
  std::sort(ranked.begin(), ranked.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  size_t keep = std::min(ranked.size(), size_t(opts.vocab - 2));
  std::vector<std::string> words;
  words.reserve(keep);
  for (size_t k = 0; k < keep; ++k)
    words.push_back(std::move(ranked[k].first));
  setVocabulary(std::move(words));
}

void Tokenizer::encodeInto(const std::string &text, std::vector<int32_t> &out,
                           size_t limit) const {
  if (opts.kind == TokenizerOptions::Kind::Bytes) {
    for (size_t k = 0; k < text.size() && out.size() < limit; ++k)
      out.push_back(int32_t(static_cast<unsigned char>(text[k])) + 1);
    return;
  }
  forEachWord(text, opts.lowercase, [&](const std::string &w) {
    auto it = ids.find(w);
    out.push_back(it == ids.end() ? kUnknown : it->second);
    return out.size() < limit;
  });
}

std::vector<int32_t> Tokenizer::encode(const std::string &text) const {
  if (!fitted)
    throw Error("internal: tokenizer used before fit or restore");
  std::vector<int32_t> out;
  encodeInto(text, out, SIZE_MAX);
  return out;
}

std::shared_ptr<const DatasetStorage>
Tokenizer::tokenize(const DatasetStorage &texts) const {
  if (!fitted)
    throw Error("internal: tokenizer used before fit or restore");
  if (texts.featureType != FeatureType::Text)
    throw Error("internal: " + baseName(texts.source) +
                ": tokenize needs text samples");
  auto out = std::make_shared<DatasetStorage>();
  out->source = texts.source;
  size_t length = size_t(opts.length);
  out->featureShape = {opts.length};
  out->featureSize = length;
  out->featureType = FeatureType::I32;
  out->i32.assign(texts.numSamples * length, kPadding);
  out->targetKind = texts.targetKind;
  out->numClasses = texts.numClasses;
  out->targetWidth = texts.targetWidth;
  out->labels = texts.labels;
  out->targets = texts.targets;
  out->targetNames = texts.targetNames;
  out->classNames = texts.classNames;
  out->paths = texts.paths;
  out->lines = texts.lines;
  out->numSamples = texts.numSamples;
  Dataset view(out); // for each sample's origin in messages
  std::vector<char> empty(texts.numSamples, 0);
  tbb::parallel_for(size_t(0), texts.numSamples, [&](size_t i) {
    std::vector<int32_t> ids;
    ids.reserve(length);
    encodeInto(texts.texts[i], ids, length);
    std::copy(ids.begin(), ids.end(), out->i32.begin() + i * length);
    empty[i] = ids.empty();
  });
  for (size_t i = 0; i < texts.numSamples; ++i)
    if (empty[i])
      throw Error(view.origin(i) +
                  (opts.kind == TokenizerOptions::Kind::Bytes
                       ? ": empty text"
                       : ": no words in this text (a word is a run of "
                         "letters, digits and apostrophes)"));
  return out;
}

std::vector<TensorData> Tokenizer::state(const std::string &prefix) const {
  if (!fitted)
    throw Error("internal: tokenizer saved before fit");
  if (opts.kind == TokenizerOptions::Kind::Bytes)
    return {};
  std::vector<uint8_t> bytes;
  for (const std::string &w : vocabulary) {
    bytes.insert(bytes.end(), w.begin(), w.end());
    bytes.push_back('\n');
  }
  int64_t size = int64_t(bytes.size());
  return {TensorData::u8(prefix + "vocab", {size}, std::move(bytes))};
}

void Tokenizer::restore(const SafeTensorsFile &file,
                        const std::string &prefix) {
  const std::string &name = file.fileName();
  auto meta = file.metadata().find("tokenize");
  // Bytes need no vocabulary: parameters from elsewhere (PyTorch) load.
  if (meta == file.metadata().end() &&
      opts.kind == TokenizerOptions::Kind::Bytes)
    return;
  if (meta == file.metadata().end())
    throw Error(name + ": the checkpoint holds no tokenizer (metadata "
                       "'tokenize'); was it made by another model?");
  if (meta->second != describe())
    throw Error(name + ": the checkpoint's tokenizer '" + meta->second +
                "' differs from this program's '" + describe() + "'");
  if (opts.kind == TokenizerOptions::Kind::Bytes)
    return;
  std::string tensor = prefix + "vocab";
  std::vector<uint8_t> bytes = file.uint8s(tensor);
  std::string text(bytes.begin(), bytes.end());
  auto bad = [&](const std::string &why) {
    return Error(name + ": tensor '" + tensor + "' " + why);
  };
  if (invalidUtf8Offset(text) != std::string::npos)
    throw bad("is not UTF-8 text");
  if (!text.empty() && text.back() != '\n')
    throw bad("does not end with a newline");
  std::vector<std::string> words;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    words.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  if (int64_t(words.size()) > opts.vocab - 2)
    throw bad("holds " + std::to_string(words.size()) + " words; vocabulary " +
              std::to_string(opts.vocab) + " has room for " +
              std::to_string(opts.vocab - 2));
  std::unordered_set<std::string> seen;
  for (const std::string &w : words)
    if (w.empty() || !seen.insert(w).second)
      throw bad(w.empty() ? "holds an empty word"
                          : "holds the word '" + w + "' twice");
  setVocabulary(std::move(words));
}

} // namespace nnrt
