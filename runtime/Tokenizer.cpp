//===- Tokenizer.cpp - Text to token ids: bytes, words, bpe, pad ----------===//
#include "runtime/Tokenizer.h"

#include "runtime/Error.h"
#include "runtime/Utf8.h"

#include <oneapi/tbb/combinable.h>
#include <oneapi/tbb/parallel_for.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <utf8proc.h>

#include <algorithm>
#include <regex>
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

/// The training texts, one sentence each, for SentencePiece's trainer.
class TextIterator : public sentencepiece::SentenceIterator {
public:
  TextIterator(const std::vector<std::string> &texts,
               const std::vector<uint32_t> &rows)
      : texts(texts), rows(rows) {}
  bool done() const override { return next >= rows.size(); }
  void Next() override { ++next; }
  const std::string &value() const override { return texts[rows[next]]; }
  sentencepiece::util::Status status() const override { return {}; }

private:
  const std::vector<std::string> &texts;
  const std::vector<uint32_t> &rows;
  size_t next = 0;
};

} // namespace

std::vector<std::pair<std::string, std::string>>
bpeTrainerOptions(int64_t vocab, size_t longest) {
  // SentencePiece skips sentences longer than max_sentence_length (default
  // 4192 bytes); a sample here is a whole review, so none may be skipped.
  size_t maxLength =
      std::min<size_t>(std::max<size_t>(longest, 4192), size_t(INT32_MAX));
  return {{"model_type", "bpe"},
          {"vocab_size", std::to_string(vocab)},
          {"pad_id", "0"},
          {"unk_id", "1"},
          {"bos_id", "-1"},
          {"eos_id", "-1"},
          {"max_sentence_length", std::to_string(maxLength)},
          {"input_sentence_size", "0"}, // every sentence: no sampling
          {"num_threads", "1"},
          {"minloglevel", "2"}}; // errors come back as a status
}

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
  if (opts.kind == TokenizerOptions::Kind::Bpe)
    return "bpe(vocab = " + std::to_string(opts.vocab) + ")" + pad;
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

std::string Tokenizer::setBpeModel(std::string proto) {
  auto processor = std::make_shared<sentencepiece::SentencePieceProcessor>();
  sentencepiece::util::Status status =
      processor->LoadFromSerializedProto(proto);
  if (!status.ok())
    return "is not a SentencePiece model (" + status.ToString() + ")";
  if (processor->GetPieceSize() != opts.vocab || processor->pad_id() != 0 ||
      processor->unk_id() != kUnknown)
    return "is a SentencePiece model of " +
           std::to_string(processor->GetPieceSize()) + " pieces, pad id " +
           std::to_string(processor->pad_id()) + " and unknown id " +
           std::to_string(processor->unk_id()) + "; expected " +
           std::to_string(opts.vocab) + ", 0 and 1";
  bpeProto = std::move(proto);
  bpe = std::move(processor);
  fitted = true;
  return "";
}

std::string Tokenizer::piece(int32_t id) const {
  if (!bpe || id < 0 || id >= bpe->GetPieceSize())
    return "";
  return bpe->IdToPiece(id);
}

void Tokenizer::fit(const Dataset &train) {
  if (opts.kind == TokenizerOptions::Kind::Bytes)
    return;
  const DatasetStorage &store = train.store();
  if (store.featureType != FeatureType::Text)
    throw Error("internal: " + baseName(store.source) +
                ": the tokenizer fits on text samples");
  if (opts.kind == TokenizerOptions::Kind::Bpe) {
    const std::vector<uint32_t> &rows = train.sampleIndices();
    size_t longest = 0;
    for (uint32_t i : rows)
      longest = std::max(longest, store.texts[i].size());
    std::unordered_map<std::string, std::string> args;
    for (auto &[key, value] : bpeTrainerOptions(opts.vocab, longest))
      args[key] = value;
    TextIterator sentences(store.texts, rows);
    std::string proto;
    sentencepiece::util::Status status =
        sentencepiece::SentencePieceTrainer::Train(args, &sentences, &proto);
    std::string what = "dataset '" + opts.dataset + "': ";
    std::string vocab = "bpe(vocab = " + std::to_string(opts.vocab) + ")";
    if (!status.ok()) {
      // SentencePiece's two limits, said in the program's words.
      std::string message = status.ToString();
      std::smatch m;
      if (std::regex_search(message, m,
                            std::regex("set it to a value <= ([0-9]+)")))
        throw Error(what + "the training split (" +
                    std::to_string(rows.size()) + " texts) is too small for " +
                    vocab + ": SentencePiece makes at most " + m.str(1) +
                    " pieces of it; use a smaller vocab (at most " + m.str(1) +
                    ") or more training text");
      if (std::regex_search(message, m,
                            std::regex("required_chars\\. ([0-9]+) vs "
                                       "([0-9]+)")))
        throw Error(what + vocab + " is smaller than the " + m.str(2) +
                    " pieces SentencePiece needs for the training split's "
                    "characters, the word start and <pad>, <unk>; use a vocab "
                    "of at least " +
                    m.str(2));
      throw Error(what + "SentencePiece could not train " + vocab + ": " +
                  message);
    }
    std::string error = setBpeModel(std::move(proto));
    if (!error.empty())
      throw Error("internal: " + what + "the trained model " + error);
    return;
  }
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
  if (opts.kind == TokenizerOptions::Kind::Bpe) {
    std::vector<int> pieces;
    sentencepiece::util::Status status = bpe->Encode(text, &pieces);
    if (!status.ok())
      throw Error("SentencePiece could not encode a text: " +
                  status.ToString());
    for (size_t k = 0; k < pieces.size() && out.size() < limit; ++k)
      out.push_back(int32_t(pieces[k]));
    return;
  }
  forEachWord(text, opts.lowercase, [&](const std::string &w) {
    auto it = ids.find(w);
    out.push_back(it == ids.end() ? kUnknown : it->second);
    return out.size() < limit;
  });
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  std::string text;
  if (opts.kind == TokenizerOptions::Kind::Bpe) {
    std::vector<int> pieces;
    for (int32_t id : ids)
      if (id != kPadding)
        pieces.push_back(id);
    if (bpe && !bpe->Decode(pieces, &text).ok())
      throw Error("SentencePiece could not decode generated ids");
    return text;
  }
  for (int32_t id : ids) {
    if (id == kPadding)
      continue;
    if (opts.kind == TokenizerOptions::Kind::Bytes)
      text += static_cast<char>(id - 1);
    else if (id == kUnknown || size_t(id - 2) >= vocabulary.size())
      text += "<unk> ";
    else
      text += vocabulary[size_t(id - 2)] + " ";
  }
  return text;
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
  out->copySamplesOf(texts);
  size_t length = size_t(opts.length);
  out->featureShape = {opts.length};
  out->featureSize = length;
  out->featureType = FeatureType::I32;
  out->i32.assign(texts.numSamples * length, kPadding);
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
                  (opts.kind != TokenizerOptions::Kind::Words
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
  if (opts.kind == TokenizerOptions::Kind::Bpe)
    return {
        TensorData::u8(prefix + "bpe_model", {int64_t(bpeProto.size())},
                       std::vector<uint8_t>(bpeProto.begin(), bpeProto.end()))};
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
  if (opts.kind == TokenizerOptions::Kind::Bpe) {
    std::string tensor = prefix + "bpe_model";
    std::vector<uint8_t> bytes = file.uint8s(tensor);
    std::string error = setBpeModel(std::string(bytes.begin(), bytes.end()));
    if (!error.empty())
      throw Error(name + ": tensor '" + tensor + "' " + error);
    return;
  }
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
