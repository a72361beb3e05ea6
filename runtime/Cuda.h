//===- Cuda.h - The CUDA driver API, loaded at run time ---------*- C++ -*-===//
//
// `--target cuda` programs (SPEC 2.11, issue 15) run their generated kernels
// through NVIDIA's driver API, libcuda.so.1, which the GPU's driver installs.
// It is loaded with dlopen when a program first needs the device: nnc and
// nnrt build without any CUDA toolkit, and CPU programs never touch it.
// Every failure is one line: "no CUDA device: <cause>" when the driver or a
// device is missing, "CUDA: cuXxx failed: CUDA_ERROR_..." for a failed call.
//
// The host code MLIR's GPU lowering generates (gpu-to-llvm, kernels as PTX)
// calls C functions named mgpu*: Cuda.cpp defines them over the process's
// driver, with the signatures LLVM 19 emits (mgpuModuleLoadJIT(ptr, i32),
// mgpuLaunchKernel(fn, grid xyz, block xyz, i32 shared, stream, params,
// extra, i64 count), ...).
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_CUDA_H
#define NNRT_CUDA_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace nnrt {

class CudaDriver {
public:
  /// Loads the driver (`library`, else $NNRT_LIBCUDA, else libcuda.so.1),
  /// initializes it, takes device 0 and makes its primary context current
  /// on the calling thread. Throws nnrt::Error "no CUDA device: <cause>".
  static std::unique_ptr<CudaDriver> open(const std::string &library = "");
  ~CudaDriver();
  CudaDriver(const CudaDriver &) = delete;
  CudaDriver &operator=(const CudaDriver &) = delete;

  /// The device: its name, memory in bytes, compute capability (9.0 = 90).
  const std::string &deviceName() const { return name; }
  size_t totalMemory() const { return memory; }
  int computeCapability() const { return capability; }

  /// A module from a PTX image (NUL-terminated text; a failure carries the
  /// PTX compiler's log) and its kernels. A failed launch names its kernel;
  /// with $NNRT_CUDA_SYNC each launch waits for its kernel (a fault names
  /// it), and with $NNRT_CUDA_PROFILE=FILE each kernel's launches and time
  /// go to FILE when the driver closes.
  void *loadModule(const void *image);
  void *kernel(void *module, const char *name);
  void launch(void *kernel, const unsigned grid[3], const unsigned block[3],
              unsigned sharedBytes, void *stream, void **params);

  /// Device memory and copies (asynchronous on `stream`; null: the default
  /// stream).
  uint64_t allocate(size_t bytes);
  void release(uint64_t device);
  void copyToDevice(uint64_t device, const void *host, size_t bytes,
                    void *stream);
  void copyToHost(void *host, uint64_t device, size_t bytes, void *stream);
  void copyOnDevice(uint64_t to, uint64_t from, size_t bytes, void *stream);
  void *createStream();
  void synchronize(void *stream);
  void destroyStream(void *stream);
  void unloadModule(void *module);

  /// The stream every kernel and copy of the program runs on, in order.
  void *stream();
  /// The most device memory allocated at once so far (bytes).
  size_t memoryPeak() const { return peak; }
  /// The size of an allocation of allocate() (0 for another address).
  size_t allocationBytes(uint64_t device) const {
    auto it = allocations.find(device);
    return it == allocations.end() ? 0 : it->second;
  }

  /// The process's driver, opened by the first call (the generated host
  /// code's mgpu* calls use it); a program opens it at start-up so that a
  /// missing device is reported before any step runs.
  static CudaDriver &process();

private:
  struct Api;
  CudaDriver() = default;
  /// Throws "CUDA: <what> failed: <error name>" unless `result` is 0.
  void check(int result, const char *what) const;
  void writeProfile() const;

  struct KernelTime {
    long long launches = 0;
    double seconds = 0;
  };

  std::unique_ptr<Api> api;
  std::string name;
  size_t memory = 0;
  int capability = 0;
  void *programStream = nullptr;
  std::unordered_map<uint64_t, size_t> allocations;
  size_t inUse = 0, peak = 0;
  bool waitEach = false;
  std::string profilePath;
  std::unordered_map<void *, std::string> kernelNames;
  std::unordered_map<std::string, KernelTime> kernelTimes;
};

/// The peak device memory of the process's driver (bytes), 0 when the
/// program has not opened it (CPU programs never do).
size_t cudaMemoryPeak();

/// A host buffer the runtime passes to every call of a --target cuda
/// program and reads itself only now and then: the training state, the
/// gradient accumulators. While it is registered, its newest contents stay
/// on the device between calls: an entry point that reads it copies it in
/// only when the host's copy is newer (from another entry point's device
/// copy when that one is), one that writes it leaves the result on the
/// device. The runtime calls toHost() before it reads the buffer and
/// hostWritten() after it changed it. Other buffers (batches, outputs) go in
/// and out at every call. Nothing happens in CPU programs. Registering a
/// registered buffer again (evaluate() inside train) changes nothing.
class DeviceResident {
public:
  DeviceResident(void *host, size_t bytes);
  explicit DeviceResident(std::vector<float> &buffer)
      : DeviceResident(buffer.data(), buffer.size() * sizeof(float)) {}
  ~DeviceResident();
  DeviceResident(const DeviceResident &) = delete;
  DeviceResident &operator=(const DeviceResident &) = delete;
  void toHost();
  void hostWritten();

private:
  void *host;
  bool owner;
};

} // namespace nnrt

#endif // NNRT_CUDA_H
