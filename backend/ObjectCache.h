//===- ObjectCache.h - compiled objects kept on disk between compiles -----===//
//
// nnc's backend spends most of a compile in LLVM (the -O pipeline and code
// generation of every partition of the program and of its inference
// library). An edit that leaves a model's kernels alone (epochs, a data
// path, a metric) or a rebuild of the same file needs none of it again: the
// objects of partitions whose LLVM IR is unchanged are taken from a cache
// directory, as ccache and torch.compile's persistent caches do.
//
// An entry is keyed by BLAKE3 of the partition's bitcode (a whole program's
// or inference library's: of its module before the passes, which a hit then
// skips too; see runCodegen) and of everything else that decides its code (the
// target machine and optimization level, LLVM's --mllvm options, the compiler
// binary itself: see the salt). Entries carry a checksum: a damaged one is
// removed and compiled again. Writes go to a temporary file renamed into place,
// so that compiles running at the same time share the directory. Past its size
// limit the least recently used entries are removed.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BACKEND_OBJECTCACHE_H
#define NNC_BACKEND_OBJECTCACHE_H

#include "llvm/ADT/StringRef.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace nnc {

class ObjectCache {
public:
  /// The cache in `dir`, created if missing; nullptr when it cannot be
  /// (the compile goes on without one). `salt`: what decides an object
  /// besides its bitcode and the target machine (the compiler's identity,
  /// LLVM options).
  static std::unique_ptr<ObjectCache> open(llvm::StringRef dir,
                                           std::string salt, uint64_t maxBytes);

  /// The key of what an object is compiled from (a module's bitcode, or an
  /// inference library's module before its passes and its options) for
  /// `machine` (the target's triple, CPU, features and optimization level,
  /// as one string: targetIdentity in Backend.h).
  std::string key(llvm::StringRef content, llvm::StringRef machine) const;
  /// The object stored under `key`, or nothing (missing or damaged).
  std::optional<std::string> lookup(llvm::StringRef key);
  /// Stores `object` under `key`; failures are ignored (a cache is
  /// optional).
  void store(llvm::StringRef key, llvm::StringRef object);
  /// Removes the least recently used entries while the cache is larger than
  /// its limit. Cheap when nothing was stored since it was opened.
  void trim();

  const std::string &directory() const { return dir; }
  unsigned hits() const { return hitCount; }
  unsigned lookups() const { return lookupCount; }

private:
  ObjectCache(std::string dir, std::string salt, uint64_t maxBytes)
      : dir(std::move(dir)), salt(std::move(salt)), maxBytes(maxBytes) {}
  std::string path(llvm::StringRef key) const;

  std::string dir, salt;
  uint64_t maxBytes;
  std::atomic<unsigned> hitCount{0}, lookupCount{0}, storeCount{0};
};

/// The cache's size limit unless NNC_CACHE_MAXSIZE says otherwise: over
/// 1,000 compiles of SPEC 2.3's CNN.
constexpr uint64_t kDefaultObjectCacheBytes = uint64_t(512) << 20;

/// The cache's size limit: $NNC_CACHE_MAXSIZE (bytes, or with a k, M or G
/// suffix: 1024-based), else kDefaultObjectCacheBytes; nothing when it is set
/// but not a size.
std::optional<uint64_t> defaultObjectCacheSize();

/// The default cache directory: $NNC_CACHE_DIR, else $XDG_CACHE_HOME/nnc,
/// else $HOME/.cache/nnc; empty (no cache) when NNC_CACHE_DIR is set empty or
/// no home is known.
std::string defaultObjectCacheDir();

} // namespace nnc

#endif // NNC_BACKEND_OBJECTCACHE_H
