// RUN: nnc-opt %s -nnc-gpu-codegen | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: nnc-opt %s -nnc-gpu-codegen="chip=sm_80 features=+ptx70" | FileCheck %s --check-prefixes=CHECK,SM80
// The first stage of --target cuda (issue 15): each linalg op of a step (a
// zero fill, a matmul, a relu) becomes a kernel outlined into its own
// gpu.module, lowered to NVVM and serialized by LLVM's NVPTX backend to PTX
// for the chosen architecture (no CUDA toolkit), embedded as a gpu.binary;
// the host function launches the three in order. Plain mapping: parallel
// loops onto blocks and threads (no shared memory or tensor cores yet).

// CHECK: module attributes {gpu.container_module}
// CHECK: llvm.func @step(
// CHECK: gpu.launch_func @step_kernel::@step_kernel
// CHECK: gpu.launch_func @step_kernel_0::@step_kernel
// CHECK: gpu.launch_func @step_kernel_1::@step_kernel
// CHECK: llvm.return
// SM90: gpu.binary @step_kernel [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">
// SM80: gpu.binary @step_kernel [#gpu.object<#nvvm.target<chip = "sm_80", features = "+ptx70">
// SM90-SAME: .target sm_90
// SM80-SAME: .target sm_80
// CHECK-SAME: .visible .entry step_kernel(
// CHECK: gpu.binary @step_kernel_0
// The matmul's kernel: its reduction a loop in each thread (a multiply and
// an add, rounded apart as in the CPU build).
// CHECK-SAME: .visible .entry step_kernel(
// CHECK-SAME: mul.rn.f32
// CHECK-SAME: add.rn.f32
// CHECK: gpu.binary @step_kernel_1
// CHECK-SAME: .visible .entry step_kernel(
// CHECK-SAME: max.NaN.f32

func.func @step(%a: memref<64x128xf32>, %b: memref<128x32xf32>, %c: memref<64x32xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<64x32xf32>)
  linalg.matmul ins(%a, %b : memref<64x128xf32>, memref<128x32xf32>) outs(%c : memref<64x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} outs(%c : memref<64x32xf32>) {
  ^bb0(%x: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  }
  return
}
