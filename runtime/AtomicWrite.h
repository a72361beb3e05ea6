//===- AtomicWrite.h - Files written whole or not at all ---------*- C++
//-*-===//
//
// Checkpoints and reports are written to a temporary file in the target's
// folder, synced and renamed over the target: a crash or a full disk leaves
// the previous file (or none), never a truncated one.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_ATOMICWRITE_H
#define NNRT_ATOMICWRITE_H

#include <cstddef>
#include <string>
#include <vector>

namespace nnrt {

/// A run of bytes to write; the caller keeps them alive.
struct ByteRange {
  const void *data;
  size_t size;
};

/// Writes the concatenation of `parts` to `path` atomically: `path` +
/// ".tmp.XXXXXX" (mkstemp) in the same folder, mode 0644, fsync, rename over
/// `path`, fsync of the folder. On any failure the temporary file is
/// removed, an existing `path` is left untouched, and nnrt::Error is thrown
/// naming the file's base name.
void writeFileAtomically(const std::string &path,
                         const std::vector<ByteRange> &parts);

} // namespace nnrt

#endif // NNRT_ATOMICWRITE_H
