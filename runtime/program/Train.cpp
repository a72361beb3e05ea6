//===- Train.cpp - The training loop --------------------------------------===//
//
// Epochs of nnc_train over prefetched batches, then validation, the epoch's
// log line, early stopping and the checkpoints; a diverging loss stops the
// run and keeps the last good checkpoint.
//
//===----------------------------------------------------------------------===//
#include "runtime/Augment.h"
#include "runtime/Batch.h"
#include "runtime/Cuda.h"
#include "runtime/Error.h"
#include "runtime/Log.h"
#include "runtime/SafeTensors.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Checkpoint.h"
#include "runtime/program/Commands.h"
#include "runtime/program/Evaluate.h"
#include "runtime/program/Finetune.h"
#include "runtime/program/Init.h"
#include "runtime/program/Mpi.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

namespace fs = std::filesystem;

namespace nnrt {
namespace {

/// `early_stopping`: stops after `patience` epochs in which the monitored
/// value (val_loss, train_loss or a configured metric, `val_` prefix
/// allowed) did not improve by more than `min_delta`. Its count lives in
/// the checkpoint's progress so that a resumed run continues it.
class EarlyStopping {
public:
  EarlyStopping(const EarlyStoppingConfig &config, const Progress &progress)
      : config(config),
        best(config.maximize ? -std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::infinity()) {
    if (std::isfinite(progress.bestMonitored)) // resumed
      best = progress.bestMonitored;
  }

  /// Records an epoch; true when the run should stop after it.
  bool update(const EpochRecord &record, Progress &progress) {
    if (!config.enabled)
      return false;
    double value = monitored(record);
    bool improved = config.maximize ? value > best + config.minDelta
                                    : value < best - config.minDelta;
    if (improved) {
      best = value;
      progress.bestMonitored = value;
      progress.badEpochs = 0;
      return false;
    }
    return ++progress.badEpochs >= std::max<int64_t>(config.patience, 1);
  }

private:
  double monitored(const EpochRecord &record) const {
    const std::string &monitor = config.monitor;
    double value = std::numeric_limits<double>::quiet_NaN();
    if (monitor == "val_loss" && record.valLoss)
      value = *record.valLoss;
    else if (monitor == "train_loss" || monitor == "loss")
      value = record.trainLoss;
    for (const auto &[name, v] : record.metrics)
      if (monitor == name || monitor == "val_" + name)
        value = v;
    return value;
  }

  const EarlyStoppingConfig &config;
  double best;
};

/// The training batches as a stream of data epochs: a run in epochs starts
/// each epoch itself; a run in steps reads on across epoch ends. It knows
/// where to resume (Progress::dataEpoch, dataBatch, rng).
class DataStream {
public:
  explicit DataStream(BatchLoader &loader) : loader(loader) {}

  /// Begins data epoch `epoch` (its shuffle consumes the loader's Rng),
  /// skipping its first `skip` batches.
  void start(int64_t epoch, int64_t skip) {
    prefetch.reset();
    rngAtStart = loader.rng().saveState();
    loader.beginEpoch(static_cast<uint64_t>(epoch));
    dataEpoch = epoch;
    used = skip;
    prefetch = std::make_unique<Prefetcher>(loader, 3, size_t(skip));
  }

  /// The next batch; at the end of an epoch, false, or with `onward` the
  /// next epoch's first batch.
  bool next(Batch &b, bool onward) {
    if (!prefetch)
      start(1, 0);
    if (!prefetch->next(b)) {
      if (!onward)
        return false;
      start(dataEpoch + 1, 0);
      if (!prefetch->next(b))
        return false;
    }
    ++used;
    return true;
  }

  /// The rows of one batch of the stream (all ranks' together).
  int64_t rows() const {
    return static_cast<int64_t>(loader.options().batchSize *
                                loader.options().shards);
  }

  /// Whether the current data epoch's batches are all used.
  bool epochDone() const {
    return prefetch && used >= static_cast<int64_t>(loader.numBatches());
  }

  /// Records where the data resumes: mid-epoch, the epoch's start and the
  /// batches used; after its last batch (or, `wholeEpochs`, whenever: a run
  /// in epochs stopped by --steps resumes at the next epoch), the start of
  /// the next one.
  void save(Progress &progress, bool wholeEpochs) const {
    bool finished =
        wholeEpochs || used >= static_cast<int64_t>(loader.numBatches());
    progress.dataEpoch = finished ? dataEpoch + 1 : dataEpoch;
    progress.dataBatch = finished ? 0 : used;
    progress.dataRows = rows();
    progress.rng = finished ? loader.rng().saveState() : rngAtStart;
    progress.hasRng = true;
  }

private:
  BatchLoader &loader;
  std::unique_ptr<Prefetcher> prefetch;
  std::array<uint8_t, Rng::StateBytes> rngAtStart{};
  int64_t dataEpoch = 0, used = 0;
};

/// The settings of a run as its done event records them: its length
/// (`steps` and `eval_every` for a run in steps, else `epochs`), batch,
/// loss, optimizer, peak learning rate, schedule, seed, precision, gradient
/// accumulation, data-parallel ranks, pruning, data.
nlohmann::ordered_json runSettings(const RunConfig &cfg, int64_t steps,
                                   int64_t epochs, int64_t batch, double lr,
                                   uint64_t seed, int64_t accumulate,
                                   int64_t ranks) {
  nlohmann::ordered_json settings;
  if (steps > 0) {
    settings["steps"] = steps;
    settings["eval_every"] = cfg.evalEvery;
  } else {
    settings["epochs"] = epochs;
  }
  settings["batch"] = batch;
  settings["loss"] = cfg.loss;
  settings["optimizer"] = cfg.optimizer;
  settings["lr"] = lr;
  settings["schedule"] = cfg.schedule;
  settings["seed"] = seed;
  settings["precision"] = cfg.precision;
  if (accumulate > 1)
    settings["accumulate"] = accumulate;
  if (ranks > 1)
    settings["ranks"] = ranks;
  if (cfg.prune.enabled)
    settings["prune"] =
        fmt::format("magnitude(sparsity = {}, start = {}, end = {})",
                    cfg.prune.sparsity, cfg.prune.start, cfg.prune.end);
  if (cfg.data.present)
    settings["data"] = cfg.data.name;
  return settings;
}

} // namespace

int train(const RunConfig &cfg, const CommonOptions &common,
          const TrainOptions &opts) {
  int64_t epochs = opts.epochs > 0 ? opts.epochs : cfg.epochs;
  // A run in steps (`steps = N`): its length is N steps, not epochs.
  int64_t totalSteps = cfg.steps;
  if (totalSteps > 0 && opts.epochs > 0)
    throw UsageError("--epochs: run '" + cfg.run + "' is given in steps (" +
                     std::to_string(totalSteps) +
                     "); --steps N stops it earlier");
  int64_t batch = opts.batch > 0 ? opts.batch : cfg.batch;
  if (batch > cfg.batch)
    throw UsageError("--batch " + std::to_string(batch) +
                     ": this program was compiled for batches of " +
                     std::to_string(cfg.batch) +
                     "; recompile with 'nnc FILE.nn -o PROGRAM --batch " +
                     std::to_string(batch) + "' (or set 'batch' in the .nn "
                     "file)");
  uint64_t seed = static_cast<uint64_t>(opts.seed >= 0 ? opts.seed : cfg.seed);
  // Gradient accumulation: k batches per optimizer step, through nnc_grad
  // and nnc_update (compiled in by `accumulate = k` in the file).
  int64_t accumulate = opts.accumulate > 0 ? opts.accumulate : cfg.accumulate;
  bool canAccumulate = cfg.gradsSize > 0 && nnc_grad && nnc_update;
  if (accumulate > 1 && !canAccumulate)
    throw UsageError("--accumulate " + std::to_string(accumulate) +
                     ": this program was compiled without gradient "
                     "accumulation; add 'accumulate = " +
                     std::to_string(accumulate) + "' to run '" + cfg.run +
                     "' and recompile");
  // Data-parallel under mpirun: every rank computes its share of each
  // global batch with nnc_grad, the gradients are summed, and every rank
  // applies the same nnc_update. Rank 0 alone reports and writes.
  Mpi &mpi = Mpi::world();
  bool parallel = mpi.active(), lead = mpi.lead();
  if (parallel && !canAccumulate)
    throw UsageError("mpirun -np " + std::to_string(mpi.size()) +
                     ": this program was compiled without data-parallel "
                     "training; recompile it with 'nnc FILE.nn -o PROGRAM "
                     "--distributed'");
  // Steps through nnc_grad and nnc_update instead of nnc_train.
  bool gradSteps = accumulate > 1 || parallel;
  int64_t ranks = mpi.size();
  float lrFactor = opts.lr > 0 ? static_cast<float>(opts.lr / cfg.lr) : 1.0f;

  DataOptions dopts = dataOptions(common);
  dopts.needTest = false;
  if (!opts.report.empty())
    checkReportPath(opts.report);
  RunData data = loadRunData(cfg, dopts);
  for (const std::string &r : data.cleanReports)
    if (lead)
      std::printf("clean %s\n", r.c_str());

  std::vector<float> state(cfg.stateSize, 0.0f);
  initialize(cfg, state, seed);
  Progress progress;
  std::string dir = checkpointDir(cfg, opts.checkpointDir);
  if (opts.resume) {
    std::string path = opts.resumeFrom.empty()
                           ? (fs::path(dir) / "last.safetensors").string()
                           : opts.resumeFrom;
    SafeTensorsFile file = SafeTensorsFile::read(path);
    progress = readCheckpoint(cfg, file, state, /*full=*/true);
    tokenizeRunData(cfg, data, &file);
    data.preprocessor->restore(file, data.train.store().featureShape);
    // A resumed run keeps its seed (dropout masks, augmentation) and its
    // length (the schedule) unless the command line sets them again.
    if (opts.seed < 0 && progress.runSeed >= 0)
      seed = static_cast<uint64_t>(progress.runSeed);
    if (opts.epochs <= 0 && progress.runEpochs > 0)
      (totalSteps > 0 ? totalSteps : epochs) = progress.runEpochs;
    if (lead)
      std::printf("resuming from %s at epoch %lld, step %lld\n", path.c_str(),
                  static_cast<long long>(progress.epoch),
                  static_cast<long long>(progress.step));
  } else {
    if (!opts.weights.empty()) {
      SafeTensorsFile file = SafeTensorsFile::read(opts.weights);
      readCheckpoint(cfg, file, state, /*full=*/false);
      // The embedding's rows are the checkpoint's vocabulary: keep it (a
      // file without one, from PyTorch, lets training build it).
      tokenizeRunData(cfg, data, &file, /*learnIfAbsent=*/true);
      if (lead)
        std::printf("starting from the parameters in %s\n",
                    opts.weights.c_str());
    } else {
      if (cfg.finetune.enabled) {
        std::string from =
            resolveFrom(cfg, opts.from.empty() ? cfg.finetune.from : opts.from);
        PretrainedReport report = loadPretrained(cfg, from, state);
        if (lead)
          printFinetune(cfg, &report, stdout);
      }
      tokenizeRunData(cfg, data, nullptr);
    }
    data.preprocessor->fit(data.train);
  }
  data.preprocessor->reshape(cfg.inputShape);
  const Preprocessor &pre = *data.preprocessor;
  progress.runSeed = static_cast<int64_t>(seed);
  progress.classNames = data.train.store().classNames;

  // The dataset's own seed orders and augments its batches, unless --seed
  // overrides every seed of the run.
  uint64_t dataSeed = opts.seed < 0 && cfg.data.seed >= 0
                          ? static_cast<uint64_t>(cfg.data.seed)
                          : seed;
  // Augmented audio: the loader computes features from augmented clips.
  const Dataset &samples = data.hasTrainClips ? data.trainClips : data.train;
  BatchLoader loader(samples, pre, loaderOptions(cfg, batch, true, &mpi),
                     dataSeed);
  Augmenter augmenter(augmentOps(cfg), samples.store().featureShape, dataSeed);
  loader.setAugmenter(&augmenter);
  if (data.hasTrainClips)
    loader.setClipFeatures(data.features.get());
  int64_t batchesPerEpoch = static_cast<int64_t>(loader.numBatches());
  if (batchesPerEpoch == 0)
    throw Error("the training split has no complete batch (" +
                std::to_string(data.train.size()) + " samples, batch " +
                std::to_string(batch * ranks) + ", drop_last)");
  if (parallel && lead && !opts.quiet)
    std::printf("data-parallel: %lld ranks x batch %lld = global batch %lld\n",
                static_cast<long long>(ranks), static_cast<long long>(batch),
                static_cast<long long>(batch * ranks));
  // A run in steps evaluates every eval_every steps, each period drawing
  // from one continuing stream of data epochs; its schedule counts steps
  // (one step per "epoch" of the schedule). A run in epochs has a period
  // per data epoch.
  bool stepRun = totalSteps > 0;
  // Optimizer steps per data epoch: one per `accumulate` batches (the
  // last group of an epoch may be shorter).
  int64_t stepsPerEpoch =
      stepRun ? 1 : (batchesPerEpoch + accumulate - 1) / accumulate;
  int64_t scheduleEpochs = stepRun ? totalSteps : epochs;
  int64_t periods =
      stepRun ? (totalSteps + cfg.evalEvery - 1) / cfg.evalEvery : epochs;
  progress.runEpochs = scheduleEpochs;
  DataStream stream(loader);
  if (progress.hasRng)
    loader.rng().restoreState(progress.rng.data(), progress.rng.size());
  // A run in steps resumes mid-epoch; one in epochs starts each epoch.
  // (Batches of other rows than the checkpoint's, with another number of
  // ranks or --batch: as many rows skipped, rounded up to whole batches.)
  if (stepRun && progress.dataEpoch > 0) {
    int64_t skip = progress.dataBatch;
    if (progress.dataRows > 0 && progress.dataRows != stream.rows())
      skip = (skip * progress.dataRows + stream.rows() - 1) / stream.rows();
    stream.start(progress.dataEpoch, std::min(skip, batchesPerEpoch));
  }

  std::unique_ptr<JsonlLogger> log;
  if (lead) {
    prepareCheckpointDir(dir);
    // A run killed while writing a checkpoint leaves its temporary file.
    if (size_t stale = removeStaleTemps(dir))
      std::printf("removed %zu unfinished checkpoint file%s from %s\n", stale,
                  stale == 1 ? "" : "s", dir.c_str());
    if (!opts.log.empty())
      log = std::make_unique<JsonlLogger>(opts.log);
  }
  // --report draws the run from its log lines, kept here whether or not
  // --log writes them too.
  std::vector<std::string> reportLines;
  // --quiet (and ranks other than 0): the reporter writes to /dev/null.
  bool quiet = opts.quiet || !lead;
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> devNull(
      quiet ? std::fopen("/dev/null", "w") : nullptr, &std::fclose);
  ProgressReporter reporter(devNull ? devNull.get() : stdout);
  if (stepRun)
    reporter.countSteps(totalSteps);

  EarlyStopping earlyStopping(cfg.earlyStopping, progress);

  Buffers buf(cfg);
  // The gradient accumulators (zero between optimizer steps).
  std::vector<float> grads(gradSteps ? size_t(cfg.gradsSize) : 0, 0.0f);
  // --target cuda: both stay on the device between steps; the host reads
  // them back only where it uses them (checkpoints, all-reduce, broadcast).
  DeviceResident residentState(state), residentGrads(grads);
  Batch b;
  double runStart = now();
  std::string stopped = "completed";
  std::vector<std::vector<int64_t>> confusion;
  int exitCode = Ok;
  for (int64_t epoch = progress.epoch + 1;
       stepRun ? progress.step < totalSteps : epoch <= periods; ++epoch) {
    double epochStart = now();
    // This period's batches: a whole data epoch, or the stream's steps up
    // to the next multiple of eval_every (a run cut by --steps and resumed
    // evaluates at the same steps).
    int64_t periodSteps =
        stepRun ? std::min(cfg.evalEvery - progress.step % cfg.evalEvery,
                           totalSteps - progress.step)
                : stepsPerEpoch;
    if (!stepRun)
      stream.start(epoch, 0);
    Scores scores(cfg);
    size_t epochSamples = stepRun
                              ? size_t(periodSteps * accumulate * batch * ranks)
                              : data.train.size();
    reporter.beginEpoch(epoch, periods, epochSamples);
    float lr = 0, lastLoss = 0;
    double allreduceSeconds = 0, waitSeconds = 0;
    bool diverged = false, stepLimit = false;
    // A batch's loss and predictions (buf.result + 2) into the period's
    // scores; false, and `diverged`, when the loss is not finite. (The
    // progress shows every rank's samples as N times rank 0's.)
    auto score = [&](float loss) {
      lastLoss = loss;
      if (!std::isfinite(loss)) {
        diverged = true;
        return false;
      }
      scores.add(cfg, buf, buf.result.data() + 2, loss, b.count);
      reporter.update(std::min(scores.samples * size_t(ranks), epochSamples),
                      scores.loss());
      return true;
    };
    for (int64_t k = 0; k < periodSteps && !diverged; ++k) {
      if (gradSteps) {
        // k batches (fewer at an epoch's end): each one's gradients
        // weighted by its rows, the sum scaled by 1 / rows, so that the
        // step is the one of a batch of all those rows. A group ends with
        // its data epoch, as a batch of all its rows would (a run in steps
        // reads on in the next group). Data-parallel ranks each take their
        // share of every batch and sum gradients and rows before the
        // update; every rank sees the same batches, so all take the same
        // steps. Dropout draws differ per rank (the step number
        // interleaves them).
        double rows = 0;
        int64_t micro = 0;
        while (micro < accumulate && (micro == 0 || !stream.epochDone()) &&
               stream.next(b, stepRun)) {
          ++micro;
          // This rank's share of a partial last batch may be empty: no
          // gradient, unless synchronized batchnorm needs this rank's
          // part in its sums (its loss and gradients are then zero).
          if (b.count == 0 && !cfg.syncBatchnorm)
            continue;
          buf.load(b, cfg.classTargets, /*borrowInput=*/true);
          nnc_grad(
              state.data(), grads.data(), buf.input(), buf.y(cfg.classTargets),
              buf.mask.data(),
              ((progress.step * accumulate + micro - 1) * ranks + mpi.rank()),
              static_cast<int64_t>(seed), static_cast<float>(b.count),
              buf.result.data() + 1);
          rows += static_cast<double>(b.count);
          if (!score(buf.result[1]))
            break;
        }
        if (parallel && micro > 0) {
          double start = now();
          double counts[2] = {rows, diverged ? 1.0 : 0.0};
          mpi.sum(counts, 2);
          double summed = now();
          waitSeconds += summed - start;
          rows = counts[0];
          diverged = counts[1] > 0;
          if (!diverged) {
            residentGrads.toHost();
            mpi.sum(grads.data(), grads.size());
            residentGrads.hostWritten();
          }
          allreduceSeconds += now() - summed;
        }
        if (micro == 0 || diverged)
          break;
        nnc_update(state.data(), grads.data(), progress.step, stepsPerEpoch,
                   scheduleEpochs, lrFactor, static_cast<float>(1.0 / rows),
                   &lr);
        ++progress.step;
      } else {
        if (!stream.next(b, stepRun))
          break;
        buf.load(b, cfg.classTargets, /*borrowInput=*/true);
        nnc_train(state.data(), buf.input(), buf.y(cfg.classTargets),
                  buf.mask.data(), progress.step, stepsPerEpoch, scheduleEpochs,
                  static_cast<int64_t>(seed), lrFactor, buf.result.data());
        ++progress.step;
        lr = buf.result[1];
        if (!score(buf.result[0]))
          break;
      }
      if (opts.steps > 0 && progress.step >= opts.steps) {
        stepLimit = true;
        break;
      }
    }
    if (diverged) {
      reporter.message("");
      if (!lead) {
        exitCode = BadInput;
        break;
      }
      // progress.epoch is the last epoch whose checkpoint was written (by
      // this run or the one it resumed); none if it diverged before that.
      std::string kept = progress.epoch > 0
                             ? "the last good checkpoint (epoch " +
                                   std::to_string(progress.epoch) +
                                   ") is kept in " +
                                   (fs::path(dir) / "last.safetensors").string()
                             : std::string("no checkpoint was written");
      std::string loss = std::isfinite(lastLoss)
                             ? std::string("not finite on another rank")
                             : fmt::format("{}", lastLoss);
      std::fprintf(stderr,
                   "error: training diverged at epoch %lld, step %lld: the "
                   "loss is %s; %s\n",
                   static_cast<long long>(epoch),
                   static_cast<long long>(progress.step), loss.c_str(),
                   kept.c_str());
      stopped = "diverged";
      exitCode = BadInput;
      break;
    }

    // Data-parallel: the period's scores of every rank; rank 0's parameters
    // and buffers (batchnorm's running statistics, which each rank keeps
    // from its own batches) on every rank, as PyTorch's DDP broadcasts them.
    if (parallel) {
      scores.reduce(mpi);
      residentState.toHost();
      mpi.broadcast(state.data(), state.size());
      residentState.hostWritten();
    }

    // Magnitude pruning at the end of a whole pruning epoch, before the
    // evaluation and the checkpoint (the generated nnc_prune).
    if (cfg.prune.enabled && !stepRun && !stepLimit &&
        epoch >= cfg.prune.start && epoch <= cfg.prune.end) {
      if (!nnc_prune)
        throw Error("internal: run '" + cfg.run +
                    "' prunes but has no nnc_prune");
      nnc_prune(state.data(), epoch);
    }

    EpochRecord record;
    record.epoch = epoch;
    record.step = progress.step;
    record.lr = lr;
    record.trainLoss = scores.loss();
    record.seconds = now() - epochStart;
    record.samplesPerSecond =
        record.seconds > 0 ? scores.samples / record.seconds : 0;
    if (parallel) {
      record.allreduceSeconds = allreduceSeconds;
      record.waitSeconds = waitSeconds;
    }
    if (nnc_cuda_arch)
      record.deviceMemoryMiB = double(cudaMemoryPeak()) / (1 << 20);
    // Metrics: on the validation split when there is one, else on train.
    // The last epoch's confusion matrix goes into the log's done event.
    if (data.hasValidation) {
      Scores val =
          evaluate(cfg, state, data.validation, pre, parallel ? &mpi : nullptr);
      record.valLoss = val.loss();
      record.metrics = val.metrics(cfg.metrics);
      if (const auto *matrix = val.confusion(cfg.metrics))
        confusion = *matrix;
    } else {
      record.metrics = scores.metrics(cfg.metrics);
      if (const auto *matrix = scores.confusion(cfg.metrics))
        confusion = *matrix;
    }
    reporter.endEpoch(record);
    if (log)
      log->logEpoch(record);
    if (lead && !opts.report.empty())
      reportLines.push_back(JsonlLogger::epochLine(record));

    // Early stopping is decided before the checkpoint so that a resumed run
    // continues with the same count of epochs without improvement.
    bool stopEarly = earlyStopping.update(record, progress);

    progress.epoch = epoch;
    stream.save(progress, !stepRun);
    bool best = record.valLoss && *record.valLoss < progress.bestValLoss;
    residentState.toHost();
    if (best) {
      progress.bestValLoss = *record.valLoss;
      progress.bestEpoch = epoch;
    }
    if (lead)
      writeCheckpoint(cfg, (fs::path(dir) / "last.safetensors").string(), state,
                      progress, pre, data.tokenizer.get());
    if (lead && best)
      writeCheckpoint(cfg, (fs::path(dir) / "best.safetensors").string(), state,
                      progress, pre, data.tokenizer.get());
    if (stepLimit) {
      stopped = "steps";
      break;
    }
    if (stopEarly) {
      reporter.message("early stopping: " + cfg.earlyStopping.monitor +
                       " did not improve for " +
                       std::to_string(progress.badEpochs) + " epochs");
      stopped = "early_stopping";
      break;
    }
  }
  nlohmann::ordered_json done;
  done["epochs"] = progress.epoch;
  done["steps"] = progress.step;
  if (std::isfinite(progress.bestValLoss)) {
    done["best_val_loss"] = progress.bestValLoss;
    done["best_epoch"] = progress.bestEpoch;
  }
  if (!confusion.empty())
    done["confusion"] = confusion;
  done["stopped"] = stopped;
  done["seconds"] = now() - runStart;
  // What the report shows of the run (SPEC 5's done fields come first).
  done["run"] = cfg.run;
  done["model"] = cfg.modelName;
  if (!progress.classNames.empty())
    done["classes"] = progress.classNames;
  done["settings"] =
      runSettings(cfg, stepRun ? totalSteps : 0, epochs, batch,
                  opts.lr > 0 ? opts.lr : cfg.lr, seed, accumulate, ranks);
  if (log)
    log->logDone(done);
  if (lead && !opts.report.empty()) {
    reportLines.push_back(JsonlLogger::eventLine("done", done));
    writeRunReport(cfg, opts.report,
                   opts.log.empty() ? "run '" + cfg.run + "'" : opts.log,
                   reportLines);
  }
  if (!quiet && exitCode == Ok)
    std::printf("checkpoints: %s\n", dir.c_str());
  return exitCode;
}

} // namespace nnrt
