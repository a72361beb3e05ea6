//===- HugePagesTest.cpp - sample stores advised onto 2 MiB pages ---------===//
#include "runtime/HugePages.h"
#include "runtime/Idx.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace nnrt;

namespace {

/// The VmFlags of the mapping of this process that holds `p` (smaps), or
/// "" when none does.
std::string vmFlagsAt(const void *p) {
  auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &begin, &end) == 2 &&
        line.find(':') > line.find(' ')) {
      inside = begin <= at && at < end;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0)
      return line.substr(8);
  }
  return "";
}

/// Whether the flags hold "hg" (MADV_HUGEPAGE).
bool advised(const std::string &flags) {
  std::istringstream words(flags);
  for (std::string w; words >> w;)
    if (w == "hg")
      return true;
  return false;
}

bool kernelHasHugePages() {
  return std::filesystem::exists("/sys/kernel/mm/transparent_hugepage");
}

} // namespace

TEST(HugePages, ReserveAdvisesTheWholePagesInside) {
  if (!kernelHasHugePages())
    GTEST_SKIP() << "kernel without transparent huge pages";
  std::vector<float> store;
  size_t n = size_t(16) << 20; // 64 MiB: fresh pages of their own mapping
  reserveHugePages(store, n);
  EXPECT_TRUE(store.empty());
  ASSERT_GE(store.capacity(), n);
  const float *middle = store.data() + n / 2;
  EXPECT_TRUE(advised(vmFlagsAt(middle))) << vmFlagsAt(middle);
  // Filled after the advice: the elements are the ones written.
  store.assign(n, 0.0f);
  store[n / 2] = 3.0f;
  EXPECT_EQ(store[n / 2], 3.0f);
  EXPECT_EQ(store[n - 1], 0.0f);
}

TEST(HugePages, SmallOrEmptyRangesAreLeftAlone) {
  std::vector<uint8_t> small;
  reserveHugePages(small, 1000); // inside one 4 KiB page: no whole 2 MiB one
  EXPECT_GE(small.capacity(), 1000u);
  EXPECT_FALSE(advised(vmFlagsAt(small.data())));
  adviseHugePages(nullptr, size_t(8) << 20); // no memory: nothing to advise
  std::vector<int32_t> none;
  reserveHugePages(none, 0);
  EXPECT_EQ(none.capacity(), 0u);
}

// Fashion-MNIST's 47 MB of training images (the store a shuffled epoch reads
// all over) are read into advised memory.
TEST(HugePages, IdxImagesAreAdvised) {
  std::string dir = NNRT_FASHION_DIR;
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed at " << dir;
  if (!kernelHasHugePages())
    GTEST_SKIP() << "kernel without transparent huge pages";
  Dataset train =
      loadIdxDataset(dir + "/train-images-idx3-ubyte.gz",
                     dir + "/train-labels-idx1-ubyte.gz", IdxOptions{10});
  const std::vector<uint8_t> &bytes = train.store().u8;
  ASSERT_EQ(bytes.size(), 60000u * 784u);
  const uint8_t *middle = bytes.data() + bytes.size() / 2;
  EXPECT_TRUE(advised(vmFlagsAt(middle))) << vmFlagsAt(middle);
}
