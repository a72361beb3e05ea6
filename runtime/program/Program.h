//===- Program.h - The compiled program's commands ---------------*- C++ -*-===//
//
// `./model train | eval | predict | info`: the orchestration around the
// generated entry points (ABI.h). Data, batching, metrics, checkpoints, logs
// and progress are the runtime's; every number of the model is computed by
// generated code.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_PROGRAM_H
#define NNRT_PROGRAM_PROGRAM_H

namespace nnrt {

/// The program's main: parses the command line and runs a command. Returns
/// the exit status (0 ok, 1 bad input, 2 usage, 3 internal error).
int runProgram(int argc, char **argv);

} // namespace nnrt

#endif // NNRT_PROGRAM_PROGRAM_H
