// RUN: nnc-opt %s -nn-gpu-merge-kernel-modules | FileCheck %s
// RUN: nnc-opt %s -nn-gpu-merge-kernel-modules=parts=2 | FileCheck %s --check-prefix=PARTS
// --target cuda: the kernels outlining put into one gpu.module each (all
// named after their function) move into one module, renamed after the
// module they came from; the launches follow. The constant global two
// kernels read (outlining copied it into their modules) goes once into
// each module that receives one of them.

// CHECK: module attributes {gpu.container_module}
// CHECK-LABEL: func.func @step(
// CHECK: gpu.launch_func @nnc_kernels::@step_kernel blocks
// CHECK: gpu.launch_func @nnc_kernels::@step_kernel_0 blocks
// CHECK: gpu.launch_func @nnc_kernels::@step_kernel blocks
// CHECK-NOT: gpu.module @step_kernel
// CHECK: gpu.module @nnc_kernels {
// CHECK-NEXT: memref.global "private" constant @eps : memref<f32> = dense<1.000000e+00>
// CHECK-NEXT: gpu.func @step_kernel(%{{.+}}: memref<4xf32>) kernel
// CHECK-NOT: memref.global
// CHECK: gpu.func @step_kernel_0(%{{.+}}: memref<4xf32>) kernel
// CHECK-NOT: gpu.module

// parts=2: two modules, the kernels balanced by their operations (the
// bigger second kernel alone in its module, then the third with the first).
// PARTS-LABEL: func.func @step(
// PARTS: gpu.launch_func @nnc_kernels_0::@step_kernel blocks
// PARTS: gpu.launch_func @nnc_kernels_1::@step_kernel_0 blocks
// PARTS: gpu.launch_func @nnc_kernels_0::@step_kernel_1 blocks
// PARTS: gpu.module @nnc_kernels_0 {
// PARTS-NEXT: memref.global "private" constant @eps
// PARTS-NEXT: gpu.func @step_kernel(
// PARTS: gpu.func @step_kernel_1(
// PARTS: gpu.module @nnc_kernels_1 {
// PARTS-NEXT: memref.global "private" constant @eps
// PARTS-NEXT: gpu.func @step_kernel_0(
// PARTS-NOT: gpu.module
module attributes {gpu.container_module} {
  func.func @step(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @step_kernel::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @step_kernel_0::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @step_kernel::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @step_kernel_1::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    return
  }
  gpu.module @step_kernel {
    gpu.func @step_kernel(%a: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @step_kernel_0 {
    memref.global "private" constant @eps : memref<f32> = dense<1.0>
    gpu.func @step_kernel(%a: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %g = memref.get_global @eps : memref<f32>
      %z = memref.load %g[] : memref<f32>
      memref.store %z, %a[%c0] : memref<4xf32>
      gpu.return
    }
  }
  gpu.module @step_kernel_1 {
    memref.global "private" constant @eps : memref<f32> = dense<1.0>
    gpu.func @step_kernel(%a: memref<4xf32>) kernel {
      gpu.return
    }
  }
}
