//===- Checkpoint.h - Writing and reading checkpoints -----------*- C++ -*-===//
//
// A checkpoint is a safetensors file holding the state arena (parameters,
// buffers, optimizer state), the preprocessing statistics and the run's
// progress (epoch, step, RNG state, early stopping), written atomically.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_CHECKPOINT_H
#define NNRT_PROGRAM_CHECKPOINT_H

#include "runtime/Preprocess.h"
#include "runtime/Rng.h"
#include "runtime/SafeTensors.h"
#include "runtime/Tokenizer.h"
#include "runtime/program/Config.h"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace nnrt {

/// What a checkpoint holds besides the tensors.
struct Progress {
  int64_t epoch = 0; ///< epochs completed
  int64_t step = 0;  ///< optimizer steps taken
  double bestValLoss = std::numeric_limits<double>::infinity();
  int64_t bestEpoch = 0;
  int64_t badEpochs = 0; ///< early stopping: epochs without improvement
  /// Early stopping: the best monitored value so far (NaN: none yet).
  double bestMonitored = std::numeric_limits<double>::quiet_NaN();
  std::array<uint8_t, Rng::StateBytes> rng{};
  bool hasRng = false;
  /// The run's seed (dropout masks, shuffling, augmentation) and epochs
  /// (the schedule's length), so that --resume continues with them; -1 and
  /// 0 where a checkpoint does not record them.
  int64_t runSeed = -1;
  int64_t runEpochs = 0;
  /// Where the training data resumes: data epoch `dataEpoch` (numbered from
  /// 1), after its first `dataBatch` batches, `rng` being the loader's
  /// state before that epoch's shuffle. A run in steps stops mid-epoch;
  /// a run in epochs resumes at (epoch + 1, 0). 0: not recorded (the next
  /// epoch after `epoch`).
  int64_t dataEpoch = 0, dataBatch = 0;
  /// The rows of those batches (the global batch of data-parallel ranks);
  /// a run resumed with other batches skips as many rows, rounded up to
  /// whole batches. 0: not recorded (the same batches).
  int64_t dataRows = 0;
  /// The training data's class names (image folders), else empty.
  std::vector<std::string> classNames;
};

/// `tokenizer`: a text run's (its vocabulary is saved), else null.
void writeCheckpoint(const RunConfig &cfg, const std::string &path,
                     const std::vector<float> &state, const Progress &progress,
                     const Preprocessor &pre, const Tokenizer *tokenizer);

/// Loads parameters (and with `full`, optimizer state and progress) into
/// `state`. Shapes are checked; errors name the file and the tensor.
Progress readCheckpoint(const RunConfig &cfg, const SafeTensorsFile &file,
                        std::vector<float> &state, bool full);

/// The class names a checkpoint records (metadata `class_names`, a JSON
/// list), or none.
std::vector<std::string> checkpointClassNames(const SafeTensorsFile &file);

/// The run's checkpoint folder: `override` (--checkpoint-dir), else the
/// train declaration's `checkpoint`, else checkpoints/<run>.
std::string checkpointDir(const RunConfig &cfg, const std::string &override);

/// Makes the checkpoint folder and checks that a checkpoint can be written
/// there (by creating and removing a temporary file), so that an unwritable
/// folder is reported before training rather than after the first epoch.
void prepareCheckpointDir(const std::string &dir);

/// Removes the temporary files a killed checkpoint write leaves in `dir`:
/// only `last.safetensors.tmp.XXXXXX` and `best.safetensors.tmp.XXXXXX`
/// (the writer's pattern: mkstemp's six letters or digits). Returns how many
/// were removed.
size_t removeStaleTemps(const std::string &dir);

} // namespace nnrt

#endif // NNRT_PROGRAM_CHECKPOINT_H
