//===- Error.h - nnrt's error type and small diagnostic helpers -*- C++ -*-===//
#ifndef NNRT_ERROR_H
#define NNRT_ERROR_H

#include <stdexcept>
#include <string>
#include <vector>

namespace nnrt {

/// Every malformed input (data file, checkpoint, argument) is reported as an
/// Error whose message is one line naming the file and position, e.g.
/// "points.csv:17: field 2 ('y') is not a number: 'abc'". The driver prints
/// it and exits with status 1.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

/// The last path component of `path` ("a/b/c.csv" -> "c.csv"), used so that
/// messages stay one short line.
std::string baseName(const std::string &path);

/// The candidate closest to `name` by edit distance, or "" when none is close
/// enough to be a plausible typo.
std::string closestMatch(const std::string &name,
                         const std::vector<std::string> &candidates);

/// "unknown column 'lable'; did you mean 'label'?" style suffix: returns
/// "; did you mean 'X'?" or "".
std::string didYouMean(const std::string &name,
                       const std::vector<std::string> &candidates);

/// strerror(errno) as a std::string.
std::string systemError(int errnum);

} // namespace nnrt

#endif // NNRT_ERROR_H
