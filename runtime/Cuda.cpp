//===- Cuda.cpp - The CUDA driver API, loaded at run time -----------------===//
#include "runtime/Cuda.h"
#include "runtime/Error.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

namespace nnrt {
namespace {

// The driver API's handles and codes (cuda.h, stable across CUDA releases).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using Handle = void *; // CUcontext, CUmodule, CUfunction, CUstream
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;

} // namespace

struct CudaDriver::Api {
  void *handle = nullptr;
  std::string library;
  CUdevice device = 0;
  Handle context = nullptr;
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*deviceGetCount)(int *) = nullptr;
  CUresult (*deviceGet)(CUdevice *, int) = nullptr;
  CUresult (*deviceGetName)(char *, int, CUdevice) = nullptr;
  CUresult (*deviceTotalMem)(size_t *, CUdevice) = nullptr;
  CUresult (*deviceGetAttribute)(int *, int, CUdevice) = nullptr;
  CUresult (*primaryCtxRetain)(Handle *, CUdevice) = nullptr;
  CUresult (*primaryCtxRelease)(CUdevice) = nullptr;
  CUresult (*ctxSetCurrent)(Handle) = nullptr;
  CUresult (*moduleLoadDataEx)(Handle *, const void *, unsigned, int *,
                               void **) = nullptr;
  CUresult (*moduleGetFunction)(Handle *, Handle, const char *) = nullptr;
  CUresult (*launchKernel)(Handle, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, Handle, void **,
                           void **) = nullptr;
  CUresult (*memAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*memFree)(CUdeviceptr) = nullptr;
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t, Handle) = nullptr;
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t, Handle) = nullptr;
  CUresult (*memcpyDtoD)(CUdeviceptr, CUdeviceptr, size_t, Handle) = nullptr;
  CUresult (*streamCreate)(Handle *, unsigned) = nullptr;
  CUresult (*streamSynchronize)(Handle) = nullptr;
  CUresult (*streamDestroy)(Handle) = nullptr;
  CUresult (*moduleUnload)(Handle) = nullptr;
  CUresult (*getErrorName)(CUresult, const char **) = nullptr;

  ~Api() {
    if (context && primaryCtxRelease)
      primaryCtxRelease(device);
    if (handle)
      dlclose(handle);
  }

  template <typename T> void find(T &fn, const char *symbol) {
    fn = reinterpret_cast<T>(dlsym(handle, symbol));
    if (!fn)
      throw Error("no CUDA device: " + library + " has no '" + symbol +
                  "' (a CUDA driver older than the 11.0 API?)");
  }

  std::string errorName(CUresult result) const {
    const char *text = nullptr;
    if (getErrorName && getErrorName(result, &text) == 0 && text)
      return text;
    return "CUDA error " + std::to_string(result);
  }
};

std::unique_ptr<CudaDriver> CudaDriver::open(const std::string &library) {
  std::unique_ptr<CudaDriver> driver(new CudaDriver());
  driver->api = std::make_unique<Api>();
  Api &a = *driver->api;
  a.library = library;
  if (a.library.empty()) {
    const char *env = std::getenv("NNRT_LIBCUDA");
    a.library = env && *env ? env : "libcuda.so.1";
  }
  a.handle = dlopen(a.library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!a.handle) {
    const char *why = dlerror();
    throw Error("no CUDA device: cannot load the driver " + a.library + " (" +
                (why ? why : "unknown error") + ")");
  }
  a.find(a.getErrorName, "cuGetErrorName");
  a.find(a.init, "cuInit");
  a.find(a.deviceGetCount, "cuDeviceGetCount");
  a.find(a.deviceGet, "cuDeviceGet");
  a.find(a.deviceGetName, "cuDeviceGetName");
  a.find(a.deviceTotalMem, "cuDeviceTotalMem_v2");
  a.find(a.deviceGetAttribute, "cuDeviceGetAttribute");
  a.find(a.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  a.find(a.primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  a.find(a.ctxSetCurrent, "cuCtxSetCurrent");
  a.find(a.moduleLoadDataEx, "cuModuleLoadDataEx");
  a.find(a.moduleGetFunction, "cuModuleGetFunction");
  a.find(a.launchKernel, "cuLaunchKernel");
  a.find(a.memAlloc, "cuMemAlloc_v2");
  a.find(a.memFree, "cuMemFree_v2");
  a.find(a.memcpyHtoD, "cuMemcpyHtoDAsync_v2");
  a.find(a.memcpyDtoH, "cuMemcpyDtoHAsync_v2");
  a.find(a.memcpyDtoD, "cuMemcpyDtoDAsync_v2");
  a.find(a.streamCreate, "cuStreamCreate");
  a.find(a.streamSynchronize, "cuStreamSynchronize");
  a.find(a.streamDestroy, "cuStreamDestroy_v2");
  a.find(a.moduleUnload, "cuModuleUnload");
  // The device: any failure here means there is none to use.
  auto need = [&](CUresult result, const char *what) {
    if (result != 0)
      throw Error(std::string("no CUDA device: ") + what +
                  " failed: " + a.errorName(result));
  };
  need(a.init(0), "cuInit");
  int count = 0;
  need(a.deviceGetCount(&count), "cuDeviceGetCount");
  if (count < 1)
    throw Error("no CUDA device: the driver reports no device");
  need(a.deviceGet(&a.device, 0), "cuDeviceGet");
  char text[256] = {};
  need(a.deviceGetName(text, sizeof text - 1, a.device), "cuDeviceGetName");
  driver->name = text;
  need(a.deviceTotalMem(&driver->memory, a.device), "cuDeviceTotalMem");
  int major = 0, minor = 0;
  need(a.deviceGetAttribute(&major, kComputeCapabilityMajor, a.device),
       "cuDeviceGetAttribute");
  need(a.deviceGetAttribute(&minor, kComputeCapabilityMinor, a.device),
       "cuDeviceGetAttribute");
  driver->capability = 10 * major + minor;
  need(a.primaryCtxRetain(&a.context, a.device), "cuDevicePrimaryCtxRetain");
  need(a.ctxSetCurrent(a.context), "cuCtxSetCurrent");
  // NNRT_CUDA_SYNC (any value): every launch waits for its kernel, so that
  // a failing kernel is named. NNRT_CUDA_PROFILE=FILE: that too, and each
  // kernel's launches and time (from the launch to the end of the kernel)
  // go to FILE when the driver closes, the most expensive first.
  const char *sync = std::getenv("NNRT_CUDA_SYNC");
  const char *profile = std::getenv("NNRT_CUDA_PROFILE");
  driver->profilePath = profile ? profile : "";
  driver->waitEach = (sync && *sync) || !driver->profilePath.empty();
  return driver;
}

CudaDriver::~CudaDriver() { writeProfile(); }

void CudaDriver::check(int result, const char *what) const {
  if (result != 0)
    throw Error(std::string("CUDA: ") + what +
                " failed: " + api->errorName(result));
}

void *CudaDriver::loadModule(const void *image) {
  // The PTX compiler's messages, kept for the error (cuda.h's CUjit_option:
  // CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES).
  char log[4096] = {};
  int options[] = {5, 6};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof log - 1))};
  Handle module = nullptr;
  CUresult result = api->moduleLoadDataEx(&module, image, 2, options, values);
  if (result != 0) {
    std::string text(log);
    std::replace(text.begin(), text.end(), '\n', ' ');
    throw Error("CUDA: cuModuleLoadDataEx failed: " + api->errorName(result) +
                (text.empty() ? "" : ": " + text));
  }
  return module;
}

void *CudaDriver::kernel(void *module, const char *kernelName) {
  Handle fn = nullptr;
  check(api->moduleGetFunction(&fn, module, kernelName), "cuModuleGetFunction");
  kernelNames[fn] = kernelName;
  return fn;
}

void CudaDriver::launch(void *kernel, const unsigned grid[3],
                        const unsigned block[3], unsigned sharedBytes,
                        void *stream, void **params) {
  auto name = [&] {
    auto it = kernelNames.find(kernel);
    return it == kernelNames.end() ? std::string("?") : it->second;
  };
  std::chrono::steady_clock::time_point start;
  if (!profilePath.empty())
    start = std::chrono::steady_clock::now();
  CUresult result =
      api->launchKernel(kernel, grid[0], grid[1], grid[2], block[0], block[1],
                        block[2], sharedBytes, stream, params, nullptr);
  if (result != 0)
    throw Error("CUDA: cuLaunchKernel failed: " + api->errorName(result) +
                " (kernel " + name() + ", grid " + std::to_string(grid[0]) +
                "x" + std::to_string(grid[1]) + "x" + std::to_string(grid[2]) +
                ", block " + std::to_string(block[0]) + "x" +
                std::to_string(block[1]) + "x" + std::to_string(block[2]) +
                ", " + std::to_string(sharedBytes) + " shared bytes)");
  if (!waitEach)
    return;
  result = api->streamSynchronize(stream);
  if (result != 0)
    throw Error("CUDA: kernel " + name() +
                " failed: " + api->errorName(result));
  if (!profilePath.empty()) {
    KernelTime &t = kernelTimes[name()];
    t.launches += 1;
    t.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
}

void CudaDriver::writeProfile() const {
  if (profilePath.empty() || kernelTimes.empty())
    return;
  std::vector<std::pair<std::string, KernelTime>> rows(kernelTimes.begin(),
                                                       kernelTimes.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return a.second.seconds > b.second.seconds;
  });
  double total = 0;
  for (const auto &row : rows)
    total += row.second.seconds;
  if (std::FILE *f = std::fopen(profilePath.c_str(), "w")) {
    std::fprintf(f, "kernel launches seconds share\n");
    for (const auto &[kernel, t] : rows)
      std::fprintf(f, "%s %lld %.6f %.4f\n", kernel.c_str(), t.launches,
                   t.seconds, total > 0 ? t.seconds / total : 0.0);
    std::fclose(f);
  }
}

uint64_t CudaDriver::allocate(size_t bytes) {
  CUdeviceptr p = 0;
  check(api->memAlloc(&p, bytes), "cuMemAlloc");
  allocations[p] = bytes;
  inUse += bytes;
  peak = std::max(peak, inUse);
  return p;
}

void CudaDriver::release(uint64_t device) {
  check(api->memFree(device), "cuMemFree");
  auto it = allocations.find(device);
  if (it != allocations.end()) {
    inUse -= it->second;
    allocations.erase(it);
  }
}

void CudaDriver::copyToDevice(uint64_t device, const void *host, size_t bytes,
                              void *stream) {
  check(api->memcpyHtoD(device, host, bytes, stream), "cuMemcpyHtoDAsync");
}

void CudaDriver::copyToHost(void *host, uint64_t device, size_t bytes,
                            void *stream) {
  check(api->memcpyDtoH(host, device, bytes, stream), "cuMemcpyDtoHAsync");
}

void CudaDriver::copyOnDevice(uint64_t to, uint64_t from, size_t bytes,
                              void *stream) {
  check(api->memcpyDtoD(to, from, bytes, stream), "cuMemcpyDtoDAsync");
}

void *CudaDriver::stream() {
  if (!programStream)
    programStream = createStream();
  return programStream;
}

void *CudaDriver::createStream() {
  Handle stream = nullptr;
  check(api->streamCreate(&stream, 0), "cuStreamCreate");
  return stream;
}

void CudaDriver::synchronize(void *stream) {
  check(api->streamSynchronize(stream), "cuStreamSynchronize");
}

void CudaDriver::destroyStream(void *stream) {
  check(api->streamDestroy(stream), "cuStreamDestroy");
}

void CudaDriver::unloadModule(void *module) {
  check(api->moduleUnload(module), "cuModuleUnload");
}

namespace {
std::unique_ptr<CudaDriver> &processDriver() {
  static std::unique_ptr<CudaDriver> driver;
  return driver;
}
} // namespace

CudaDriver &CudaDriver::process() {
  std::unique_ptr<CudaDriver> &driver = processDriver();
  if (!driver)
    driver = open();
  return *driver;
}

size_t cudaMemoryPeak() {
  const std::unique_ptr<CudaDriver> &driver = processDriver();
  return driver ? driver->memoryPeak() : 0;
}

namespace {
/// A registered host buffer (DeviceResident): where its newest contents
/// are, on the host and at zero or more device addresses (entry points'
/// device copies of it).
struct Resident {
  size_t bytes = 0;
  bool hostCurrent = true;
  std::vector<uint64_t> copies;
};
std::map<uintptr_t, Resident> &residents() {
  static std::map<uintptr_t, Resident> table;
  return table;
}

void bringToHost(uintptr_t host, Resident &r) {
  if (r.hostCurrent || r.copies.empty())
    return;
  CudaDriver &d = CudaDriver::process();
  d.copyToHost(reinterpret_cast<void *>(host), r.copies.front(), r.bytes,
               d.stream());
  d.synchronize(d.stream());
  r.hostCurrent = true;
}

/// Device memory [lo, lo + bytes) is about to be overwritten or freed:
/// device copies there are no longer copies. A buffer whose only newest
/// copy was there is brought to the host first.
void evict(uint64_t lo, size_t bytes, uintptr_t except = 0) {
  for (auto &[host, r] : residents()) {
    if (host == except)
      continue;
    auto overlaps = [&](uint64_t c) {
      return c < lo + bytes && lo < c + r.bytes;
    };
    if (std::none_of(r.copies.begin(), r.copies.end(), overlaps))
      continue;
    if (!r.hostCurrent &&
        std::all_of(r.copies.begin(), r.copies.end(), overlaps))
      bringToHost(host, r);
    r.copies.erase(std::remove_if(r.copies.begin(), r.copies.end(), overlaps),
                   r.copies.end());
  }
}

/// The registered buffer that is exactly [host, host + bytes); any other
/// registered buffer overlapping it is made current on the host, and with
/// `written` its device copies dropped.
Resident *resident(uintptr_t host, size_t bytes, bool written) {
  Resident *match = nullptr;
  for (auto &[start, r] : residents()) {
    if (start == host && r.bytes == bytes) {
      match = &r;
      continue;
    }
    if (start < host + bytes && host < start + r.bytes) {
      bringToHost(start, r);
      if (written)
        r.copies.clear();
    }
  }
  return match;
}
} // namespace

DeviceResident::DeviceResident(void *hostBuffer, size_t bytes)
    : host(hostBuffer) {
  owner =
      residents()
          .emplace(reinterpret_cast<uintptr_t>(host), Resident{bytes, true, {}})
          .second;
}

DeviceResident::~DeviceResident() {
  if (owner)
    residents().erase(reinterpret_cast<uintptr_t>(host));
}

void DeviceResident::toHost() {
  auto it = residents().find(reinterpret_cast<uintptr_t>(host));
  if (it != residents().end())
    bringToHost(it->first, it->second);
}

void DeviceResident::hostWritten() {
  auto it = residents().find(reinterpret_cast<uintptr_t>(host));
  if (it != residents().end()) {
    it->second.hostCurrent = true;
    it->second.copies.clear();
  }
}

} // namespace nnrt

// The host side of MLIR's GPU lowering. Generated code cannot take an
// exception: a failure is reported on one line and ends the program (exit
// status 1), as the runtime reports a broken input.
namespace {
template <typename F> auto orExit(F fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const nnrt::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::fflush(stdout);
    std::_Exit(1);
  }
}
nnrt::CudaDriver &gpu() {
  return orExit(
      []() -> nnrt::CudaDriver & { return nnrt::CudaDriver::process(); });
}

/// Frees an allocation once the work queued before is done; a registered
/// buffer whose only newest copy it holds is brought to the host first.
void release(uint64_t device) {
  nnrt::CudaDriver &d = gpu();
  nnrt::evict(device, d.allocationBytes(device));
  d.synchronize(d.stream());
  d.release(device);
}

/// Device memory grown to the largest size asked for.
struct GrowingBuffer {
  uint64_t memory = 0;
  int64_t size = 0;
  void *atLeast(int64_t bytes) {
    if (bytes > size) {
      if (memory)
        release(memory);
      memory = gpu().allocate(size_t(bytes));
      size = bytes;
    }
    return reinterpret_cast<void *>(memory);
  }
};

/// A kernel module of the program (one per gpu.binary). The host code
/// MLIR's lowering emits loads the module, looks the kernel up and unloads
/// the module around every launch; here the module is loaded (its PTX
/// compiled by the driver) on its first lookup only and lives as long as
/// the process, and each kernel is looked up once. A program only opens
/// the driver when it runs a kernel (`info` and `--help` work without a
/// GPU).
struct KernelModule {
  void *module = nullptr;
  std::map<const char *, void *> kernels; // by the host code's name constant
};
KernelModule &kernelModule(const void *ptx) {
  static std::map<const void *, KernelModule> modules;
  return modules[ptx];
}
} // namespace

extern "C" {
void *mgpuModuleLoadJIT(void *ptx, int /*optLevel*/) { return ptx; }
void mgpuModuleUnload(void * /*ptx*/) {}
void *mgpuModuleGetFunction(void *ptx, const char *name) {
  KernelModule &m = kernelModule(ptx);
  auto it = m.kernels.find(name);
  if (it != m.kernels.end())
    return it->second;
  return orExit([&] {
    if (!m.module)
      m.module = gpu().loadModule(ptx);
    return m.kernels[name] = gpu().kernel(m.module, name);
  });
}
void mgpuLaunchKernel(void *kernel, int64_t gridX, int64_t gridY, int64_t gridZ,
                      int64_t blockX, int64_t blockY, int64_t blockZ,
                      int32_t sharedBytes, void *stream, void **params,
                      void ** /*extra*/, int64_t /*count*/) {
  unsigned grid[3] = {unsigned(gridX), unsigned(gridY), unsigned(gridZ)};
  unsigned block[3] = {unsigned(blockX), unsigned(blockY), unsigned(blockZ)};
  orExit([&] {
    gpu().launch(kernel, grid, block, unsigned(sharedBytes), stream, params);
  });
}
// Every launch and copy of the program goes on one stream, in order: the
// generated host code's per-launch stream is that stream, and it need not
// wait for a kernel, since the host reads device memory only through
// nnrt_cuda_to_host, which waits for the stream.
void *mgpuStreamCreate() {
  return orExit([] { return gpu().stream(); });
}
void mgpuStreamSynchronize(void *stream) {
  if (stream != gpu().stream())
    orExit([&] { gpu().synchronize(stream); });
}
void mgpuStreamDestroy(void *stream) {
  if (stream != gpu().stream())
    orExit([&] { gpu().destroyStream(stream); });
}

// The entry points of a --target cuda program (nn-gpu-stage-arguments,
// nn-gpu-workspace-wrappers): the caller's buffers in and out (registered
// ones only when needed, nnrt::DeviceResident), and each entry point's own
// device workspace (so that its device copies of registered buffers stay
// valid between calls).
void nnrt_cuda_to_device(int64_t device, int64_t host, int64_t bytes) {
  orExit([&] {
    nnrt::CudaDriver &d = gpu();
    uint64_t to = uint64_t(device);
    size_t size = size_t(bytes);
    nnrt::evict(to, size, uintptr_t(host));
    nnrt::Resident *r = nnrt::resident(uintptr_t(host), size, false);
    if (r &&
        std::find(r->copies.begin(), r->copies.end(), to) != r->copies.end())
      return;
    if (r && !r->copies.empty())
      d.copyOnDevice(to, r->copies.front(), size, d.stream());
    else
      d.copyToDevice(to, reinterpret_cast<const void *>(host), size,
                     d.stream());
    if (r)
      r->copies.push_back(to);
  });
}
void nnrt_cuda_to_host(int64_t host, int64_t device, int64_t bytes) {
  orExit([&] {
    nnrt::CudaDriver &d = gpu();
    nnrt::Resident *r = nnrt::resident(uintptr_t(host), size_t(bytes), true);
    if (r) {
      r->hostCurrent = false;
      r->copies.assign(1, uint64_t(device));
      return;
    }
    d.copyToHost(reinterpret_cast<void *>(host), uint64_t(device),
                 size_t(bytes), d.stream());
    d.synchronize(d.stream());
  });
}
void *nnrt_cuda_workspace(int64_t bytes, int64_t entry) {
  static std::map<int64_t, GrowingBuffer> workspaces;
  return orExit([&] { return workspaces[entry].atLeast(bytes); });
}
void *nnrt_cuda_scratch(int64_t bytes) {
  static GrowingBuffer scratch;
  return orExit([&] { return scratch.atLeast(bytes); });
}
// Buffers a loop makes at every iteration (nn-gpu-device-allocations).
void *nnrt_cuda_alloc(int64_t bytes) {
  return orExit(
      [&] { return reinterpret_cast<void *>(gpu().allocate(size_t(bytes))); });
}
void nnrt_cuda_free(int64_t device) {
  orExit([&] { release(uint64_t(device)); });
}
}
