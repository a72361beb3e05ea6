//===- RunConfig.h - What the compiled program needs to orchestrate -*- C++ -*-===//
//
// The contract between nnc and nnrt for everything that is not math: the
// model's layers and parameters (names, shapes, initialization), the state
// arena's layout, the data sources and steps, and the training settings.
// nnc embeds it in the executable as the JSON string `nnc_config`; the
// runtime reads it at start-up. Math never travels this way: the forward
// pass, loss, gradients, optimizer and schedule are generated code.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_RUNCONFIG_H
#define NNC_FRONTEND_RUNCONFIG_H

#include "frontend/Program.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc {

/// One tensor of the state arena, as laid out by nn-export-abi.
struct StateSlot {
  std::string name;
  int64_t offset = 0;
  int64_t size = 0;
};

struct RunConfigInputs {
  const sema::Program *program = nullptr;
  const sema::TrainRun *run = nullptr;
  int64_t batch = 0;
  /// Folder of the .nn file: relative data paths resolve against it.
  std::string sourceDir;
  std::vector<StateSlot> state;
  int64_t stateSize = 0;
  /// Language models with nnc_decode: the key/value cache's floats; else 0.
  int64_t decodeCache = 0;
  /// Gradient accumulation (nnc_grad / nnc_update): the accumulators'
  /// floats; else 0.
  int64_t gradsSize = 0;
  std::string compilerVersion;
};

/// The JSON text of the run configuration (format version 1).
std::string buildRunConfig(const RunConfigInputs &in);

} // namespace nnc

#endif // NNC_FRONTEND_RUNCONFIG_H
