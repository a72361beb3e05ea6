//===- Archive.cpp - ELF data objects and ar archives for export ----------===//
#include "runtime/Archive.h"
#include "runtime/Error.h"

#include <cstdint>
#include <cstring>

namespace nnrt {
namespace {

template <typename T> void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T)); // the host is little-endian
  out.append(bytes, sizeof(T));
}

void putBigEndian32(std::string &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void align(std::string &out, size_t to) {
  while (out.size() % to)
    out.push_back('\0');
}

// ELF constants (System V ABI).
constexpr uint16_t kRel = 1;
#if defined(__aarch64__)
constexpr uint16_t kMachine = 183; // EM_AARCH64
#else
constexpr uint16_t kMachine = 62; // EM_X86_64
#endif
constexpr uint32_t kProgbits = 1, kSymtab = 2, kStrtab = 3;
constexpr uint64_t kAlloc = 2;

struct Section {
  uint32_t name, type;
  uint64_t flags, offset, size;
  uint32_t link, info;
  uint64_t align, entsize;
};

} // namespace

std::string elfDataObject(const std::string &symbol, const void *data,
                          size_t size) {
  std::string out(64, '\0'); // the header, written last
  // .rodata
  align(out, 64);
  uint64_t rodata = out.size();
  out.append(static_cast<const char *>(data), size);
  // .symtab: the null symbol, then the global object.
  align(out, 8);
  uint64_t symtab = out.size();
  out.append(24, '\0');
  put<uint32_t>(out, 1); // st_name: after the strtab's leading NUL
  out.push_back(0x11);   // STB_GLOBAL << 4 | STT_OBJECT
  out.push_back(0);      // STV_DEFAULT
  put<uint16_t>(out, 1); // st_shndx: .rodata
  put<uint64_t>(out, 0); // st_value
  put<uint64_t>(out, size);
  // .strtab, .shstrtab
  uint64_t strtab = out.size();
  std::string names = std::string(1, '\0') + symbol + '\0';
  out += names;
  uint64_t shstrtab = out.size();
  const char *sectionNames[] = {"",        ".rodata",   ".symtab",
                                ".strtab", ".shstrtab", ".note.GNU-stack"};
  std::vector<uint32_t> nameOffsets;
  std::string shnames;
  for (const char *n : sectionNames) {
    nameOffsets.push_back(static_cast<uint32_t>(shnames.size()));
    shnames += n;
    shnames.push_back('\0');
  }
  out += shnames;
  align(out, 8);
  uint64_t sectionHeaders = out.size();
  Section sections[] = {
      {0, 0, 0, 0, 0, 0, 0, 0, 0},
      {nameOffsets[1], kProgbits, kAlloc, rodata, size, 0, 0, 64, 0},
      {nameOffsets[2], kSymtab, 0, symtab, 48, 3, 1, 8, 24},
      {nameOffsets[3], kStrtab, 0, strtab, names.size(), 0, 0, 1, 0},
      {nameOffsets[4], kStrtab, 0, shstrtab, shnames.size(), 0, 0, 1, 0},
      {nameOffsets[5], kProgbits, 0, shstrtab, 0, 0, 0, 1, 0},
  };
  for (const Section &s : sections) {
    put(out, s.name);
    put(out, s.type);
    put(out, s.flags);
    put<uint64_t>(out, 0); // sh_addr
    put(out, s.offset);
    put(out, s.size);
    put(out, s.link);
    put(out, s.info);
    put(out, s.align);
    put(out, s.entsize);
  }
  std::string header = {0x7f,         'E',      'L', 'F',
                        2 /*64-bit*/, 1 /*LE*/, 1 /*version*/};
  header.resize(16, '\0');
  put<uint16_t>(header, kRel);
  put<uint16_t>(header, kMachine);
  put<uint32_t>(header, 1);
  put<uint64_t>(header, 0); // e_entry
  put<uint64_t>(header, 0); // e_phoff
  put<uint64_t>(header, sectionHeaders);
  put<uint32_t>(header, 0); // e_flags
  put<uint16_t>(header, 64);
  put<uint16_t>(header, 0);
  put<uint16_t>(header, 0);
  put<uint16_t>(header, 64);
  put<uint16_t>(header, std::size(sections));
  put<uint16_t>(header, 4); // .shstrtab
  out.replace(0, header.size(), header);
  return out;
}

namespace {

/// A member header: name, date 0, uid 0, gid 0, mode 644, size.
std::string memberHeader(const std::string &name, size_t size) {
  auto field = [](std::string s, size_t width) {
    s.resize(width, ' ');
    return s;
  };
  return field(name, 16) + field("0", 12) + field("0", 6) + field("0", 6) +
         field("644", 8) + field(std::to_string(size), 10) + "`\n";
}

} // namespace

std::string arArchive(const std::vector<ArchiveMember> &members) {
  for (const ArchiveMember &m : members)
    if (m.name.empty() || m.name.size() > 15 ||
        m.name.find('/') != std::string::npos)
      throw Error("internal: archive member name '" + m.name + "'");
  // The symbol index's size first: the members' offsets follow it.
  size_t count = 0, namesSize = 0;
  for (const ArchiveMember &m : members)
    for (const std::string &s : m.symbols) {
      ++count;
      namesSize += s.size() + 1;
    }
  size_t indexSize = 4 + 4 * count + namesSize;
  size_t offset = 8 + 60 + indexSize + indexSize % 2;
  std::string index;
  putBigEndian32(index, static_cast<uint32_t>(count));
  std::string names;
  for (const ArchiveMember &m : members) {
    for (const std::string &s : m.symbols) {
      putBigEndian32(index, static_cast<uint32_t>(offset));
      names += s;
      names.push_back('\0');
    }
    offset += 60 + m.data.size() + m.data.size() % 2;
  }
  index += names;
  std::string out = "!<arch>\n" + memberHeader("/", index.size()) + index;
  if (index.size() % 2)
    out.push_back('\n');
  for (const ArchiveMember &m : members) {
    out += memberHeader(m.name + "/", m.data.size()) + m.data;
    if (m.data.size() % 2)
      out.push_back('\n');
  }
  return out;
}

} // namespace nnrt
