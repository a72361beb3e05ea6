//===- SafeTensors.cpp - safetensors checkpoint files ---------------------===//
#include "runtime/SafeTensors.h"

#include "runtime/AtomicWrite.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; nnrt copies it verbatim");

namespace nnrt {

namespace {
struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t size;
};
const DTypeInfo dtypeTable[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},     {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::I32, "I32", 4},   {DType::I64, "I64", 8},
    {DType::F16, "F16", 2},   {DType::BF16, "BF16", 2}, {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},
};
// Like the reference implementation, refuse absurd headers before parsing.
constexpr uint64_t MaxHeaderBytes = 100'000'000;
} // namespace

size_t dtypeSize(DType dtype) {
  for (const DTypeInfo &info : dtypeTable)
    if (info.dtype == dtype)
      return info.size;
  return 0;
}

const char *dtypeName(DType dtype) {
  for (const DTypeInfo &info : dtypeTable)
    if (info.dtype == dtype)
      return info.name;
  return "?";
}

bool parseDType(const std::string &name, DType &dtype) {
  for (const DTypeInfo &info : dtypeTable)
    if (name == info.name) {
      dtype = info.dtype;
      return true;
    }
  return false;
}

template <typename T>
static TensorData makeTensor(std::string name, DType dtype,
                             std::vector<int64_t> shape,
                             const std::vector<T> &values) {
  TensorData tensor;
  tensor.name = std::move(name);
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.bytes.resize(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

TensorData TensorData::f32(std::string name, std::vector<int64_t> shape,
                           const std::vector<float> &values) {
  return makeTensor(std::move(name), DType::F32, std::move(shape), values);
}
TensorData TensorData::i64(std::string name, std::vector<int64_t> shape,
                           const std::vector<int64_t> &values) {
  return makeTensor(std::move(name), DType::I64, std::move(shape), values);
}
TensorData TensorData::i32(std::string name, std::vector<int64_t> shape,
                           const std::vector<int32_t> &values) {
  return makeTensor(std::move(name), DType::I32, std::move(shape), values);
}
TensorData TensorData::u8(std::string name, std::vector<int64_t> shape,
                          const std::vector<uint8_t> &values) {
  return makeTensor(std::move(name), DType::U8, std::move(shape), values);
}

TensorView TensorData::view() const {
  return TensorView{name, dtype, shape, bytes.data(), bytes.size()};
}

/// Checks the tensors and returns the padded JSON header.
static std::string
buildHeader(const std::vector<TensorView> &tensors,
            const std::map<std::string, std::string> &metadata,
            const std::string &where) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto &[key, value] : metadata)
      meta[key] = value;
    header["__metadata__"] = meta;
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const TensorView &tensor : tensors) {
    if (tensor.name.empty() || tensor.name == "__metadata__")
      throw Error(where + ": invalid tensor name '" + tensor.name + "'");
    if (!seen.insert(tensor.name).second)
      throw Error(where + ": tensor '" + tensor.name + "' given twice");
    uint64_t elements = 1;
    for (int64_t dim : tensor.shape) {
      if (dim < 0)
        throw Error(where + ": tensor '" + tensor.name +
                    "' has a negative dimension");
      elements *= uint64_t(dim);
    }
    if (elements * dtypeSize(tensor.dtype) != tensor.byteSize)
      throw Error(where + ": tensor '" + tensor.name + "' has " +
                  std::to_string(tensor.byteSize) + " bytes but its dtype " +
                  dtypeName(tensor.dtype) + " and shape need " +
                  std::to_string(elements * dtypeSize(tensor.dtype)));
    header[tensor.name] = {
        {"dtype", dtypeName(tensor.dtype)},
        {"shape", tensor.shape},
        {"data_offsets", {offset, offset + tensor.byteSize}}};
    offset += tensor.byteSize;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

static void appendLength(std::vector<uint8_t> &out, uint64_t length) {
  for (int b = 0; b < 8; ++b)
    out.push_back(uint8_t(length >> (8 * b)));
}

std::vector<uint8_t>
encodeSafeTensors(const std::vector<TensorView> &tensors,
                  const std::map<std::string, std::string> &metadata) {
  std::string header = buildHeader(tensors, metadata, "safetensors");
  std::vector<uint8_t> out;
  appendLength(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  for (const TensorView &tensor : tensors) {
    const uint8_t *data = static_cast<const uint8_t *>(tensor.data);
    out.insert(out.end(), data, data + tensor.byteSize);
  }
  return out;
}

void writeSafeTensors(const std::string &path,
                      const std::vector<TensorView> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  std::string header = buildHeader(tensors, metadata, baseName(path));
  std::vector<uint8_t> prefix;
  appendLength(prefix, header.size());
  std::vector<ByteRange> parts = {{prefix.data(), prefix.size()},
                                  {header.data(), header.size()}};
  for (const TensorView &tensor : tensors)
    parts.push_back({tensor.data, tensor.byteSize});
  writeFileAtomically(path, parts);
}

size_t SafeTensorsFile::Entry::numElements() const {
  size_t n = 1;
  for (int64_t dim : shape)
    n *= size_t(dim);
  return n;
}

SafeTensorsFile SafeTensorsFile::read(const std::string &path) {
  std::string where = baseName(path);
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    throw Error(where + ": cannot open checkpoint: " + systemError(errno));
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  size_t got;
  while ((got = std::fread(chunk.data(), 1, chunk.size(), file)) > 0)
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  bool failed = std::ferror(file);
  std::fclose(file);
  if (failed)
    throw Error(where + ": read error");
  return parse(std::move(bytes), where);
}

SafeTensorsFile SafeTensorsFile::parse(std::vector<uint8_t> bytes,
                                       const std::string &name) {
  SafeTensorsFile file;
  file.name = name;
  if (bytes.size() < 8)
    throw Error(name +
                ": not a safetensors file: " + std::to_string(bytes.size()) +
                " bytes, shorter than the 8-byte header length");
  uint64_t headerLength = 0;
  for (int b = 0; b < 8; ++b)
    headerLength |= uint64_t(bytes[b]) << (8 * b);
  if (headerLength > bytes.size() - 8)
    throw Error(name + ": header length " + std::to_string(headerLength) +
                " exceeds the file size " + std::to_string(bytes.size()) +
                " (truncated or not a safetensors file)");
  if (headerLength > MaxHeaderBytes)
    throw Error(name + ": header length " + std::to_string(headerLength) +
                " is too large");
  if (headerLength < 2 || bytes[8] != '{')
    throw Error(name + ": header is not a JSON object");
  file.dataStart = 8 + headerLength;
  size_t dataSize = bytes.size() - file.dataStart;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8,
                                   bytes.begin() + file.dataStart);
  } catch (const nlohmann::json::exception &e) {
    throw Error(name + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object())
    throw Error(name + ": header is not a JSON object");

  for (const auto &[key, value] : header.items()) {
    std::string tensor = "tensor '" + key + "'";
    if (key == "__metadata__") {
      if (!value.is_object())
        throw Error(name + ": __metadata__ is not an object");
      for (const auto &[metaKey, metaValue] : value.items()) {
        if (!metaValue.is_string())
          throw Error(name + ": __metadata__ value '" + metaKey +
                      "' is not a string");
        file.meta[metaKey] = metaValue.get<std::string>();
      }
      continue;
    }
    if (!value.is_object())
      throw Error(name + ": " + tensor + " is not an object");
    Entry entry;
    entry.name = key;
    auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string())
      throw Error(name + ": " + tensor + " has no dtype");
    if (!parseDType(dtype->get<std::string>(), entry.dtype))
      throw Error(name + ": " + tensor + " has unknown dtype '" +
                  dtype->get<std::string>() + "'");
    auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array())
      throw Error(name + ": " + tensor + " has no shape");
    unsigned __int128 elements = 1;
    for (const auto &dim : *shape) {
      if (!dim.is_number_unsigned())
        throw Error(name + ": " + tensor + " has a bad shape " + shape->dump());
      entry.shape.push_back(int64_t(dim.get<uint64_t>()));
      elements *= dim.get<uint64_t>();
      if (elements > (unsigned __int128)1 << 62)
        throw Error(name + ": " + tensor + " has a shape too large " +
                    shape->dump());
    }
    auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() ||
        offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      throw Error(name + ": " + tensor + " has no valid data_offsets");
    uint64_t begin = (*offsets)[0].get<uint64_t>();
    uint64_t end = (*offsets)[1].get<uint64_t>();
    if (begin > end || end > dataSize)
      throw Error(name + ": " + tensor + " has data_offsets [" +
                  std::to_string(begin) + ", " + std::to_string(end) +
                  "] outside the " + std::to_string(dataSize) + " data bytes");
    if (elements * dtypeSize(entry.dtype) != end - begin)
      throw Error(name + ": " + tensor + " has " + std::to_string(end - begin) +
                  " bytes but dtype " + dtypeName(entry.dtype) + " and shape " +
                  shape->dump() + " need " +
                  std::to_string(uint64_t(elements * dtypeSize(entry.dtype))));
    entry.begin = size_t(begin);
    entry.end = size_t(end);
    file.entries.push_back(std::move(entry));
  }

  std::stable_sort(file.entries.begin(), file.entries.end(),
                   [](const Entry &a, const Entry &b) {
                     return a.begin != b.begin ? a.begin < b.begin
                                               : a.end < b.end;
                   });
  size_t expected = 0;
  for (const Entry &entry : file.entries) {
    if (entry.begin < expected)
      throw Error(name + ": tensor '" + entry.name +
                  "' overlaps the previous tensor's data");
    if (entry.begin > expected)
      throw Error(name + ": gap in the data before tensor '" + entry.name +
                  "'");
    expected = entry.end;
  }
  if (expected != dataSize)
    throw Error(name + ": " + std::to_string(dataSize - expected) +
                " bytes of data are not covered by any tensor");
  for (size_t i = 0; i < file.entries.size(); ++i)
    file.byName[file.entries[i].name] = i;
  file.bytes = std::move(bytes);
  return file;
}

std::vector<std::string> SafeTensorsFile::names() const {
  std::vector<std::string> result;
  for (const Entry &entry : entries)
    result.push_back(entry.name);
  return result;
}

bool SafeTensorsFile::contains(const std::string &tensor) const {
  return byName.count(tensor) != 0;
}

const SafeTensorsFile::Entry &
SafeTensorsFile::entry(const std::string &tensor) const {
  auto it = byName.find(tensor);
  if (it == byName.end())
    throw Error(name + ": no tensor '" + tensor + "'" +
                didYouMean(tensor, names()));
  return entries[it->second];
}

const SafeTensorsFile::Entry &
SafeTensorsFile::checked(const std::string &tensor, DType dtype) const {
  const Entry &found = entry(tensor);
  if (found.dtype != dtype)
    throw Error(name + ": tensor '" + tensor + "' has dtype " +
                dtypeName(found.dtype) + ", expected " + dtypeName(dtype));
  return found;
}

template <typename T>
static std::vector<T> copyOut(const uint8_t *data,
                              const SafeTensorsFile::Entry &entry) {
  std::vector<T> values(entry.numElements());
  if (!values.empty())
    std::memcpy(values.data(), data, values.size() * sizeof(T));
  return values;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::vector<float>
SafeTensorsFile::floats(const std::string &tensor,
                        const std::vector<int64_t> *shape) const {
  const Entry &found = checked(tensor, DType::F32);
  if (shape && *shape != found.shape)
    throw Error(name + ": tensor '" + tensor + "' has shape " +
                shapeText(found.shape) + ", expected " + shapeText(*shape));
  return copyOut<float>(data(found), found);
}

std::vector<int64_t> SafeTensorsFile::int64s(const std::string &tensor) const {
  const Entry &found = checked(tensor, DType::I64);
  return copyOut<int64_t>(data(found), found);
}

std::vector<int32_t> SafeTensorsFile::int32s(const std::string &tensor) const {
  const Entry &found = checked(tensor, DType::I32);
  return copyOut<int32_t>(data(found), found);
}

std::vector<uint8_t> SafeTensorsFile::uint8s(const std::string &tensor) const {
  const Entry &found = checked(tensor, DType::U8);
  return copyOut<uint8_t>(data(found), found);
}

} // namespace nnrt
