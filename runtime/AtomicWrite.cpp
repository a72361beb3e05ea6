//===- AtomicWrite.cpp - Files written whole or not at all ----------------===//
#include "runtime/AtomicWrite.h"

#include "runtime/Error.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nnrt {

static void writeAll(int fd, const void *data, size_t size,
                     const std::string &where) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t written = ::write(fd, p, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      throw Error(where + ": write failed: " + systemError(errno));
    }
    p += written;
    size -= size_t(written);
  }
}

void writeFileAtomically(const std::string &path,
                         const std::vector<ByteRange> &parts) {
  std::string where = baseName(path);
  size_t slash = path.find_last_of('/');
  std::string folder = slash == std::string::npos ? "."
                       : slash == 0               ? "/"
                                                  : path.substr(0, slash);

  std::string temp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0)
    throw Error(where + ": cannot create a temporary file in '" + folder +
                "': " + systemError(errno));
  try {
    for (const ByteRange &part : parts)
      writeAll(fd, part.data, part.size, where);
    ::fchmod(fd, 0644);
    if (::fsync(fd) != 0)
      throw Error(where + ": fsync failed: " + systemError(errno));
    int closed = ::close(fd);
    fd = -1;
    if (closed != 0)
      throw Error(where + ": close failed: " + systemError(errno));
    if (::rename(temp.c_str(), path.c_str()) != 0)
      throw Error(where + ": cannot rename the temporary file into place: " +
                  systemError(errno));
  } catch (...) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  // Make the rename itself durable. Failure here leaves a complete file, so
  // it is not worth an error.
  int dirFd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

} // namespace nnrt
