//===- SafeTensors.h - safetensors checkpoint files -*- C++ -*-------------===//
//
// The format PyTorch and Hugging Face use: an 8-byte little-endian header
// length n, n bytes of JSON {"name": {"dtype": "F32", "shape": [..],
// "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}, padded
// with spaces to a multiple of 8, then the raw little-endian tensor bytes;
// offsets are relative to the end of the header and tile the data exactly.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_SAFETENSORS_H
#define NNRT_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nnrt {

enum class DType { BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64 };

size_t dtypeSize(DType dtype);
const char *dtypeName(DType dtype);
/// "[2, 3]", as messages show shapes.
std::string shapeText(const std::vector<int64_t> &shape);
/// Parses "F32" etc.; returns false for unknown names.
bool parseDType(const std::string &name, DType &dtype);

/// A tensor to write, not owning its bytes (parameters can be large).
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  size_t byteSize = 0;
};

/// A tensor that owns its bytes, for small state (statistics, RNG, counters).
struct TensorData {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  static TensorData f32(std::string name, std::vector<int64_t> shape,
                        const std::vector<float> &values);
  static TensorData i64(std::string name, std::vector<int64_t> shape,
                        const std::vector<int64_t> &values);
  static TensorData i32(std::string name, std::vector<int64_t> shape,
                        const std::vector<int32_t> &values);
  static TensorData u8(std::string name, std::vector<int64_t> shape,
                       const std::vector<uint8_t> &values);
  TensorView view() const;
};

/// Writes `tensors` atomically: a temporary file in the same folder, fsync,
/// rename over `path`, fsync of the folder. On any failure the temporary file
/// is removed, an existing `path` is left untouched, and nnrt::Error is
/// thrown. Names must be unique and not "__metadata__"; byte sizes must match
/// dtype and shape.
void writeSafeTensors(const std::string &path,
                      const std::vector<TensorView> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

/// The bytes writeSafeTensors would write (for tests and in-memory use).
std::vector<uint8_t>
encodeSafeTensors(const std::vector<TensorView> &tensors,
                  const std::map<std::string, std::string> &metadata = {});

/// A fully validated safetensors file held in memory.
class SafeTensorsFile {
public:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    size_t begin = 0, end = 0; ///< offsets into the data section
    size_t numElements() const;
  };

  /// Reads and validates `path`; every problem is an nnrt::Error naming it.
  static SafeTensorsFile read(const std::string &path);
  /// Validates an in-memory image; `name` is used in messages.
  static SafeTensorsFile parse(std::vector<uint8_t> bytes,
                               const std::string &name);

  const std::string &fileName() const { return name; }
  const std::map<std::string, std::string> &metadata() const { return meta; }
  /// Tensor names in file order.
  std::vector<std::string> names() const;
  bool contains(const std::string &tensor) const;
  /// Throws nnrt::Error (with a did-you-mean) if absent.
  const Entry &entry(const std::string &tensor) const;
  const uint8_t *data(const Entry &entry) const {
    return bytes.data() + dataStart + entry.begin;
  }

  /// Copies a tensor out, checking its dtype (F32 / I64 / I32 / U8) and, when
  /// `shape` is non-null, its shape. Errors name the file and the tensor.
  std::vector<float> floats(const std::string &tensor,
                            const std::vector<int64_t> *shape = nullptr) const;
  std::vector<int64_t> int64s(const std::string &tensor) const;
  std::vector<int32_t> int32s(const std::string &tensor) const;
  std::vector<uint8_t> uint8s(const std::string &tensor) const;

private:
  const Entry &checked(const std::string &tensor, DType dtype) const;

  std::string name;
  std::vector<uint8_t> bytes;
  size_t dataStart = 0;
  std::vector<Entry> entries; ///< in file (offset) order
  std::map<std::string, size_t> byName;
  std::map<std::string, std::string> meta;
};

} // namespace nnrt

#endif // NNRT_SAFETENSORS_H
