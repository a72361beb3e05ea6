//===- ImagesTest.cpp - PNG/JPEG image folders: decoding, resizing, errors ===//
//
// Images are written with stb_image_write (libstb) so that their pixel values
// are known, then read back through the loader.
//
//===----------------------------------------------------------------------===//
#include "runtime/Images.h"

#include "TestUtil.h"

#include <stb_image_write.h>

#include <cstdlib>
#include <filesystem>

using namespace nnrt;
using namespace nnrt::test;

namespace fs = std::filesystem;

namespace {

/// Interleaved (HWC) pixels of a w x h image with `c` channels.
struct Pixels {
  int w, h, c;
  std::vector<uint8_t> data;
  Pixels(int w, int h, int c) : w(w), h(h), c(c), data(size_t(w) * h * c) {}
  uint8_t &at(int y, int x, int ch) {
    return data[(size_t(y) * w + x) * c + ch];
  }
};

void writePng(const std::string &path, const Pixels &p) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_NE(
      stbi_write_png(path.c_str(), p.w, p.h, p.c, p.data.data(), p.w * p.c), 0);
}

void writeJpg(const std::string &path, const Pixels &p) {
  fs::create_directories(fs::path(path).parent_path());
  ASSERT_NE(stbi_write_jpg(path.c_str(), p.w, p.h, p.c, p.data.data(), 100), 0);
}

Pixels uniform(int w, int h, std::vector<uint8_t> colour) {
  Pixels p(w, h, int(colour.size()));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < p.c; ++ch)
        p.at(y, x, ch) = colour[ch];
  return p;
}

std::vector<uint8_t> decode(const std::string &path, ImageSize size) {
  std::vector<uint8_t> out(size.bytes());
  decodeImage(path, size, out.data());
  return out;
}

} // namespace

TEST(Images, PngDecodesExactlyIntoChw) {
  TempDir dir;
  Pixels p(3, 2, 3); // 3 wide, 2 high, RGB
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c)
        p.at(y, x, c) = uint8_t(100 * c + 10 * y + x);
  writePng(dir.file("a.png"), p);
  std::vector<uint8_t> chw = decode(dir.file("a.png"), {3, 2, 3});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_EQ(chw[c * 6 + y * 3 + x], 100 * c + 10 * y + x)
            << "c " << c << " y " << y << " x " << x;
}

TEST(Images, ChannelConversion) {
  TempDir dir;
  // RGB -> grey: stb's luma (77 r + 150 g + 29 b) >> 8.
  Pixels rgb(2, 1, 3);
  rgb.at(0, 0, 0) = 255; // red
  for (int c = 0; c < 3; ++c)
    rgb.at(0, 1, c) = 255; // white
  writePng(dir.file("rgb.png"), rgb);
  EXPECT_EQ(decode(dir.file("rgb.png"), {1, 1, 2}),
            (std::vector<uint8_t>{(77 * 255) >> 8, 255}));
  // Grey -> RGB: the value in every channel.
  writePng(dir.file("grey.png"), uniform(2, 2, {42}));
  EXPECT_EQ(decode(dir.file("grey.png"), {3, 2, 2}),
            std::vector<uint8_t>(12, 42));
  // RGBA -> RGB drops alpha.
  writePng(dir.file("rgba.png"), uniform(1, 1, {1, 2, 3, 128}));
  EXPECT_EQ(decode(dir.file("rgba.png"), {3, 1, 1}),
            (std::vector<uint8_t>{1, 2, 3}));
}

TEST(Images, JpegDecodesCloseToItsPixels) {
  TempDir dir;
  writeJpg(dir.file("a.JPG"), uniform(16, 8, {200, 100, 30}));
  std::vector<uint8_t> chw = decode(dir.file("a.JPG"), {3, 8, 16});
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 8 * 16; ++i)
      EXPECT_NEAR(chw[c * 128 + i], (std::vector<int>{200, 100, 30})[c], 3);
}

TEST(Images, Resize) {
  TempDir dir;
  // A uniform colour stays that colour at any size.
  writePng(dir.file("u.png"), uniform(7, 5, {10, 20, 30}));
  std::vector<uint8_t> small = decode(dir.file("u.png"), {3, 3, 3});
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 9; ++i)
      EXPECT_NEAR(small[c * 9 + i], 10 * (c + 1), 1);
  std::vector<uint8_t> big = decode(dir.file("u.png"), {3, 11, 13});
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(big[c * 143 + 77], 10 * (c + 1), 1);
  // Black left half, white right half, 8 -> 4 wide: the edges keep their
  // value, the middle blends (a bilinear filter, not nearest neighbour).
  Pixels halves(8, 2, 1);
  for (int y = 0; y < 2; ++y)
    for (int x = 4; x < 8; ++x)
      halves.at(y, x, 0) = 255;
  writePng(dir.file("h.png"), halves);
  std::vector<uint8_t> row = decode(dir.file("h.png"), {1, 1, 4});
  EXPECT_LE(row[0], 5);
  EXPECT_GE(row[3], 250);
  EXPECT_GT(row[1], 0);
  EXPECT_LT(row[1], row[2]);
  EXPECT_LT(row[2], 255);
}

TEST(Images, FolderClassesLabelsAndPaths) {
  TempDir dir;
  std::string root = dir.file("train");
  // Class order is the sorted folder names, not creation order.
  writePng(root + "/zebra/1.png", uniform(4, 4, {1, 1, 1}));
  writePng(root + "/zebra/0.PNG", uniform(4, 4, {2, 2, 2}));
  writeJpg(root + "/ant/x.jpeg", uniform(4, 4, {3, 3, 3}));
  writePng(root + "/ant/sub/y.png", uniform(4, 4, {4, 4, 4}));
  writeFile(root + "/ant/notes.txt", "not an image");
  writePng(root + "/.hidden/z.png", uniform(4, 4, {5, 5, 5}));
  writePng(root + "/loose.png", uniform(4, 4, {6, 6, 6}));
  ImageFolderOptions options;
  options.size = {3, 2, 2};
  Dataset data = loadImageFolder(root, options);
  const DatasetStorage &s = data.store();
  EXPECT_EQ(s.classNames, (std::vector<std::string>{"ant", "zebra"}));
  EXPECT_EQ(data.numClasses(), 2);
  EXPECT_EQ(s.featureShape, (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(s.featureType, FeatureType::U8);
  ASSERT_EQ(data.size(), 4u);
  EXPECT_EQ(s.paths, (std::vector<std::string>{
                         root + "/ant/sub/y.png", root + "/ant/x.jpeg",
                         root + "/zebra/0.PNG", root + "/zebra/1.png"}));
  EXPECT_EQ(s.labels, (std::vector<int32_t>{0, 0, 1, 1}));
  EXPECT_EQ(s.u8[0], 4);
  EXPECT_NEAR(s.u8[12], 3, 2);
  EXPECT_EQ(s.u8[24], 2);
  EXPECT_EQ(s.u8[36], 1);
  std::vector<float> f(12);
  data.copyFeatures(3, f.data());
  EXPECT_EQ(f, std::vector<float>(12, 1.0f));

  // A validation folder takes the training classes' order; a class may be
  // missing, an unknown one is an error.
  std::string val = dir.file("val");
  writePng(val + "/zebra/a.png", uniform(4, 4, {9, 9, 9}));
  options.classes = {"ant", "zebra"};
  Dataset v = loadImageFolder(val, options);
  EXPECT_EQ(v.store().labels, (std::vector<int32_t>{1}));
  writePng(val + "/zebre/a.png", uniform(4, 4, {9, 9, 9}));
  EXPECT_NNRT_ERROR(loadImageFolder(val, options),
                    "zebre: class 'zebre' is not one of the training data's "
                    "classes; did you mean 'zebra'?");

  // More classes than the model's outputs.
  options.classes.clear();
  options.numClasses = 1;
  EXPECT_NNRT_ERROR(loadImageFolder(root, options),
                    "2 classes (ant, zebra) but the model has 1 outputs");
}

TEST(Images, FolderErrors) {
  TempDir dir;
  ImageFolderOptions options;
  options.size = {1, 4, 4};
  EXPECT_NNRT_ERROR(loadImageFolder(dir.file("missing"), options),
                    "missing: no such folder");
  fs::create_directories(dir.file("empty"));
  EXPECT_NNRT_ERROR(loadImageFolder(dir.file("empty"), options),
                    "empty: has no class subfolders");
  fs::create_directories(dir.file("noimages/cat"));
  writeFile(dir.file("noimages/cat/readme.md"), "text");
  EXPECT_NNRT_ERROR(
      loadImageFolder(dir.file("noimages"), options),
      "noimages/cat: class folder holds no .png/.jpg/.jpeg images");
}

TEST(Images, CorruptFileIsNamed) {
  TempDir dir;
  std::string root = dir.file("train");
  for (int i = 0; i < 20; ++i)
    writePng(root + "/cat/" + std::to_string(i) + ".png", uniform(4, 4, {7}));
  writeFile(root + "/cat/broken.png", "\x89PNG\r\n\x1a\n garbage");
  fs::create_directories(root + "/dog");
  writeFile(root + "/dog/zero.jpg", "");
  ImageFolderOptions options;
  options.size = {1, 4, 4};
  // The first bad file in path order, whatever thread decoded it.
  EXPECT_NNRT_ERROR(loadImageFolder(root, options),
                    root + "/cat/broken.png: not a PNG or JPEG image, or a "
                           "corrupt one (");
  fs::remove(root + "/cat/broken.png");
  EXPECT_NNRT_ERROR(loadImageFolder(root, options), root + "/dog/zero.jpg: ");
}

TEST(Images, PredictInputs) {
  TempDir dir;
  writePng(dir.file("imgs/b.png"), uniform(2, 2, {50}));
  writePng(dir.file("imgs/a.png"), uniform(2, 2, {60}));
  writeFile(dir.file("list.txt"), "# images to classify\n\n  imgs/b.png \r\n" +
                                      dir.file("imgs/a.png") + "\n");
  std::vector<std::string> listed = readImageList(dir.file("list.txt"));
  EXPECT_EQ(listed, (std::vector<std::string>{dir.file("imgs/b.png"),
                                              dir.file("imgs/a.png")}));
  Dataset d = loadImageFiles(listed, {1, 2, 2}, "list.txt");
  EXPECT_EQ(d.targetKind(), TargetKind::None);
  EXPECT_EQ(d.store().u8,
            (std::vector<uint8_t>{50, 50, 50, 50, 60, 60, 60, 60}));
  EXPECT_EQ(listImages(dir.file("imgs")),
            (std::vector<std::string>{dir.file("imgs/a.png"),
                                      dir.file("imgs/b.png")}));
  writeFile(dir.file("bad.lst"), "imgs/a.png\nimgs/nope.png\n");
  EXPECT_NNRT_ERROR(readImageList(dir.file("bad.lst")),
                    "bad.lst:2: no such image '" + dir.file("imgs/nope.png") +
                        "'");
  EXPECT_NNRT_ERROR(loadImageFiles({}, {1, 2, 2}, "folder"),
                    "folder: holds no .png/.jpg/.jpeg images");
  EXPECT_NNRT_ERROR(ImageSize::fromShape({5, 2, 2}, "size"),
                    "size [5, 2, 2] is not an image size");
}
