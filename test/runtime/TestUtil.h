//===- TestUtil.h - temporary folders and file writers for nnrt tests -*- C++
//-*-===//
#ifndef NNRT_TEST_TESTUTIL_H
#define NNRT_TEST_TESTUTIL_H

#include "runtime/Error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nnrt::test {

/// A fresh folder under $TMPDIR, removed with its content at destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return dir; }
  std::string file(const std::string &name) const { return dir + "/" + name; }
  /// Writes `text` to file(name), making its folders; returns the path.
  std::string write(const std::string &name, const std::string &text) const;
  /// Names of the files in the folder.
  std::vector<std::string> list() const;

private:
  std::string dir;
};

void writeFile(const std::string &path, const std::string &bytes);
void writeFile(const std::string &path, const std::vector<uint8_t> &bytes);
void writeGzip(const std::string &path, const std::vector<uint8_t> &bytes);
std::vector<uint8_t> readFile(const std::string &path);

/// An IDX file of unsigned bytes: magic 0x0000080<dims.size()>, the dims,
/// then `data`.
std::vector<uint8_t> idxBytes(const std::vector<uint32_t> &dims,
                              const std::vector<uint8_t> &data,
                              uint32_t magic = 0);

/// Runs NNRT_TEST_SOURCE_DIR/`script` (Debian's python3) on `input` written
/// as JSON and returns the JSON it writes: `script IN.json OUT.json`. Fails
/// the test (and returns null) when the script fails.
nlohmann::json runPythonReference(const std::string &script,
                                  const nlohmann::json &input);

/// Runs `body` and returns the nnrt::Error message it throws ("" if none).
template <typename F> std::string errorOf(F &&body) {
  try {
    body();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace nnrt::test

#define EXPECT_NNRT_ERROR(statement, substring)                                \
  do {                                                                         \
    std::string message_ = ::nnrt::test::errorOf([&] { statement; });          \
    EXPECT_NE(message_, "") << "no nnrt::Error from " #statement;              \
    EXPECT_NE(message_.find(substring), std::string::npos)                     \
        << "message: " << message_;                                            \
    EXPECT_EQ(message_.find('\n'), std::string::npos) << "not one line";       \
  } while (0)

#endif // NNRT_TEST_TESTUTIL_H
