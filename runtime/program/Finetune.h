//===- Finetune.h - Starting a finetune run from pretrained weights -*- C++ -*-===//
//
// A finetune declaration's `from` file (an nnc checkpoint or a PyTorch
// state_dict saved as safetensors) is matched to the model by name, after
// the declaration's `rename` entries: tensors found with the model's shape
// are loaded, the others keep their fresh initialization (a new head), and
// both lists are reported. The freezing itself is generated code (one
// training step per phase); here it is only described to the user.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_FINETUNE_H
#define NNRT_PROGRAM_FINETUNE_H

#include "runtime/SafeTensors.h"
#include "runtime/program/Config.h"

#include <cstdio>
#include <string>
#include <vector>

namespace nnrt {

/// A checkpoint key after the renames: an exact entry first, else the
/// longest matching prefix entry; unchanged when none applies.
std::string renameKey(const std::vector<Rename> &renames, const std::string &key);

struct PretrainedReport {
  std::string file;
  std::vector<std::string> loaded;
  /// "name (why)": not in the file, or of another shape there.
  std::vector<std::string> initialized;
  /// Model-like tensors of the file that nothing in the model took (after
  /// renames); optimizer state and training progress are not listed.
  std::vector<std::string> unused;
};

/// Where `from` is: as written when it exists (relative to the working
/// directory, like checkpoint directories), else next to the .nn file.
std::string resolveFrom(const RunConfig &cfg, const std::string &from);

/// Loads what matches of the safetensors file `path` into `state`
/// (parameters and buffers). A parameter
/// frozen at some epoch, or a buffer of such a layer, that is missing from
/// the file or has another shape there is an nnrt::Error naming the file,
/// the tensor and both shapes: frozen random weights are never intended.
PretrainedReport loadPretrained(const RunConfig &cfg, const std::string &path,
                                std::vector<float> &state);

/// The loaded / initialized / unused lists, then which groups are frozen in
/// which epochs and the learning-rate factors.
void printFinetune(const RunConfig &cfg, const PretrainedReport *report,
                   std::FILE *out);

} // namespace nnrt

#endif // NNRT_PROGRAM_FINETUNE_H
