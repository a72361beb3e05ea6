//===- Images.h - PNG/JPEG image folders, the images() source -*- C++ -*-===//
//
// `images("dir", size = [C, H, W])` reads a folder with one subfolder per
// class, as torchvision's ImageFolder: the class index is the position of
// the subfolder's name in the sorted list of names. Images are decoded with
// stb_image (Debian's libstb), converted to C channels, resized to H x W and
// kept as uint8 CHW, like IDX images: preprocessing (`scale(1 / 255)`, ...)
// applies when batches are built.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_IMAGES_H
#define NNRT_IMAGES_H

#include "runtime/Dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnrt {

/// The per-sample shape images are converted to.
struct ImageSize {
  int channels = 3; ///< 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
  int height = 0, width = 0;

  /// From [C, H, W]; throws nnrt::Error unless C is 1..4 and H, W > 0.
  static ImageSize fromShape(const std::vector<int64_t> &shape,
                             const std::string &what);
  size_t bytes() const { return size_t(channels) * height * width; }
};

/// True for names ending in .png, .jpg or .jpeg (any case).
bool isImageFile(const std::string &path);

/// Decodes one PNG or JPEG file into `out` (size.bytes() bytes, CHW order):
/// stb converts to `size.channels` channels (grey = the luma of RGB), then
/// the image is stretched to height x width with a triangle (bilinear)
/// filter whose support widens when shrinking, as PIL's bilinear resize;
/// an image already of that size is copied exactly. Throws nnrt::Error
/// naming the file when it cannot be read or decoded.
void decodeImage(const std::string &path, const ImageSize &size, uint8_t *out);

/// The class subfolders of `dir`, sorted by name (hidden folders, whose
/// name starts with '.', are skipped). Throws nnrt::Error when `dir` is not
/// a folder or has no subfolder.
std::vector<std::string> imageClasses(const std::string &dir);

/// The image files under `dir` and its subfolders, sorted by path. Other
/// files are ignored.
std::vector<std::string> listImages(const std::string &dir);

struct ImageFolderOptions {
  ImageSize size;
  /// The classes the labels index, in order: empty takes the folder's own
  /// sorted subfolders. A validation or test folder gets the training
  /// folder's list so that indices agree; a subfolder not in the list is
  /// an error, a class without a subfolder is fine.
  std::vector<std::string> classes;
  /// The model's number of classes; more classes than that is an error.
  /// 0: no check.
  int32_t numClasses = 0;
};

/// Loads an image folder: per-sample shape [C, H, W], u8 storage, class
/// labels, the class names and each sample's path. Files are decoded in
/// parallel on oneTBB threads; the first undecodable file (in path order)
/// is reported. Errors: no class subfolder, a class folder without images,
/// an unreadable or corrupt image.
Dataset loadImageFolder(const std::string &dir,
                        const ImageFolderOptions &options);

/// Decodes `paths` (in parallel) into a dataset without targets, for
/// predict; `source` names the input in messages.
Dataset loadImageFiles(const std::vector<std::string> &paths,
                       const ImageSize &size, const std::string &source);

/// The image paths listed in a text file, one per line; blank lines and
/// lines starting with '#' are skipped, surrounding spaces trimmed, and a
/// relative path is relative to the list file's folder. A listed file that
/// does not exist is an error naming the list and line.
std::vector<std::string> readImageList(const std::string &listPath);

} // namespace nnrt

#endif // NNRT_IMAGES_H
