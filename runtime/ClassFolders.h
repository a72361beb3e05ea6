//===- ClassFolders.h - Folders with one subfolder per class -*- C++ -*----===//
//
// The layout of torchvision's ImageFolder, shared by images(dir) and
// text(dir): the class index is the position of the subfolder's name in the
// sorted (byte order) list of names; subfolders whose name starts with '.'
// are skipped; each class folder is searched recursively for its samples.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_CLASSFOLDERS_H
#define NNRT_CLASSFOLDERS_H

#include "runtime/Dataset.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nnrt {

/// What a source calls its samples, for messages and for picking files.
struct SampleFiles {
  const char *source;      ///< "images()"
  const char *description; ///< ".png/.jpg/.jpeg files"
  const char *noneFound;   ///< "no .png/.jpg/.jpeg images"
  bool (*isSample)(const std::string &path);
};

/// A class-folder dataset before its files are read.
struct ClassFolderScan {
  std::vector<std::string> classes; ///< index = label
  std::vector<std::string> paths;   ///< class by class, sorted within
  std::vector<int32_t> labels;      ///< one per path
};

/// The class subfolders of `dir`, sorted by name. Throws nnrt::Error when
/// `dir` is not a folder or has no subfolder.
std::vector<std::string> classSubfolders(const std::string &dir,
                                         const SampleFiles &files);

/// The sample files under `dir` and its subfolders, sorted by path.
std::vector<std::string> listSampleFiles(const std::string &dir,
                                         const SampleFiles &files);

/// The files to classify at `path` (predict): every sample file under a
/// folder, recursively, sorted by path; or `path` itself. Throws
/// nnrt::Error when nothing is at `path` or a folder holds no sample file.
std::vector<std::string> listInputFiles(const std::string &path,
                                        const SampleFiles &files);

/// Scans `dir`. `classes` gives the class list the labels index (empty: the
/// folder's own); a validation or test folder gets the training folder's so
/// that indices agree: a subfolder not in it is an error, a class without a
/// subfolder is fine. `numClasses` > 0 is the model's number of classes;
/// more is an error. A class folder without samples is an error.
ClassFolderScan scanClassFolders(const std::string &dir,
                                 const std::vector<std::string> &classes,
                                 int32_t numClasses, const SampleFiles &files);

/// Moves a scan's labels, class names and paths into `storage` as class
/// targets; the class count is `numClasses` (the model's) when > 0.
void setClassTargets(DatasetStorage &storage, ClassFolderScan scan,
                     int32_t numClasses);

/// Runs load(i) for every i in [0, n) on oneTBB threads (reading and
/// decoding sample files). Every sample is tried; the first failure in index
/// order is thrown as nnrt::Error, so that the message does not depend on
/// the thread schedule.
void loadInParallel(size_t n, const std::function<void(size_t)> &load);

/// Throws nnrt::Error when a source at `path` has more classes than the
/// model's `numClasses` outputs (0: no check), listing them.
void checkClassCount(const std::string &path,
                     const std::vector<std::string> &classes,
                     int32_t numClasses);

} // namespace nnrt

#endif // NNRT_CLASSFOLDERS_H
