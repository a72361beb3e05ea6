//===- Evaluate.cpp - Batch buffers, scores and evaluation ----------------===//
#include "runtime/program/Evaluate.h"
#include "runtime/Cuda.h"
#include "runtime/Error.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Data.h"

#include <algorithm>
#include <cmath>
#include <chrono>

namespace nnrt {

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

Buffers::Buffers(const RunConfig &cfg)
    : rows(cfg.batch), in(cfg.inputSize()), out(cfg.outputSize()),
      width(cfg.classTargets ? 1 : cfg.outputSize()),
      tokenInput(cfg.tokenInput()) {
  if (tokenInput)
    tokens.assign(rows * in, 0);
  else
    x.assign(rows * in, 0.0f);
  mask.assign(rows, 0.0f);
  labels.assign(rows * cfg.labelsPerSample(), 0);
  targets.assign(rows * width, 0.0f);
  result.assign(2 + rows * out, 0.0f);
}

void Buffers::load(const Batch &b, bool classTargets, bool borrowInput) {
  // Rows past the batch's count are padding: zero, mask 0.
  size_t n = std::min<size_t>(b.count, rows);
  if (tokenInput != !b.tokens.empty() && b.count > 0)
    throw Error(std::string("internal: a batch of ") +
                (tokenInput ? "features" : "token ids") + " for a model of " +
                (tokenInput ? "token ids" : "features"));
  // The loader's batch is already B rows with zero padding: the entry
  // point reads it where it is (a batch of 256 images: 0.8 MB a step not
  // copied).
  borrowed = nullptr;
  if (borrowInput && b.rows == size_t(rows) && b.count > 0) {
    if (tokenInput && b.tokens.size() == tokens.size())
      borrowed = b.tokens.data();
    else if (!tokenInput && b.x.size() == x.size())
      borrowed = b.x.data();
  }
  if (!borrowed && tokenInput)
    std::fill(std::copy(b.tokens.begin(), b.tokens.begin() + n * in,
                        tokens.begin()),
              tokens.end(), 0);
  else if (!borrowed)
    std::fill(std::copy(b.x.begin(), b.x.begin() + n * in, x.begin()),
              x.end(), 0.0f);
  std::fill(std::copy(b.mask.begin(), b.mask.begin() + n, mask.begin()),
            mask.end(), 0.0f);
  if (classTargets) {
    size_t perRow = labels.size() / size_t(rows);
    std::fill(std::copy(b.labels.begin(), b.labels.begin() + n * perRow,
                        labels.begin()),
              labels.end(), 0);
  } else if (!b.targets.empty()) {
    std::fill(std::copy(b.targets.begin(), b.targets.begin() + n * width,
                        targets.begin()),
              targets.end(), 0.0f);
  }
}

Scores::Scores(const RunConfig &cfg) {
  if (cfg.isClassifier())
    classes = std::make_unique<ClassificationMetrics>(cfg.numClasses());
  else
    values = std::make_unique<RegressionMetrics>(cfg.outputSize());
}

void Scores::add(const RunConfig &cfg, const Buffers &buf, const float *preds,
                 double loss, size_t count) {
  lossSum += loss * count;
  samples += count;
  size_t rows = static_cast<size_t>(buf.rows);
  if (classes && cfg.loss == "binary_cross_entropy")
    classes->addBinaryLogits(preds, buf.targets.data(), buf.mask.data(), rows);
  else if (classes && cfg.labelsPerSample() > 1) {
    // A label per position: each position of a real row is one prediction.
    size_t positions = size_t(cfg.labelsPerSample());
    std::vector<float> mask(rows * positions);
    for (size_t r = 0; r < rows; ++r)
      std::fill_n(mask.begin() + r * positions, positions, buf.mask[r]);
    classes->addLogits(preds, size_t(cfg.numClasses()), buf.labels.data(),
                       mask.data(), rows * positions);
  } else if (classes)
    classes->addLogits(preds, cfg.outputSize(), buf.labels.data(),
                       buf.mask.data(), rows);
  else
    values->add(preds, buf.targets.data(), buf.mask.data(), rows);
}

void Scores::reduce(Mpi &mpi) {
  if (!mpi.active())
    return;
  std::vector<double> sums{lossSum, double(samples)};
  std::vector<double> counts = classes ? classes->counts() : values->counts();
  sums.insert(sums.end(), counts.begin(), counts.end());
  mpi.sum(sums.data(), sums.size());
  lossSum = sums[0];
  samples = size_t(sums[1]);
  if (classes)
    classes->setCounts(sums.data() + 2);
  else
    values->setCounts(sums.data() + 2);
}

std::vector<std::pair<std::string, double>>
Scores::metrics(const std::vector<std::string> &names) const {
  std::vector<std::pair<std::string, double>> out;
  for (const std::string &n : names) {
    double v = 0;
    if (n == "perplexity") // exp of the mean cross-entropy
      out.emplace_back(n, std::exp(loss()));
    else if (n != "confusion" &&
             metricValue(n, classes.get(), values.get(), v))
      out.emplace_back(n, v);
  }
  return out;
}

const std::vector<std::vector<int64_t>> *
Scores::confusion(const std::vector<std::string> &names) const {
  if (!classes ||
      std::find(names.begin(), names.end(), "confusion") == names.end())
    return nullptr;
  return &classes->confusion();
}

LoaderOptions loaderOptions(const RunConfig &cfg, int64_t batch, bool training,
                            const Mpi *mpi) {
  LoaderOptions o;
  o.batchSize = static_cast<size_t>(batch);
  o.shuffle = training && cfg.data.shuffle;
  o.dropLast = training && cfg.data.dropLast;
  if (mpi) {
    o.shards = size_t(mpi->size());
    o.shard = size_t(mpi->rank());
  }
  return o;
}

Scores evaluate(const RunConfig &cfg, std::vector<float> &state,
                const Dataset &data, const Preprocessor &pre, Mpi *mpi) {
  Scores scores(cfg);
  BatchLoader loader(data, pre, loaderOptions(cfg, cfg.batch, false, mpi));
  std::unique_ptr<Augmenter> crop = evalCropFor(cfg, data);
  loader.setEvalCrop(crop.get());
  loader.beginEpoch();
  Prefetcher prefetch(loader);
  Buffers buf(cfg);
  Batch batch;
  // --target cuda: the state stays on the device for the whole split.
  DeviceResident resident(state);
  while (prefetch.next(batch)) {
    if (batch.count == 0) // this rank's share of a partial last batch
      continue;
    buf.load(batch, cfg.classTargets, /*borrowInput=*/true);
    nnc_eval(state.data(), buf.input(), buf.y(cfg.classTargets),
             buf.mask.data(), buf.result.data());
    scores.add(cfg, buf, buf.result.data() + 1, buf.result[0], batch.count);
  }
  if (mpi)
    scores.reduce(*mpi);
  return scores;
}

} // namespace nnrt
