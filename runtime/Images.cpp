//===- Images.cpp - PNG/JPEG image folders (the `images(dir)` source) ----===//
#include "runtime/Images.h"

#include "runtime/ClassFolders.h"
#include "runtime/Error.h"
#include "runtime/HugePages.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

namespace fs = std::filesystem;

namespace nnrt {

ImageSize ImageSize::fromShape(const std::vector<int64_t> &shape,
                               const std::string &what) {
  auto text = [&] {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
      s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  };
  if (shape.size() != 3 || shape[0] < 1 || shape[0] > 4 || shape[1] < 1 ||
      shape[2] < 1 || shape[1] > (1 << 15) || shape[2] > (1 << 15))
    throw Error(what + " " + text() +
                " is not an image size [C, H, W] with C = 1 (grey), 3 (RGB), "
                "2 or 4 (with alpha)");
  return ImageSize{int(shape[0]), int(shape[1]), int(shape[2])};
}

bool isImageFile(const std::string &path) {
  std::string ext = fs::path(path).extension().string();
  for (char &c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

namespace {
struct FileCloser {
  void operator()(std::FILE *file) const { std::fclose(file); }
};
struct PixelsFree {
  void operator()(unsigned char *pixels) const { stbi_image_free(pixels); }
};
} // namespace

void decodeImage(const std::string &path, const ImageSize &size, uint8_t *out) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file)
    throw Error(path + ": cannot open image: " + systemError(errno));
  int width = 0, height = 0, channelsInFile = 0;
  std::unique_ptr<unsigned char, PixelsFree> pixels(stbi_load_from_file(
      file.get(), &width, &height, &channelsInFile, size.channels));
  if (!pixels) {
    // stb's reason is thread-local: this is the decoding thread's.
    const char *reason = stbi_failure_reason();
    throw Error(path + ": not a PNG or JPEG image, or a corrupt one (" +
                (reason ? reason : "unknown error") + ")");
  }
  const unsigned char *hwc = pixels.get();
  std::vector<unsigned char> resized;
  if (width != size.width || height != size.height) {
    resized.resize(size.bytes());
    if (!stbir_resize_uint8_generic(pixels.get(), width, height, 0,
                                    resized.data(), size.width, size.height, 0,
                                    size.channels, STBIR_ALPHA_CHANNEL_NONE, 0,
                                    STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE,
                                    STBIR_COLORSPACE_LINEAR, nullptr))
      throw Error(path + ": cannot resize the image from " +
                  std::to_string(width) + " x " + std::to_string(height) +
                  " to " + std::to_string(size.width) + " x " +
                  std::to_string(size.height));
    hwc = resized.data();
  }
  // stb's rows of interleaved channels (HWC) -> planes (CHW), as PyTorch.
  size_t plane = size_t(size.height) * size.width;
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < size.channels; ++c)
      out[c * plane + p] = hwc[p * size.channels + c];
}

static const SampleFiles kImageFiles = {
    "images()", ".png/.jpg/.jpeg files", "no .png/.jpg/.jpeg images",
    isImageFile};

std::vector<std::string> imageClasses(const std::string &dir) {
  return classSubfolders(dir, kImageFiles);
}

std::vector<std::string> listImages(const std::string &dir) {
  return listSampleFiles(dir, kImageFiles);
}

/// Decodes every file into its slot of `storage`, in parallel. All files
/// are tried; the first failure in path order is reported, so that the
/// message does not depend on the thread schedule.
static void decodeAll(const std::vector<std::string> &paths,
                      const ImageSize &size, DatasetStorage &storage) {
  size_t bytes = size.bytes();
  storage.featureShape = {size.channels, size.height, size.width};
  storage.featureSize = bytes;
  storage.featureType = FeatureType::U8;
  zerosOnHugePages(storage.u8, paths.size() * bytes);
  storage.numSamples = paths.size();
  loadInParallel(paths.size(), [&](size_t i) {
    decodeImage(paths[i], size, storage.u8.data() + i * bytes);
  });
}

Dataset loadImageFolder(const std::string &dir,
                        const ImageFolderOptions &options) {
  ClassFolderScan scan = scanClassFolders(dir, options.classes,
                                          options.numClasses, kImageFiles);
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = dir;
  decodeAll(scan.paths, options.size, *storage);
  setClassTargets(*storage, std::move(scan), options.numClasses);
  return Dataset(std::move(storage));
}

Dataset loadImageFiles(const std::vector<std::string> &paths,
                       const ImageSize &size, const std::string &source) {
  if (paths.empty())
    throw Error(source + ": holds no .png/.jpg/.jpeg images");
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = source;
  decodeAll(paths, size, *storage);
  storage->paths = paths;
  return Dataset(std::move(storage));
}

std::vector<std::string> readImageList(const std::string &listPath) {
  std::ifstream in(listPath);
  if (!in)
    throw Error(listPath + ": cannot open file: " + systemError(errno));
  fs::path base = fs::path(listPath).parent_path();
  std::vector<std::string> paths;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#')
      continue;
    size_t end = line.find_last_not_of(" \t\r");
    fs::path p = line.substr(begin, end - begin + 1);
    std::string path = p.is_absolute() ? p.string() : (base / p).string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      throw Error(listPath + ":" + std::to_string(number) +
                  ": no such image '" + path + "'");
    paths.push_back(path);
  }
  return paths;
}

} // namespace nnrt
