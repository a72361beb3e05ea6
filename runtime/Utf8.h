//===- Utf8.h - UTF-8 validation and decoding for text sources -*- C++ -*-===//
//
// Text samples must be UTF-8 as RFC 3629 defines it: no overlong forms, no
// UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF. A file that is
// not is rejected, naming the offset Python's strict decoder reports
// (UnicodeDecodeError.start): the first byte of the first bad sequence.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_UTF8_H
#define NNRT_UTF8_H

#include <cstddef>
#include <string>

namespace nnrt {

/// The offset of the first byte of the first invalid sequence in
/// data[0 .. size), or std::string::npos when all of it is valid UTF-8.
size_t invalidUtf8Offset(const char *data, size_t size);
inline size_t invalidUtf8Offset(const std::string &text) {
  return invalidUtf8Offset(text.data(), text.size());
}

/// "not valid UTF-8 at byte offset 12 (byte 0xff)", for messages.
std::string describeInvalidUtf8(const std::string &text, size_t offset);

/// Decodes the code point starting at text[i] of valid UTF-8 and moves i
/// past it.
char32_t nextCodePoint(const std::string &text, size_t &i);

/// Appends code point `c` (a valid scalar value) as UTF-8.
void appendUtf8(std::string &out, char32_t c);

/// Drops a leading byte order mark (EF BB BF), as Python's "utf-8-sig".
void dropByteOrderMark(std::string &text);

} // namespace nnrt

#endif // NNRT_UTF8_H
