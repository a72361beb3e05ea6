//===- Archive.h - ELF data objects and ar archives for export --*- C++ -*-===//
//
// `./model export` writes a static library that `cc main.c libmodel.a -lm`
// links: the generated inference object nnc embedded in the program, and the
// exported weights as an object of their own. Both containers are written
// here, without a toolchain: an ELF64 relocatable object whose .rodata holds
// the weights under one global symbol, and a System V / GNU `ar` archive with
// the symbol index ("/" member) that linkers need to pull members.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_ARCHIVE_H
#define NNRT_ARCHIVE_H

#include <string>
#include <vector>

namespace nnrt {

/// An ELF64 relocatable object for this host's architecture (x86-64 or
/// AArch64, little-endian) defining the global data symbol `symbol`: `size`
/// bytes in .rodata, 64-byte aligned, and a .note.GNU-stack section (no
/// executable stack).
std::string elfDataObject(const std::string &symbol, const void *data,
                          size_t size);

struct ArchiveMember {
  std::string name; ///< file name, at most 15 characters
  std::string data;
  std::vector<std::string> symbols; ///< the global symbols it defines
};

/// A GNU `ar` archive (what `ar rcs` writes): the symbol index, then the
/// members in order, each padded to an even size.
std::string arArchive(const std::vector<ArchiveMember> &members);

} // namespace nnrt

#endif // NNRT_ARCHIVE_H
