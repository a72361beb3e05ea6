//===- TestUtil.cpp - temporary folders and file writers for nnrt tests ---===//
#include "TestUtil.h"

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace nnrt::test {

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string pattern = std::string(base ? base : "/tmp") + "/nnrt-test-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error("mkdtemp failed");
  dir = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

std::string TempDir::write(const std::string &name,
                           const std::string &text) const {
  std::string path = file(name);
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  writeFile(path, text);
  return path;
}

nlohmann::json runPythonReference(const std::string &script,
                                  const nlohmann::json &input) {
  TempDir dir;
  std::ofstream(dir.file("in.json")) << input.dump();
  std::string command = "/usr/bin/python3 " NNRT_TEST_SOURCE_DIR "/" + script +
                        " " + dir.file("in.json") + " " + dir.file("out.json");
  if (std::system(command.c_str()) != 0) {
    ADD_FAILURE() << "failed: " << command;
    return nullptr;
  }
  return nlohmann::json::parse(std::ifstream(dir.file("out.json")));
}

std::vector<std::string> TempDir::list() const {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  return names;
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  writeFile(path, std::string(bytes.begin(), bytes.end()));
}

void writeGzip(const std::string &path, const std::vector<uint8_t> &bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), unsigned(bytes.size()));
  gzclose(file);
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint8_t> idxBytes(const std::vector<uint32_t> &dims,
                              const std::vector<uint8_t> &data,
                              uint32_t magic) {
  if (magic == 0)
    magic = 0x800u | uint32_t(dims.size());
  std::vector<uint8_t> out;
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8)
      out.push_back(uint8_t(v >> s));
  };
  put(magic);
  for (uint32_t d : dims)
    put(d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

} // namespace nnrt::test
