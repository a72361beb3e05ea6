//===- Source.cpp - Source files and line lookup ---------------------------===//
#include "frontend/Source.h"

#include <fstream>
#include <sstream>

namespace nnc {

unsigned SourceManager::addBuffer(std::string path, std::string text) {
  File file;
  file.path = std::move(path);
  file.text = std::move(text);
  file.lineStarts.push_back(0);
  for (size_t i = 0; i < file.text.size(); ++i)
    if (file.text[i] == '\n')
      file.lineStarts.push_back(i + 1);
  files.push_back(std::move(file));
  return static_cast<unsigned>(files.size());
}

unsigned SourceManager::addFile(const std::string &path, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return 0;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = "cannot read '" + path + "'";
    return 0;
  }
  return addBuffer(path, buffer.str());
}

const std::string &SourceManager::path(unsigned fileId) const {
  static const std::string unknown = "<unknown>";
  if (fileId == 0 || fileId > files.size())
    return unknown;
  return files[fileId - 1].path;
}

const std::string &SourceManager::text(unsigned fileId) const {
  static const std::string empty;
  if (fileId == 0 || fileId > files.size())
    return empty;
  return files[fileId - 1].text;
}

std::string SourceManager::lineText(unsigned fileId, unsigned line) const {
  if (fileId == 0 || fileId > files.size())
    return "";
  const File &file = files[fileId - 1];
  if (line == 0 || line > file.lineStarts.size())
    return "";
  size_t begin = file.lineStarts[line - 1];
  size_t end = file.text.find('\n', begin);
  if (end == std::string::npos)
    end = file.text.size();
  if (end > begin && file.text[end - 1] == '\r')
    --end;
  return file.text.substr(begin, end - begin);
}

} // namespace nnc
