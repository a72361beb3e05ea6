//===- Utf8.cpp - UTF-8 validation and decoding for text sources ----------===//
#include "runtime/Utf8.h"

#include <fmt/format.h>

namespace nnrt {

size_t invalidUtf8Offset(const char *data, size_t size) {
  const auto *bytes = reinterpret_cast<const unsigned char *>(data);
  size_t i = 0;
  while (i < size) {
    unsigned char lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The sequence length and the range of its second byte (RFC 3629's
    // table), which excludes overlong forms, surrogates and > U+10FFFF.
    size_t length = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      lo = lead == 0xE0 ? 0xA0 : 0x80;
      hi = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      lo = lead == 0xF0 ? 0x90 : 0x80;
      hi = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return i;
    }
    if (i + length > size)
      return i;
    if (bytes[i + 1] < lo || bytes[i + 1] > hi)
      return i;
    for (size_t k = 2; k < length; ++k)
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xBF)
        return i;
    i += length;
  }
  return std::string::npos;
}

std::string describeInvalidUtf8(const std::string &text, size_t offset) {
  return fmt::format("not valid UTF-8 at byte offset {} (byte 0x{:02x})",
                     offset, static_cast<unsigned char>(text[offset]));
}

char32_t nextCodePoint(const std::string &text, size_t &i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) {
    ++i;
    return lead;
  }
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  char32_t c = lead & (0x7F >> length);
  for (size_t k = 1; k < length; ++k)
    c = (c << 6) | (byte(i + k) & 0x3F);
  i += length;
  return c;
}

void appendUtf8(std::string &out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

void dropByteOrderMark(std::string &text) {
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
    text.erase(0, 3);
}

} // namespace nnrt
