//===- Source.h - Source files and locations for .nn programs ----*- C++ -*-===//
//
// Every AST node and every diagnostic carries a SourceRange into a file held
// by the SourceManager, so that later stages (sema, MLIRGen, passes) can still
// point at the user's line.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_SOURCE_H
#define NNC_FRONTEND_SOURCE_H

#include <memory>
#include <string>
#include <vector>

namespace nnc {

/// A position in a source file. Lines and columns are 1-based; columns count
/// bytes. A default-constructed location (fileId 0, line 0) is "unknown".
struct SourceLoc {
  unsigned fileId = 0;
  unsigned line = 0;
  unsigned col = 0;

  bool isValid() const { return line != 0; }
};

/// A half-open range [begin, end) in one file; `end` may equal `begin` for a
/// point location.
struct SourceRange {
  SourceLoc begin;
  SourceLoc end;

  SourceRange() = default;
  SourceRange(SourceLoc b, SourceLoc e) : begin(b), end(e) {}
  explicit SourceRange(SourceLoc b) : begin(b), end(b) {}
  bool isValid() const { return begin.isValid(); }
};

/// Holds the text of every file read during one compilation. File ids start at
/// 1 so that 0 means "no file".
class SourceManager {
public:
  /// Adds a buffer and returns its id.
  unsigned addBuffer(std::string path, std::string text);
  /// Reads a file from disk; returns 0 and sets `error` if it cannot be read.
  unsigned addFile(const std::string &path, std::string &error);

  const std::string &path(unsigned fileId) const;
  const std::string &text(unsigned fileId) const;
  /// The text of one line, without its newline; empty when out of range.
  std::string lineText(unsigned fileId, unsigned line) const;
  unsigned numFiles() const { return static_cast<unsigned>(files.size()); }

private:
  struct File {
    std::string path;
    std::string text;
    std::vector<size_t> lineStarts;
  };
  std::vector<File> files;
};

} // namespace nnc

#endif // NNC_FRONTEND_SOURCE_H
