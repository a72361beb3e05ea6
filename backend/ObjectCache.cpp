//===- ObjectCache.cpp - compiled objects kept on disk between compiles ---===//
//
// One file per object, named by its key: the object's bytes, then a trailer
// of a magic word and BLAKE3 of those bytes (a torn or damaged file is told
// from a good one).
//
//===----------------------------------------------------------------------===//
#include "backend/ObjectCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

using namespace nnc;

namespace {
constexpr llvm::StringLiteral kMagic = "nncobj01";
constexpr size_t kTrailer = kMagic.size() + 32;
constexpr llvm::StringLiteral kSuffix = ".o";

std::array<uint8_t, 32> checksum(llvm::StringRef bytes) {
  llvm::BLAKE3 hasher;
  hasher.update(bytes);
  return hasher.final();
}
} // namespace

std::string nnc::defaultObjectCacheDir() {
  if (std::optional<std::string> dir =
          llvm::sys::Process::GetEnv("NNC_CACHE_DIR"))
    return *dir; // empty: no cache
  llvm::SmallString<256> dir;
  if (std::optional<std::string> xdg =
          llvm::sys::Process::GetEnv("XDG_CACHE_HOME");
      xdg && llvm::sys::path::is_absolute(*xdg)) {
    dir = *xdg;
  } else if (std::optional<std::string> home =
                 llvm::sys::Process::GetEnv("HOME");
             home && llvm::sys::path::is_absolute(*home)) {
    dir = *home;
    llvm::sys::path::append(dir, ".cache");
  } else {
    return "";
  }
  llvm::sys::path::append(dir, "nnc");
  return std::string(dir);
}

std::optional<uint64_t> nnc::defaultObjectCacheSize() {
  std::optional<std::string> text =
      llvm::sys::Process::GetEnv("NNC_CACHE_MAXSIZE");
  if (!text)
    return kDefaultObjectCacheBytes;
  llvm::StringRef digits(*text);
  unsigned shift = 0;
  if (digits.consume_back("k") || digits.consume_back("K"))
    shift = 10;
  else if (digits.consume_back("M"))
    shift = 20;
  else if (digits.consume_back("G"))
    shift = 30;
  uint64_t size;
  if (digits.empty() || digits.getAsInteger(10, size) ||
      size > (UINT64_MAX >> shift))
    return std::nullopt;
  return size << shift;
}

std::unique_ptr<ObjectCache>
ObjectCache::open(llvm::StringRef dir, std::string salt, uint64_t maxBytes) {
  if (dir.empty() || llvm::sys::fs::create_directories(dir))
    return nullptr;
  // A directory nnc may write into (a read-only one is no cache).
  if (llvm::sys::fs::access(dir, llvm::sys::fs::AccessMode::Write))
    return nullptr;
  return std::unique_ptr<ObjectCache>(
      new ObjectCache(dir.str(), std::move(salt), maxBytes));
}

std::string ObjectCache::key(llvm::StringRef content,
                             llvm::StringRef machine) const {
  llvm::BLAKE3 hasher;
  // Lengths first: no two (salt, machine, content) triples hash the same
  // bytes.
  for (llvm::StringRef part : {llvm::StringRef(salt), machine, content}) {
    uint64_t size = part.size();
    hasher.update(llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(&size), sizeof(size)));
    hasher.update(part);
  }
  return llvm::toHex(hasher.final(), /*LowerCase=*/true);
}

std::string ObjectCache::path(llvm::StringRef key) const {
  llvm::SmallString<256> file(dir);
  llvm::sys::path::append(file, key + kSuffix);
  return std::string(file);
}

std::optional<std::string> ObjectCache::lookup(llvm::StringRef key) {
  ++lookupCount;
  std::string file = path(key);
  auto buffer = llvm::MemoryBuffer::getFile(file, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() < kTrailer) {
    llvm::sys::fs::remove(file);
    return std::nullopt;
  }
  llvm::StringRef object = bytes.drop_back(kTrailer);
  llvm::StringRef trailer = bytes.take_back(kTrailer);
  std::array<uint8_t, 32> sum = checksum(object);
  if (!trailer.starts_with(kMagic) ||
      trailer.drop_front(kMagic.size()) !=
          llvm::StringRef(reinterpret_cast<const char *>(sum.data()),
                          sum.size())) {
    llvm::sys::fs::remove(file);
    return std::nullopt;
  }
  // Recently used: the last to go when the cache is trimmed.
  ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0);
  ++hitCount;
  return object.str();
}

void ObjectCache::store(llvm::StringRef key, llvm::StringRef object) {
  llvm::SmallString<256> model(dir);
  llvm::sys::path::append(model, "tmp-%%%%%%%%%%%%" + kSuffix + ".part");
  int fd;
  llvm::SmallString<256> temporary;
  if (llvm::sys::fs::createUniqueFile(model, fd, temporary))
    return;
  std::array<uint8_t, 32> sum = checksum(object);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object << kMagic
       << llvm::StringRef(reinterpret_cast<const char *>(sum.data()),
                          sum.size());
    os.close();
    if (os.has_error()) {
      os.clear_error();
      llvm::sys::fs::remove(temporary);
      return;
    }
  }
  if (llvm::sys::fs::rename(temporary, path(key)))
    llvm::sys::fs::remove(temporary);
  else
    ++storeCount;
}

void ObjectCache::trim() {
  if (storeCount == 0)
    return;
  struct Entry {
    std::string path;
    uint64_t size;
    llvm::sys::TimePoint<> used;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    llvm::ErrorOr<llvm::sys::fs::basic_file_status> status = it->status();
    if (!status || status->type() != llvm::sys::fs::file_type::regular_file)
      continue;
    // Temporary files of a compile that was killed count (and go) too, once
    // they are older than any compile still writing them.
    if (!name.ends_with(kSuffix) && !name.ends_with(".part"))
      continue;
    entries.push_back(
        {it->path(), status->getSize(), status->getLastModificationTime()});
    total += status->getSize();
  }
  if (total <= maxBytes)
    return;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.used < b.used; });
  // Down to 3/4 of the limit, so that the next compiles do not trim again.
  for (const Entry &entry : entries) {
    if (total <= maxBytes / 4 * 3)
      break;
    if (!llvm::sys::fs::remove(entry.path))
      total -= entry.size;
  }
}
