//===- Mpi.cpp - Open MPI for data-parallel training, loaded at run time --===//
#include "runtime/program/Mpi.h"
#include "runtime/Error.h"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace nnrt {
namespace {

// MPI handles are pointers in Open MPI's ABI.
using Handle = void *;
// MPI_IN_PLACE in Open MPI's mpi.h.
void *const kInPlace = reinterpret_cast<void *>(1);
// Collectives take int counts: larger buffers go in pieces.
constexpr size_t kMaxCount = size_t(1) << 30;

} // namespace

struct Mpi::Library {
  void *handle = nullptr;
  int (*init)(int *, char ***) = nullptr;
  int (*finalize)() = nullptr;
  int (*commRank)(Handle, int *) = nullptr;
  int (*commSize)(Handle, int *) = nullptr;
  int (*allreduce)(const void *, void *, int, Handle, Handle, Handle) = nullptr;
  int (*bcast)(void *, int, Handle, int, Handle) = nullptr;
  Handle world = nullptr, floatType = nullptr, doubleType = nullptr,
         sumOp = nullptr;
  bool finalized = false;

  template <typename T> void find(T &fn, const char *name) {
    fn = reinterpret_cast<T>(dlsym(handle, name));
    if (!fn)
      throw Error(std::string("mpirun: Open MPI's libmpi has no '") + name +
                  "': this program needs Open MPI 4 (libmpi.so.40)");
  }

  Library() {
    // RTLD_GLOBAL: Open MPI's components, loaded by libmpi itself, resolve
    // their references to it in the global scope.
    for (const char *name : {"libmpi.so.40", "libmpi.so"})
      if ((handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL)))
        break;
    if (!handle)
      throw Error(std::string("mpirun started this program but Open MPI's "
                              "library cannot be loaded (") +
                  dlerror() +
                  "); install Open MPI (Debian: openmpi-bin libopenmpi3)");
    find(init, "MPI_Init");
    find(finalize, "MPI_Finalize");
    find(commRank, "MPI_Comm_rank");
    find(commSize, "MPI_Comm_size");
    find(allreduce, "MPI_Allreduce");
    find(bcast, "MPI_Bcast");
    find(world, "ompi_mpi_comm_world");
    find(floatType, "ompi_mpi_float");
    find(doubleType, "ompi_mpi_double");
    find(sumOp, "ompi_mpi_op_sum");
  }
};

Mpi::Mpi() {
  if (launched() == 1)
    return;
  lib = std::make_unique<Library>();
  if (lib->init(nullptr, nullptr) != 0)
    throw Error("mpirun: MPI_Init failed");
  lib->commRank(lib->world, &myRank);
  lib->commSize(lib->world, &ranks);
}

Mpi::~Mpi() = default;

// Open MPI sets OMPI_COMM_WORLD_SIZE in every rank's environment.
int Mpi::launched() {
  const char *size = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (!size)
    return 1;
  char *end = nullptr;
  long n = std::strtol(size, &end, 10);
  return end != size && *end == '\0' && n > 1 && n < INT_MAX ? int(n) : 1;
}

Mpi &Mpi::world() {
  static Mpi mpi;
  return mpi;
}

void Mpi::sum(float *data, size_t n) {
  for (size_t at = 0; active() && at < n; at += kMaxCount)
    lib->allreduce(kInPlace, data + at, int(std::min(kMaxCount, n - at)),
                   lib->floatType, lib->sumOp, lib->world);
}

void Mpi::sum(double *data, size_t n) {
  for (size_t at = 0; active() && at < n; at += kMaxCount)
    lib->allreduce(kInPlace, data + at, int(std::min(kMaxCount, n - at)),
                   lib->doubleType, lib->sumOp, lib->world);
}

void Mpi::broadcast(float *data, size_t n) {
  for (size_t at = 0; active() && at < n; at += kMaxCount)
    lib->bcast(data + at, int(std::min(kMaxCount, n - at)), lib->floatType, 0,
               lib->world);
}

/// Called by generated code (`sync_batchnorm`: nn.batchnorm's statistics):
/// `data[0..n)` summed over the ranks, in place; nothing in one process.
extern "C" void nnrt_allreduce_f32(float *data, int64_t n) {
  Mpi::world().sum(data, static_cast<size_t>(n));
}

void Mpi::finalize() {
  if (lib && !lib->finalized) {
    lib->finalized = true;
    lib->finalize();
  }
}

} // namespace nnrt
