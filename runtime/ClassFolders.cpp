//===- ClassFolders.cpp - Folders with one subfolder per class ------------===//
#include "runtime/ClassFolders.h"

#include "runtime/Error.h"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace nnrt {

std::vector<std::string> classSubfolders(const std::string &dir,
                                         const SampleFiles &files) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(dir + ": " +
                (fs::exists(dir, ec) ? "is not a folder" : "no such folder") +
                "; " + files.source +
                " expects a folder with one subfolder per class");
  std::vector<std::string> classes;
  for (const fs::directory_entry &e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_directory())
      continue;
    classes.push_back(name);
  }
  if (classes.empty())
    throw Error(dir + ": has no class subfolders; " + files.source +
                " expects one subfolder per class holding " +
                files.description);
  std::sort(classes.begin(), classes.end());
  return classes;
}

std::vector<std::string> listSampleFiles(const std::string &dir,
                                         const SampleFiles &files) {
  std::vector<std::string> found;
  for (const fs::directory_entry &e : fs::recursive_directory_iterator(
           dir, fs::directory_options::follow_directory_symlink))
    if (files.isSample(e.path().string()) && e.is_regular_file())
      found.push_back(e.path().string());
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::string> listInputFiles(const std::string &path,
                                        const SampleFiles &files) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (!fs::exists(path, ec))
      throw Error(path + ": no such file or folder");
    return {path};
  }
  std::vector<std::string> found = listSampleFiles(path, files);
  if (found.empty())
    throw Error(path + ": holds " + files.noneFound);
  return found;
}

ClassFolderScan scanClassFolders(const std::string &dir,
                                 const std::vector<std::string> &classes,
                                 int32_t numClasses, const SampleFiles &files) {
  std::vector<std::string> folders = classSubfolders(dir, files);
  ClassFolderScan scan;
  scan.classes = classes.empty() ? folders : classes;
  for (const std::string &folder : folders) {
    std::string path = (fs::path(dir) / folder).string();
    auto known = std::find(scan.classes.begin(), scan.classes.end(), folder);
    if (known == scan.classes.end())
      throw Error(path + ": class '" + folder +
                  "' is not one of the training data's classes" +
                  didYouMean(folder, scan.classes));
    std::vector<std::string> found = listSampleFiles(path, files);
    if (found.empty())
      throw Error(path + ": class folder holds " + files.noneFound);
    int32_t label = int32_t(known - scan.classes.begin());
    for (std::string &f : found) {
      scan.paths.push_back(std::move(f));
      scan.labels.push_back(label);
    }
  }
  if (scan.paths.size() > UINT32_MAX / 2)
    throw Error(dir + ": too many samples");
  checkClassCount(dir, scan.classes, numClasses);
  return scan;
}

void setClassTargets(DatasetStorage &storage, ClassFolderScan scan,
                     int32_t numClasses) {
  storage.targetKind = TargetKind::ClassIndex;
  storage.labels = std::move(scan.labels);
  storage.numClasses =
      numClasses > 0 ? numClasses : int32_t(scan.classes.size());
  storage.classNames = std::move(scan.classes);
  storage.paths = std::move(scan.paths);
}

void loadInParallel(size_t n, const std::function<void(size_t)> &load) {
  std::vector<std::string> errors(n);
  tbb::parallel_for(size_t(0), n, [&](size_t i) {
    try {
      load(i);
    } catch (const std::exception &e) {
      errors[i] = e.what();
    }
  });
  for (const std::string &error : errors)
    if (!error.empty())
      throw Error(error);
}

void checkClassCount(const std::string &path,
                     const std::vector<std::string> &classes,
                     int32_t numClasses) {
  if (numClasses <= 0 || int32_t(classes.size()) <= numClasses)
    return;
  std::string list;
  for (const std::string &c : classes)
    list += (list.empty() ? "" : ", ") + c;
  throw Error(path + ": " + std::to_string(classes.size()) + " classes (" +
              list + ") but the model has " + std::to_string(numClasses) +
              " outputs");
}

} // namespace nnrt
