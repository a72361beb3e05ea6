//===- fake_libcuda.cpp - A stand-in for libcuda.so.1 in nnrt's tests -----===//
//
// The CUDA driver API's entry points that nnrt::CudaDriver loads, backed by
// nothing: CudaTest points NNRT_LIBCUDA at this library to exercise the
// loader and its errors on machines without a GPU. FAKE_CUDA (environment,
// read at each call) picks the behaviour: "no-device" (cuInit fails as on a
// machine whose driver sees no GPU), "oom" (a device whose allocations
// fail), "bad-ptx" (modules fail to load, with a PTX compiler's log),
// "fault" (kernels fault: synchronizing fails), otherwise a device named
// "Fake GPU" with 1 GiB, compute capability 9.0, whose calls succeed. Built
// with FAKE_CUDA_OLD it lacks cuMemAlloc_v2, as a driver too old for nnrt
// would. With FAKE_CUDA_TRACE set to a file, each copy appends a line
// "htod|dtoh|dtod BYTES" to it, each module load "load 0", each kernel
// lookup "function 0".
//
//===----------------------------------------------------------------------===//
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
bool mode(const char *m) {
  const char *v = std::getenv("FAKE_CUDA");
  return v && std::strcmp(v, m) == 0;
}
int token;
void trace(const char *kind, std::size_t bytes) {
  const char *path = std::getenv("FAKE_CUDA_TRACE");
  if (!path || !*path)
    return;
  if (std::FILE *f = std::fopen(path, "a")) {
    std::fprintf(f, "%s %zu\n", kind, bytes);
    std::fclose(f);
  }
}
} // namespace

extern "C" {
int cuGetErrorName(int error, const char **text) {
  *text = error == 100   ? "CUDA_ERROR_NO_DEVICE"
          : error == 2   ? "CUDA_ERROR_OUT_OF_MEMORY"
          : error == 218 ? "CUDA_ERROR_INVALID_PTX"
          : error == 700 ? "CUDA_ERROR_ILLEGAL_ADDRESS"
                         : "CUDA_ERROR_UNKNOWN";
  return 0;
}
int cuInit(unsigned) { return mode("no-device") ? 100 : 0; }
int cuDeviceGetCount(int *count) {
  *count = 1;
  return 0;
}
int cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return 0;
}
int cuDeviceGetName(char *name, int len, int) {
  std::strncpy(name, "Fake GPU", std::size_t(len));
  return 0;
}
int cuDeviceTotalMem_v2(std::size_t *bytes, int) {
  *bytes = std::size_t(1) << 30;
  return 0;
}
int cuDeviceGetAttribute(int *value, int attribute, int) {
  *value = attribute == 75 ? 9 : 0;
  return 0;
}
int cuDevicePrimaryCtxRetain(void **context, int) {
  *context = &token;
  return 0;
}
int cuDevicePrimaryCtxRelease_v2(int) { return 0; }
int cuCtxSetCurrent(void *) { return 0; }
int cuModuleLoadDataEx(void **module, const void *, unsigned count,
                       int *options, void **values) {
  if (mode("bad-ptx")) {
    // The error log the PTX compiler leaves, where nnrt asked for it.
    for (unsigned i = 0; i < count; ++i)
      if (options[i] == 5)
        std::strcpy(static_cast<char *>(values[i]),
                    "ptxas application ptx input, line 7; error   : "
                    "Unknown symbol 'x'\nptxas fatal   : Ptx assembly "
                    "aborted due to errors");
    return 218;
  }
  trace("load", 0);
  *module = &token;
  return 0;
}
int cuModuleGetFunction(void **fn, void *, const char *) {
  trace("function", 0);
  *fn = &token;
  return 0;
}
int cuLaunchKernel(void *, unsigned, unsigned, unsigned, unsigned, unsigned,
                   unsigned, unsigned, void *, void **, void **) {
  return 0;
}
#ifndef FAKE_CUDA_OLD
// Device memory is host memory here: copies are memcpy.
int cuMemAlloc_v2(unsigned long long *p, std::size_t bytes) {
  if (mode("oom"))
    return 2;
  *p = reinterpret_cast<unsigned long long>(std::malloc(bytes));
  return 0;
}
#endif
int cuMemFree_v2(unsigned long long p) {
  std::free(reinterpret_cast<void *>(p));
  return 0;
}
int cuMemcpyHtoDAsync_v2(unsigned long long device, const void *host,
                         std::size_t bytes, void *) {
  std::memcpy(reinterpret_cast<void *>(device), host, bytes);
  trace("htod", bytes);
  return 0;
}
int cuMemcpyDtoHAsync_v2(void *host, unsigned long long device,
                         std::size_t bytes, void *) {
  std::memcpy(host, reinterpret_cast<const void *>(device), bytes);
  trace("dtoh", bytes);
  return 0;
}
int cuMemcpyDtoDAsync_v2(unsigned long long to, unsigned long long from,
                         std::size_t bytes, void *) {
  std::memcpy(reinterpret_cast<void *>(to),
              reinterpret_cast<const void *>(from), bytes);
  trace("dtod", bytes);
  return 0;
}
int cuStreamCreate(void **stream, unsigned) {
  *stream = &token;
  return 0;
}
int cuStreamSynchronize(void *) { return mode("fault") ? 700 : 0; }
int cuStreamDestroy_v2(void *) { return 0; }
int cuModuleUnload(void *) { return 0; }
}
