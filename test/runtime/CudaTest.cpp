//===- CudaTest.cpp - The CUDA driver loader without a GPU ----------------===//
//
// nnrt::CudaDriver against a missing driver and against stand-ins for
// libcuda.so.1 (fake_cuda/fake_libcuda.cpp): every way of not having a
// usable device is one "no CUDA device: <cause>" line, a failed call names
// the call and CUDA's error, and a working driver's device is described.
//
//===----------------------------------------------------------------------===//
#include "runtime/Cuda.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using nnrt::CudaDriver;

namespace {

/// The message of the nnrt::Error that `fn` throws ("" if none).
template <typename F> std::string errorOf(F fn) {
  try {
    fn();
  } catch (const nnrt::Error &e) {
    return e.what();
  }
  return "";
}

int64_t address(const void *p) { return int64_t(intptr_t(p)); }

struct FakeMode {
  explicit FakeMode(const char *mode) { setenv("FAKE_CUDA", mode, 1); }
  ~FakeMode() { unsetenv("FAKE_CUDA"); }
};

} // namespace

TEST(Cuda, MissingDriverIsNoDevice) {
  std::string e =
      errorOf([] { CudaDriver::open("/nonexistent/libcuda.so.1"); });
  EXPECT_EQ(e.rfind("no CUDA device: cannot load the driver "
                    "/nonexistent/libcuda.so.1 (",
                    0),
            0u)
      << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(Cuda, DriverFromTheEnvironment) {
  setenv("NNRT_LIBCUDA", "/nonexistent/libcuda-env.so", 1);
  std::string e = errorOf([] { CudaDriver::open(); });
  unsetenv("NNRT_LIBCUDA");
  EXPECT_NE(e.find("/nonexistent/libcuda-env.so"), std::string::npos) << e;
}

TEST(Cuda, DriverWithoutDevice) {
  FakeMode mode("no-device");
  EXPECT_EQ(errorOf([] { CudaDriver::open(NNRT_FAKE_CUDA); }),
            "no CUDA device: cuInit failed: CUDA_ERROR_NO_DEVICE");
}

TEST(Cuda, DriverTooOld) {
  std::string e = errorOf([] { CudaDriver::open(NNRT_FAKE_CUDA_OLD); });
  EXPECT_NE(e.find("no CUDA device: "), std::string::npos) << e;
  EXPECT_NE(e.find("has no 'cuMemAlloc_v2'"), std::string::npos) << e;
}

TEST(Cuda, DeviceDescribedAndCallsChecked) {
  std::unique_ptr<CudaDriver> cuda = CudaDriver::open(NNRT_FAKE_CUDA);
  EXPECT_EQ(cuda->deviceName(), "Fake GPU");
  EXPECT_EQ(cuda->totalMemory(), size_t(1) << 30);
  EXPECT_EQ(cuda->computeCapability(), 90);
  uint64_t p = cuda->allocate(256);
  EXPECT_NE(p, 0u);
  float x[4] = {1, 2, 3, 4};
  void *stream = cuda->createStream();
  cuda->copyToDevice(p, x, sizeof x, stream);
  cuda->copyToHost(x, p, sizeof x, stream);
  cuda->synchronize(stream);
  void *fn = cuda->kernel(cuda->loadModule(".version 8.0\n"), "k");
  unsigned grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  cuda->launch(fn, grid, block, 0, stream, nullptr);
  cuda->release(p);
  FakeMode mode("oom");
  EXPECT_EQ(errorOf([&] { cuda->allocate(1 << 20); }),
            "CUDA: cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY");
}

TEST(Cuda, FailuresNameTheirKernelAndThePtxError) {
  std::unique_ptr<CudaDriver> cuda = CudaDriver::open(NNRT_FAKE_CUDA);
  {
    FakeMode mode("bad-ptx");
    EXPECT_EQ(errorOf([&] { cuda->loadModule(".version 8.0\n"); }),
              "CUDA: cuModuleLoadDataEx failed: CUDA_ERROR_INVALID_PTX: "
              "ptxas application ptx input, line 7; error   : Unknown "
              "symbol 'x' ptxas fatal   : Ptx assembly aborted due to errors");
  }
  void *fn = cuda->kernel(cuda->loadModule(".version 8.0\n"), "step_k3");
  unsigned grid[3] = {2, 1, 1}, block[3] = {128, 1, 1};
  FakeMode mode("fault");
  // Launches do not wait by default: the fault surfaces at the next wait.
  cuda->launch(fn, grid, block, 0, cuda->stream(), nullptr);
  EXPECT_EQ(errorOf([&] { cuda->synchronize(cuda->stream()); }),
            "CUDA: cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS");
  setenv("NNRT_CUDA_SYNC", "1", 1);
  std::unique_ptr<CudaDriver> waiting = CudaDriver::open(NNRT_FAKE_CUDA);
  unsetenv("NNRT_CUDA_SYNC");
  void *k = waiting->kernel(waiting->loadModule(".version 8.0\n"), "step_k3");
  EXPECT_EQ(errorOf([&] {
              waiting->launch(k, grid, block, 0, waiting->stream(), nullptr);
            }),
            "CUDA: kernel step_k3 failed: CUDA_ERROR_ILLEGAL_ADDRESS");
}

TEST(Cuda, ProfileListsKernelsByTime) {
  std::string path = ::testing::TempDir() + "nnrt_cuda_profile.txt";
  std::remove(path.c_str());
  setenv("NNRT_CUDA_PROFILE", path.c_str(), 1);
  std::unique_ptr<CudaDriver> cuda = CudaDriver::open(NNRT_FAKE_CUDA);
  unsetenv("NNRT_CUDA_PROFILE");
  void *module = cuda->loadModule(".version 8.0\n");
  void *a = cuda->kernel(module, "step_k1");
  unsigned grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  for (int i = 0; i < 3; ++i)
    cuda->launch(a, grid, block, 0, cuda->stream(), nullptr);
  cuda.reset();
  std::ifstream in(path);
  std::string header, kernel;
  long long launches = 0;
  std::getline(in, header);
  in >> kernel >> launches;
  EXPECT_EQ(header, "kernel launches seconds share");
  EXPECT_EQ(kernel, "step_k1");
  EXPECT_EQ(launches, 3);
}

// What MLIR's gpu-to-llvm host code calls, in the order it calls them (the
// signatures of LLVM 19's translation), on the process's driver.
extern "C" {
void *mgpuModuleLoadJIT(void *, int);
void *mgpuModuleGetFunction(void *, const char *);
void *mgpuStreamCreate();
void mgpuLaunchKernel(void *, int64_t, int64_t, int64_t, int64_t, int64_t,
                      int64_t, int32_t, void *, void **, void **, int64_t);
void mgpuStreamSynchronize(void *);
void mgpuStreamDestroy(void *);
void mgpuModuleUnload(void *);
void nnrt_cuda_to_device(int64_t, int64_t, int64_t);
void nnrt_cuda_to_host(int64_t, int64_t, int64_t);
void *nnrt_cuda_workspace(int64_t, int64_t);
void nnrt_cuda_free(int64_t);
void *nnrt_cuda_alloc(int64_t);
}

TEST(Cuda, GeneratedHostCalls) {
  setenv("NNRT_LIBCUDA", NNRT_FAKE_CUDA, 1);
  char ptx[] = ".version 8.0\n.target sm_90\n";
  void *module = mgpuModuleLoadJIT(ptx, 2);
  void *fn = mgpuModuleGetFunction(module, "step_kernel");
  void *stream = mgpuStreamCreate();
  float *x = nullptr;
  void *params[] = {&x};
  mgpuLaunchKernel(fn, 2, 1, 1, 128, 1, 1, 0, stream, params, nullptr, 1);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  mgpuModuleUnload(module);
  unsetenv("NNRT_LIBCUDA");
  EXPECT_EQ(nnrt::CudaDriver::process().deviceName(), "Fake GPU");
}

TEST(Cuda, ModuleLoadedOncePerImage) {
  // MLIR's host code loads the module, looks the kernel up and unloads the
  // module around every launch: the driver compiles each PTX image once,
  // and looks each kernel up once, however many launches there are.
  setenv("NNRT_LIBCUDA", NNRT_FAKE_CUDA, 1);
  std::string path = ::testing::TempDir() + "nnrt_cuda_loads.txt";
  std::remove(path.c_str());
  static char ptx[] = ".version 8.0\n.target sm_90\n// loaded once\n";
  setenv("FAKE_CUDA_TRACE", path.c_str(), 1);
  for (int i = 0; i < 3; ++i) {
    void *module = mgpuModuleLoadJIT(ptx, 2);
    void *fn = mgpuModuleGetFunction(module, "once_kernel");
    mgpuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, mgpuStreamCreate(), nullptr,
                     nullptr, 0);
    mgpuModuleUnload(module);
  }
  unsetenv("FAKE_CUDA_TRACE");
  unsetenv("NNRT_LIBCUDA");
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"load 0", "function 0"}));
}

TEST(CudaDeathTest, GeneratedCallWithoutDeviceExits) {
  // A fresh process (the driver of this one may be open already).
  EXPECT_EXIT(
      {
        setenv("NNRT_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
        mgpuStreamCreate();
      },
      testing::ExitedWithCode(1),
      "error: no CUDA device: cannot load the driver "
      "/nonexistent/libcuda.so.1");
}

TEST(CudaDeathTest, ModulesLoadOnFirstKernel) {
  // The global constructors register every kernel module at start-up: a
  // program that runs no kernel (info, --help) never opens the driver.
  EXPECT_EXIT(
      {
        setenv("NNRT_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
        char ptx[] = ".version 8.0\n";
        void *module = mgpuModuleLoadJIT(ptx, 2);
        mgpuModuleUnload(module);
        std::fprintf(stderr, "no driver needed\n");
        std::exit(0);
      },
      testing::ExitedWithCode(0), "no driver needed");
  EXPECT_EXIT(
      {
        setenv("NNRT_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
        char ptx[] = ".version 8.0\n";
        mgpuModuleGetFunction(mgpuModuleLoadJIT(ptx, 2), "k");
      },
      testing::ExitedWithCode(1), "error: no CUDA device: cannot load");
}

TEST(Cuda, EntryPointCopiesAndWorkspace) {
  // The fake driver's device memory is host memory: what goes in comes
  // back, and each entry point's workspace is one allocation grown to the
  // largest size it asks for.
  setenv("NNRT_LIBCUDA", NNRT_FAKE_CUDA, 1);
  auto *small = static_cast<char *>(nnrt_cuda_workspace(64, 0));
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(nnrt_cuda_workspace(32, 0), small);
  auto *big = static_cast<char *>(nnrt_cuda_workspace(1 << 16, 0));
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(nnrt_cuda_workspace(1 << 10, 0), big);
  EXPECT_NE(nnrt_cuda_workspace(1 << 10, 1), big);
  float in[5] = {1.5f, -2, 3, 4e-3f, 5}, out[5] = {};
  nnrt_cuda_to_device(address(big + 128), address(in), sizeof in);
  nnrt_cuda_to_host(address(out), address(big + 128), sizeof out);
  unsetenv("NNRT_LIBCUDA");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(out[i], in[i]);
  EXPECT_GE(nnrt::cudaMemoryPeak(), size_t(1 << 16) + (1 << 10));
}

TEST(Cuda, ResidentBufferStaysOnTheDevice) {
  // Two entry points' device copies (train's at `a`, eval's at `b`) of one
  // registered state buffer. The fake device memory is host memory, so the
  // test sees which copies happen and which do not.
  setenv("NNRT_LIBCUDA", NNRT_FAKE_CUDA, 1);
  std::vector<float> state = {1, 2, 3, 4};
  auto *a = static_cast<float *>(nnrt_cuda_workspace(64, 10));
  auto *b = static_cast<float *>(nnrt_cuda_workspace(64, 11));
  int64_t bytes = 4 * sizeof(float);
  {
    nnrt::DeviceResident resident(state.data(), size_t(bytes));
    nnrt_cuda_to_device(address(a), address(state.data()), bytes);
    EXPECT_EQ(a[2], 3);
    // A step updates the state on the device: the host's copy is not
    // written back.
    a[2] = 30;
    nnrt_cuda_to_host(address(state.data()), address(a), bytes);
    EXPECT_EQ(state[2], 3);
    // The next step finds it in place (a host change the runtime did not
    // announce is not copied in).
    state[0] = -1;
    nnrt_cuda_to_device(address(a), address(state.data()), bytes);
    EXPECT_EQ(a[0], 1);
    EXPECT_EQ(a[2], 30);
    // Another entry point's copy comes from the device's newest one.
    nnrt_cuda_to_device(address(b), address(state.data()), bytes);
    EXPECT_EQ(b[2], 30);
    EXPECT_EQ(b[0], 1);
    // The runtime reads it (a checkpoint): the newest contents come back.
    resident.toHost();
    EXPECT_EQ(state[0], 1);
    EXPECT_EQ(state[2], 30);
    // The runtime changes it (a broadcast): every device copy is stale.
    state[3] = 40;
    resident.hostWritten();
    nnrt_cuda_to_device(address(a), address(state.data()), bytes);
    EXPECT_EQ(a[3], 40);
    // An unregistered buffer placed over a's copy, whose contents are
    // newest only there: they reach the host first.
    a[1] = 20;
    nnrt_cuda_to_host(address(state.data()), address(a), bytes);
    float other[4] = {7, 7, 7, 7};
    nnrt_cuda_to_device(address(a), address(other), bytes);
    EXPECT_EQ(state[1], 20);
    EXPECT_EQ(a[1], 7);
    nnrt_cuda_to_device(address(b), address(state.data()), bytes);
    EXPECT_EQ(b[1], 20);
    // A device buffer freed while holding the only newest copy.
    auto *c = static_cast<float *>(nnrt_cuda_alloc(bytes));
    nnrt_cuda_to_device(address(c), address(state.data()), bytes);
    c[0] = 100;
    nnrt_cuda_to_host(address(state.data()), address(c), bytes);
    nnrt_cuda_free(address(c));
    EXPECT_EQ(state[0], 100);
  }
  // Unregistered again: copies go both ways at every call.
  nnrt_cuda_to_device(address(a), address(state.data()), bytes);
  a[2] = 31;
  nnrt_cuda_to_host(address(state.data()), address(a), bytes);
  unsetenv("NNRT_LIBCUDA");
  EXPECT_EQ(state[2], 31);
}

TEST(CudaDeathTest, ResidentBuffersInCpuProgramsDoNothing) {
  // A CPU program registers its state too: without any entry point's copy
  // nothing opens the driver.
  EXPECT_EXIT(
      {
        setenv("NNRT_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
        std::vector<float> state(8, 1.0f);
        nnrt::DeviceResident resident(state.data(), state.size() * 4);
        resident.toHost();
        resident.hostWritten();
        std::fprintf(stderr, "no driver needed %zu\n", nnrt::cudaMemoryPeak());
        std::exit(0);
      },
      testing::ExitedWithCode(0), "no driver needed 0");
}
