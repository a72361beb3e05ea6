//===- ArchiveTest.cpp - ELF data objects and ar archives -----------------===//
#include "runtime/Archive.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

using namespace nnrt;

namespace {

template <typename T> T at(const std::string &s, size_t offset) {
  T v;
  std::memcpy(&v, s.data() + offset, sizeof(T));
  return v;
}

uint32_t bigEndian32(const std::string &s, size_t offset) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = v << 8 | static_cast<unsigned char>(s[offset + i]);
  return v;
}

TEST(Archive, ElfObjectHoldsTheDataUnderItsSymbol) {
  float data[3] = {1.5f, -2.0f, 3.25f};
  std::string obj = elfDataObject("weights", data, sizeof(data));
  ASSERT_GE(obj.size(), 64u);
  EXPECT_EQ(obj.substr(0, 4), "\x7f"
                              "ELF");
  EXPECT_EQ(obj[4], 2);                // 64-bit
  EXPECT_EQ(obj[5], 1);                // little-endian
  EXPECT_EQ(at<uint16_t>(obj, 16), 1); // ET_REL
  uint64_t shoff = at<uint64_t>(obj, 40);
  uint16_t shnum = at<uint16_t>(obj, 60), shstrndx = at<uint16_t>(obj, 62);
  ASSERT_EQ(shnum, 6);
  ASSERT_LE(shoff + 64 * shnum, obj.size());
  auto section = [&](int i, size_t field) { return shoff + 64 * i + field; };
  uint64_t names = at<uint64_t>(obj, section(shstrndx, 24));
  auto name = [&](int i) {
    return std::string(obj.c_str() + names + at<uint32_t>(obj, section(i, 0)));
  };
  EXPECT_EQ(name(1), ".rodata");
  EXPECT_EQ(name(2), ".symtab");
  EXPECT_EQ(name(5), ".note.GNU-stack");
  // .rodata: the bytes, 64-byte aligned.
  uint64_t rodata = at<uint64_t>(obj, section(1, 24));
  EXPECT_EQ(rodata % 64, 0u);
  EXPECT_EQ(at<uint64_t>(obj, section(1, 32)), sizeof(data));
  EXPECT_EQ(std::memcmp(obj.data() + rodata, data, sizeof(data)), 0);
  // The global symbol: in .rodata at 0, of the data's size, named.
  uint64_t symtab = at<uint64_t>(obj, section(2, 24));
  uint64_t strtab = at<uint64_t>(obj, section(3, 24));
  size_t sym = symtab + 24;
  EXPECT_EQ(std::string(obj.c_str() + strtab + at<uint32_t>(obj, sym)),
            "weights");
  EXPECT_EQ(static_cast<unsigned char>(obj[sym + 4]), 0x11); // GLOBAL OBJECT
  EXPECT_EQ(at<uint16_t>(obj, sym + 6), 1);
  EXPECT_EQ(at<uint64_t>(obj, sym + 16), sizeof(data));
}

TEST(Archive, IndexPointsAtTheMembersDefiningEachSymbol) {
  std::string lib = arArchive(
      {{"code.o", "abc", {"f", "g"}}, {"data.o", "wxyz", {"weights"}}});
  ASSERT_EQ(lib.substr(0, 8), "!<arch>\n");
  EXPECT_EQ(lib.substr(8, 16), "/               ");
  EXPECT_EQ(lib.substr(8 + 58, 2), "`\n");
  size_t indexSize = std::stoul(lib.substr(8 + 48, 10));
  ASSERT_EQ(bigEndian32(lib, 68), 3u);
  uint32_t f = bigEndian32(lib, 72), g = bigEndian32(lib, 76),
           w = bigEndian32(lib, 80);
  EXPECT_EQ(std::string(lib.c_str() + 84), "f");
  EXPECT_EQ(f, g);
  EXPECT_EQ(f, 68 + indexSize + indexSize % 2);
  EXPECT_EQ(lib.substr(f, 16), "code.o/         ");
  EXPECT_EQ(lib.substr(f + 60, 3), "abc");
  EXPECT_EQ(lib[f + 63], '\n'); // odd sizes are padded
  EXPECT_EQ(w, f + 64);
  EXPECT_EQ(lib.substr(w, 16), "data.o/         ");
  EXPECT_EQ(std::stoul(lib.substr(w + 48, 10)), 4u);
  EXPECT_EQ(lib.substr(w + 60), "wxyz");
}

} // namespace
