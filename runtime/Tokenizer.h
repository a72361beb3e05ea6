//===- Tokenizer.h - Text to token ids: bytes, words, bpe, pad --*- C++ -*-===//
//
// The `tokenize { }` section of a dataset (SPEC 2.7). Ids: 0 is padding,
// which the generated code masks out; then
//   bytes   id = UTF-8 byte + 1 (1..256; vocabulary 257);
//   words   1 = unknown, 2.. = the (vocab - 2) most frequent words of the
//           training split, by count descending, ties by code point order;
//   bpe     a SentencePiece BPE model of exactly vocab pieces trained on
//           the training split (0 = <pad>, 1 = <unk>, no BOS/EOS).
// pad(T) cuts each sample to its first T ids or pads it at the end with 0.
//
// Words: a word is a maximal run of code points that are Unicode letters,
// marks or numbers (general categories L*, M*, N*, from utf8proc) or
// apostrophes (U+0027 ', U+2019 ’, the latter read as '), with apostrophes
// at either end removed: "Don’t stop!" -> ["Don't", "stop"]. With lowercase,
// each code point takes its simple lowercase mapping (utf8proc_tolower).
// There is no Unicode normalization: "é" precomposed and "e" + U+0301 are
// different words.
//
// Tokenizing happens once, after loading (every sample, on oneTBB threads);
// batches then copy the cached ids. The vocabulary is saved in checkpoints
// (tensor "tokenize.vocab": the words in id order, each followed by '\n')
// with a description (metadata "tokenize"), so eval and predict restore it;
// bpe saves its serialized SentencePiece model (tensor "tokenize.bpe_model").
//
// Bpe trains with SentencePiece's defaults (nmt_nfkc normalization,
// character_coverage 0.9995, max_sentencepiece_length 16) except: every
// training text is one sentence (max_sentence_length is raised to the
// longest), all of them are used (no sampling, so no randomness), one thread,
// and the ids above. bpeTrainerOptions() is that list, for reference tests.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_TOKENIZER_H
#define NNRT_TOKENIZER_H

#include "runtime/Dataset.h"
#include "runtime/SafeTensors.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
} // namespace sentencepiece

namespace nnrt {

struct TokenizerOptions {
  enum class Kind { Bytes, Words, Bpe };
  Kind kind = Kind::Bytes;
  int64_t vocab = 257;   ///< every id is below it (bytes: 257)
  bool lowercase = true; ///< words
  int64_t length = 1;    ///< pad(T)
  std::string dataset;   ///< the dataset's name, for messages
};

/// SentencePiece's trainer settings for bpe(vocab) on texts whose longest
/// is `longest` bytes (besides the sentences themselves).
std::vector<std::pair<std::string, std::string>>
bpeTrainerOptions(int64_t vocab, size_t longest);

/// The words of `text` (valid UTF-8) by the rule above.
std::vector<std::string> splitWords(const std::string &text, bool lowercase);

class Tokenizer {
public:
  static constexpr int32_t kPadding = 0;
  static constexpr int32_t kUnknown = 1; ///< words, bpe

  explicit Tokenizer(TokenizerOptions options);
  const TokenizerOptions &options() const { return opts; }

  /// words: builds the vocabulary from the samples of `train` (a Text
  /// dataset), counting on oneTBB threads; bpe: trains the SentencePiece
  /// model on them (a training split too small for the vocabulary is an
  /// nnrt::Error naming the dataset); bytes: nothing to learn.
  void fit(const Dataset &train);
  bool ready() const { return fitted; }

  /// The ids of one text, neither cut nor padded.
  std::vector<int32_t> encode(const std::string &text) const;
  /// The text of ids (generation): bytes: the bytes; words: the words, each
  /// followed by a space ("<unk>" for the unknown id); bpe: SentencePiece's
  /// decoding. Padding decodes to nothing.
  std::string decode(const std::vector<int32_t> &ids) const;

  /// Every sample of a Text storage as `length` ids: an I32 storage with
  /// the same targets, class names, paths and lines, tokenized once on
  /// oneTBB threads. A sample without tokens (words: no word at all) is an
  /// nnrt::Error naming it, the first in sample order.
  std::shared_ptr<const DatasetStorage>
  tokenize(const DatasetStorage &texts) const;

  /// words: the vocabulary in id order, from id 2 (may be shorter than
  /// vocab - 2 when the training split has fewer distinct words).
  const std::vector<std::string> &words() const { return vocabulary; }

  /// bpe: the serialized SentencePiece model (ModelProto).
  const std::string &bpeModel() const { return bpeProto; }
  /// bpe: the piece of an id ("▁the").
  std::string piece(int32_t id) const;

  /// "words(vocab = 20000, lowercase = true) pad(200)", "bytes pad(16)",
  /// "bpe(vocab = 8000) pad(200)".
  std::string describe() const;
  /// The learned vocabulary as tensors (words: "<prefix>vocab", bpe:
  /// "<prefix>bpe_model").
  std::vector<TensorData> state(const std::string &prefix = "tokenize.") const;
  /// Restores what state() saved; checks the checkpoint's metadata
  /// "tokenize" against describe(). Errors name the checkpoint.
  void restore(const SafeTensorsFile &file,
               const std::string &prefix = "tokenize.");

private:
  void setVocabulary(std::vector<std::string> words);
  /// Loads a serialized SentencePiece model; the error text, or "".
  std::string setBpeModel(std::string proto);
  /// Appends text's ids to `ids`, stopping at `limit` ids.
  void encodeInto(const std::string &text, std::vector<int32_t> &ids,
                  size_t limit) const;

  TokenizerOptions opts;
  bool fitted = false;
  std::vector<std::string> vocabulary;
  std::unordered_map<std::string, int32_t> ids;
  std::string bpeProto;
  std::shared_ptr<const sentencepiece::SentencePieceProcessor> bpe;
};

} // namespace nnrt

#endif // NNRT_TOKENIZER_H
