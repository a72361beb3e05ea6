// RUN: nnc-opt %s -split-input-file -nn-generate-launchers -verify-diagnostics

// Not a launcher of nn-outline-kernels: the kernel is missing.
// expected-error @+1 {{'llvm.func' op is not a launcher declaration of nn-outline-kernels}}
llvm.func @__nnc_parallel_1(!llvm.ptr) attributes {nn.parallel_body = @missing, nn.parallel_chunks = 2 : i64}

// -----

// The kernel does not take (chunk, the launcher's arguments...).
llvm.func @__nnc_kernel_0(%i: i64) {
  llvm.return
}
// expected-error @+1 {{'llvm.func' op is not a launcher declaration of nn-outline-kernels}}
llvm.func @__nnc_parallel_0(!llvm.ptr) attributes {nn.parallel_body = @__nnc_kernel_0, nn.parallel_chunks = 2 : i64}
