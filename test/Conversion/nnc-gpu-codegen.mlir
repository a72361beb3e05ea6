// RUN: nnc-opt %s -nnc-gpu-codegen | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: nnc-opt %s -nnc-gpu-codegen="chip=sm_80 features=+ptx70" | FileCheck %s --check-prefixes=CHECK,SM80
// --target cuda (issue 15): each linalg op of a step (a zero fill, a
// matmul, a relu) becomes a kernel, outlined into one of the program's (up
// to) four gpu.modules of about equal size, lowered to NVVM and serialized
// in parallel by LLVM's NVPTX backend to PTX for the chosen architecture
// (no CUDA toolkit), each embedded as a gpu.binary;
// the host function launches the three in order. The matmul is a tiled
// kernel (nn-gpu-gemm: 128 threads, its A and B tiles in shared memory,
// tensor cores through mma.sync m16n8k4 tf32); the fill and the relu are
// parallel loops on blocks of 256 threads (nn-gpu-map-loops).

// The entry point keeps its C signature (bare pointers to the caller's host
// buffers): it asks the runtime for its device workspace and calls the
// step, which copies the buffers in, launches the kernels and copies what
// it wrote back (here %c).
// CHECK: module attributes {gpu.container_module}
// CHECK: llvm.func @step(%[[A:.+]]: !llvm.ptr, %[[B:.+]]: !llvm.ptr, %[[C:.+]]: !llvm.ptr) {
// CHECK: %[[WS:.+]] = llvm.call @nnrt_cuda_workspace(%{{.+}}, %{{.+}}) : (i64, i64) -> !llvm.ptr
// CHECK: llvm.call @step_cuda(%[[A]], %[[B]], %[[C]], %[[WS]])
// CHECK: llvm.func @step_cuda(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr) attributes {nn.workspace_bytes = 57344 : i64, sym_visibility = "private"}
// CHECK-COUNT-3: llvm.call @nnc_cuda_to_device_
// CHECK: gpu.launch_func @nnc_kernels_0::@step_cuda_kernel
// CHECK: gpu.launch_func @nnc_kernels_1::@step_cuda_kernel_0
// CHECK: gpu.launch_func @nnc_kernels_2::@step_cuda_kernel_1
// CHECK: llvm.call @nnc_cuda_to_host_0
// CHECK-NEXT: llvm.return
// Three kernels, three PTX images (nn-gpu-merge-kernel-modules{parts=4},
// nn-gpu-module-to-binary).
// SM90: gpu.binary @nnc_kernels_0 [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">
// SM80: gpu.binary @nnc_kernels_0 [#gpu.object<#nvvm.target<chip = "sm_80", features = "+ptx70">
// SM90-SAME: .target sm_90
// SM80-SAME: .target sm_80
// CHECK-SAME: .visible .entry step_cuda_kernel(
// CHECK-SAME: .maxntid 256, 1, 1
// The matmul's kernel: the A (64 x 20 floats) and B (16 x 72) tiles in
// shared memory, two barriers per step of k, 32 mma.sync per step per warp.
// CHECK: gpu.binary @nnc_kernels_1
// CHECK-SAME: .visible .entry step_cuda_kernel_0(
// CHECK-SAME: .maxntid 128, 1, 1
// CHECK-SAME: .shared .align 4 .b8 __wg_step_cuda_kernel_0_0[5120];
// CHECK-SAME: .shared .align 4 .b8 __wg_step_cuda_kernel_0_1[4608];
// CHECK-SAME: st.shared.f32
// CHECK-SAME: bar.sync
// CHECK-SAME: ld.shared.u32
// CHECK-SAME: mma.sync.aligned.m16n8k4.row.col.f32.tf32.tf32.f32
// CHECK-SAME: bar.sync
// CHECK: gpu.binary @nnc_kernels_2
// CHECK-SAME: .visible .entry step_cuda_kernel_1(
// CHECK-SAME: .maxntid 256, 1, 1
// CHECK-SAME: max.NaN.f32
// The copies: on the buffers' addresses, through the runtime.
// CHECK: llvm.func @nnc_cuda_to_device_0(
// CHECK: llvm.call @nnrt_cuda_to_device(
// CHECK: llvm.func @nnc_cuda_to_host_0(
// CHECK: llvm.call @nnrt_cuda_to_host(

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
