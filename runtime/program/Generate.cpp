//===- Generate.cpp - ./model generate: sampling from a language model ----===//
//
// A language model takes i32[T] token ids and gives [T, V] logits, row t
// predicting the token after position t. `generate` keeps the last T
// tokens of the prompt and of what it wrote as the context (at positions
// 0..n-1, padding after, which a causal model never reads), takes the
// generated predict entry point's probabilities at position n-1 and draws
// the next token (never padding, id 0): with temperature 0 the most
// probable one (the first among ties, as torch.argmax), else from softmax(log p / temperature)
// restricted to the top k (k = 0: all), with the run's Rng(seed).
//
// With the compiled nnc_decode (a model of per-position layers and causal
// attention) each new token costs one position: the KV cache holds every
// attention layer's keys and values of the context, and the prompt's last
// T tokens are fed one position at a time first. Positions are absolute,
// so a full window (T tokens) cannot slide by one: the cache is rebuilt
// from the last T/2 tokens and generation goes on, the context being T/2
// to T tokens from then on. `--no-cache` (or a model without nnc_decode)
// runs the whole window of the last T tokens per token instead, exactly
// as `predict`. `predict` on a language
// model gives, for each input text, the next token's probabilities after
// its last T tokens, so that greedy generation is predict's argmax.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/Rng.h"
#include "runtime/SafeTensors.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Checkpoint.h"
#include "runtime/program/Commands.h"
#include "runtime/program/Data.h"
#include "runtime/program/Evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace nnrt {

namespace {

/// The next token from the probabilities `p` of one position (never the
/// padding id 0, which no text holds).
int32_t draw(const float *p, size_t vocab, const GenerateOptions &opts,
             Rng &rng) {
  if (opts.temperature == 0)
    return mostProbableToken(p, vocab);
  std::vector<int32_t> order(vocab - 1);
  std::iota(order.begin(), order.end(), 1);
  size_t keep = opts.topK > 0 ? std::min<size_t>(size_t(opts.topK), vocab - 1)
                              : vocab - 1;
  std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                    [&](int32_t a, int32_t b) {
                      return p[a] > p[b] || (p[a] == p[b] && a < b);
                    });
  order.resize(keep);
  // softmax(log p / t) = p^(1/t) / sum, computed relative to the largest.
  std::vector<double> weight(keep);
  double top = std::log(std::max<double>(p[order[0]], 1e-45));
  double sum = 0;
  for (size_t k = 0; k < keep; ++k) {
    double lp = p[order[k]] > 0 ? std::log(double(p[order[k]])) : -INFINITY;
    weight[k] = std::exp((lp - top) / opts.temperature);
    sum += weight[k];
  }
  double u = rng.uniform() * sum;
  for (size_t k = 0; k < keep; ++k) {
    u -= weight[k];
    if (u < 0)
      return order[k];
  }
  return order[keep - 1];
}

} // namespace

int32_t mostProbableToken(const float *p, size_t vocab) {
  return int32_t(std::max_element(p + 1, p + vocab) - p);
}

bool isLanguageModel(const RunConfig &cfg) {
  return cfg.tokenInput() && cfg.inputShape.size() == 1 &&
         cfg.labelsPerSample() > 1 &&
         cfg.labelsPerSample() == cfg.inputShape[0];
}

LanguageModel::LanguageModel(const RunConfig &cfg, const std::string &weights)
    : cfg(cfg), window(size_t(cfg.inputShape[0])),
      vocab(size_t(cfg.numClasses())), buf(cfg),
      probs(buf.result.size()) {
  tokenizer = makeTokenizer(cfg);
  if (!tokenizer)
    throw UsageError("run '" + cfg.run + "' has no tokenizer to read text");
  state.assign(size_t(cfg.stateSize), 0.0f);
  SafeTensorsFile file = SafeTensorsFile::read(weights);
  readCheckpoint(cfg, file, state, /*full=*/false);
  tokenizer->restore(file);
  residentState = std::make_unique<DeviceResident>(state);
}

bool LanguageModel::canDecode() const {
  return cfg.decodeCache > 0 && nnc_decode != nullptr;
}

const float *LanguageModel::step(int32_t token, int32_t position) {
  if (cache.empty()) {
    cache.assign(size_t(cfg.decodeCache), 0.0f);
    residentCache = std::make_unique<DeviceResident>(cache);
  }
  decoded.resize(vocab);
  nnc_decode(state.data(), cache.data(), &token, &position, decoded.data());
  return decoded.data();
}

const float *LanguageModel::next(const std::vector<std::vector<int32_t>> &texts,
                                 std::vector<size_t> &rows) {
  std::fill(buf.tokens.begin(), buf.tokens.end(), 0);
  rows.clear();
  for (size_t r = 0; r < texts.size(); ++r) {
    const std::vector<int32_t> &ids = texts[r];
    size_t n = std::min(ids.size(), window);
    std::copy(ids.end() - long(n), ids.end(),
              buf.tokens.begin() + long(r * window));
    rows.push_back((r * window + std::max<size_t>(n, 1) - 1) * vocab);
  }
  nnc_predict(state.data(), buf.input(), probs.data());
  return probs.data();
}

int generate(const RunConfig &cfg, const GenerateOptions &opts) {
  if (!isLanguageModel(cfg))
    throw UsageError("generate: model '" + cfg.modelName +
                     "' is not a language model (input i32[T], output "
                     "[T, V] logits under cross_entropy)");
  if (!(opts.temperature >= 0))
    throw UsageError("--temperature must be 0 (greedy) or more");
  LanguageModel lm(cfg, opts.weights);
  std::vector<std::vector<int32_t>> ids{lm.tokens().encode(opts.prompt)};
  if (ids[0].empty())
    throw UsageError("--prompt \"" + opts.prompt +
                     "\" has no tokens: give at least one");
  Rng rng(static_cast<uint64_t>(opts.seed));
  std::fwrite(opts.prompt.data(), 1, opts.prompt.size(), stdout);
  std::vector<int32_t> &text = ids[0];
  size_t window = lm.windowSize();
  bool cached = opts.cache && lm.canDecode();
  // The KV cache: feeds text[from..] at positions 0.. and returns the
  // probabilities after the last; `position` is the next free one.
  int32_t position = 0;
  auto refill = [&](size_t keep) {
    const float *p = nullptr;
    size_t from = text.size() - std::min(keep, text.size());
    for (position = 0; from + size_t(position) < text.size(); ++position)
      p = lm.step(text[from + size_t(position)], position);
    return p;
  };
  const float *probs = cached ? refill(window) : nullptr;
  // SentencePiece decodes a piece differently at the start of a text ("▁is"
  // -> "is"): bpe prints what decoding the whole text adds; bytes and words
  // decode token by token.
  bool bpe = lm.tokens().options().kind == TokenizerOptions::Kind::Bpe;
  size_t printed = bpe ? lm.tokens().decode(text).size() : 0;
  std::vector<size_t> rows;
  for (int64_t k = 0; k < opts.tokens; ++k) {
    const float *p = cached ? probs : lm.next(ids, rows) + rows[0];
    int32_t next = draw(p, lm.vocabSize(), opts, rng);
    text.push_back(next);
    std::string piece = lm.tokens().decode({next});
    if (bpe) {
      std::string all = lm.tokens().decode(text);
      piece = all.size() > printed ? all.substr(printed) : std::string();
      printed = std::max(printed, all.size());
    }
    // fwrite: a byte-level model may write NUL bytes.
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    if (!cached || k + 1 == opts.tokens)
      continue;
    probs = size_t(position) < window ? lm.step(next, position++)
                                      : refill(window / 2);
  }
  std::fputs("\n", stdout);
  return Ok;
}

} // namespace nnrt
