//===- Mpi.h - Open MPI for data-parallel training, loaded at run time -*- C++
//-*-===//
//
// `mpirun -np N ./model train` trains data-parallel (SPEC 2.11). Programs do
// not link libmpi: a program that mpirun started with more than one rank
// (OMPI_COMM_WORLD_SIZE > 1 in its environment) loads Open MPI's
// libmpi.so.40 with dlopen and finds the few functions and predefined
// handles it uses (MPI_COMM_WORLD, MPI_FLOAT, MPI_DOUBLE, MPI_SUM are
// addresses of Open MPI's ompi_mpi_* globals, as its mpi.h defines them).
// Everywhere else, one rank and no MPI at all: a program run without mpirun
// (or with -np 1) needs no Open MPI installed.
//
// Errors keep MPI's default handler (MPI_ERRORS_ARE_FATAL): a rank that
// dies or fails makes mpirun end every other one.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_MPI_H
#define NNRT_PROGRAM_MPI_H

#include <cstddef>
#include <memory>

namespace nnrt {

class Mpi {
public:
  /// This process's world: started (MPI_Init) on first use when mpirun
  /// launched more than one rank, else one rank without MPI. Throws Error
  /// when libmpi cannot be loaded.
  static Mpi &world();
  /// The ranks mpirun launched (OMPI_COMM_WORLD_SIZE), 1 without mpirun;
  /// starts nothing.
  static int launched();

  int rank() const { return myRank; }
  int size() const { return ranks; }
  /// More than one rank: the collectives below communicate.
  bool active() const { return ranks > 1; }
  bool lead() const { return myRank == 0; }

  /// In-place sums over every rank (MPI_Allreduce, MPI_IN_PLACE).
  void sum(float *data, size_t n);
  void sum(double *data, size_t n);
  /// Rank 0's `data` copied to every rank (MPI_Bcast).
  void broadcast(float *data, size_t n);
  /// MPI_Finalize when MPI was started; the program's last MPI call.
  void finalize();

  ~Mpi();
  Mpi(const Mpi &) = delete;
  Mpi &operator=(const Mpi &) = delete;

private:
  Mpi();
  struct Library;
  std::unique_ptr<Library> lib;
  int myRank = 0, ranks = 1;
};

} // namespace nnrt

#endif // NNRT_PROGRAM_MPI_H
