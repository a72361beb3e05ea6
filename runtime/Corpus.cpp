//===- Corpus.cpp - corpus(...) sources: one token stream, windows --------===//
#include "runtime/Corpus.h"

#include "runtime/ClassFolders.h"
#include "runtime/Error.h"
#include "runtime/Text.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace nnrt {

namespace {

/// A NUL byte among the first 8 KiB marks a binary file (grep's and git's
/// test).
bool looksBinary(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  char head[8192];
  in.read(head, sizeof head);
  return std::find(head, head + in.gcount(), '\0') != head + in.gcount();
}

bool hidden(const fs::path &p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

} // namespace

std::vector<std::string> corpusFiles(const std::string &path) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    throw Error(path + ": no such file or folder");
  if (!fs::is_directory(status))
    return {path};
  std::vector<std::string> files;
  std::set<fs::path> seen;
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (hidden(it->path())) {
      if (it->is_directory(ec))
        it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec))
      continue;
    files.push_back(it->path().string());
  }
  if (ec)
    throw Error(path + ": " + ec.message());
  std::sort(files.begin(), files.end());
  // A link to a file already listed (fortune's "art.u8 -> art") is read once;
  // binary files are not text.
  std::vector<std::string> text;
  for (const std::string &f : files) {
    fs::path real = fs::canonical(f, ec);
    if (ec || !seen.insert(real).second || looksBinary(f))
      continue;
    text.push_back(f);
  }
  if (text.empty())
    throw Error(path + ": no text files in the corpus folder");
  return text;
}

Dataset loadCorpusTexts(const std::string &path) {
  std::vector<std::string> files = corpusFiles(path);
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = path;
  storage->featureType = FeatureType::Text;
  storage->texts.assign(files.size(), std::string());
  storage->numSamples = files.size();
  loadInParallel(files.size(), [&](size_t i) {
    storage->texts[i] = readTextFile(files[i]);
  });
  storage->paths = std::move(files);
  return Dataset(storage);
}

std::vector<int32_t> corpusStream(const Tokenizer &tokenizer,
                                  const DatasetStorage &texts) {
  std::vector<std::vector<int32_t>> parts(texts.texts.size());
  loadInParallel(parts.size(), [&](size_t i) {
    parts[i] = tokenizer.encode(texts.texts[i]);
  });
  size_t total = 0;
  for (const auto &p : parts)
    total += p.size();
  std::vector<int32_t> stream;
  stream.reserve(total);
  for (const auto &p : parts)
    stream.insert(stream.end(), p.begin(), p.end());
  return stream;
}

std::shared_ptr<const DatasetStorage>
corpusWindows(const std::vector<int32_t> &stream, size_t begin, size_t end,
              int64_t block, int32_t vocab, const std::string &what) {
  size_t t = static_cast<size_t>(block);
  size_t length = end - begin;
  if (length < t + 1)
    throw Error(what + " has " + std::to_string(length) +
                " tokens, fewer than one window of block = " +
                std::to_string(block) + " plus its next token");
  size_t windows = (length - 1) / t;
  auto s = std::make_shared<DatasetStorage>();
  s->source = what;
  s->featureShape = {block};
  s->featureSize = t;
  s->featureType = FeatureType::I32;
  s->i32.assign(stream.begin() + begin, stream.begin() + begin + windows * t);
  s->targetKind = TargetKind::ClassIndex;
  s->numClasses = vocab;
  s->labelWidth = t;
  s->labels.assign(stream.begin() + begin + 1,
                   stream.begin() + begin + 1 + windows * t);
  s->numSamples = windows;
  return s;
}

} // namespace nnrt
