// RUN: nnc-opt %s -nnc-cpu-codegen='parallel-chunks=8' -mlir-print-ir-after=nn-outline-kernels -o /dev/null 2>&1 | FileCheck %s

// A copy made by bufferization (the fill writes into %x, whose old value is
// also returned) of at least parallel-min-work elements runs as chunks of
// rows too, like the fill itself.

// CHECK-LABEL: func.func @keep(
// CHECK-SAME:    %[[X:[^:]+]]: memref<256x256xf32>, %[[OUT:[^:]+]]: memref<256x256xf32>)
// CHECK:         call @__nnc_parallel_0(%[[X]], %[[OUT]])
// CHECK-NEXT:    call @__nnc_parallel_1(%[[OUT]])
// CHECK-LABEL: func.func private @__nnc_kernel_0(
// CHECK-SAME:    %[[I:[^:]+]]: index, %[[FROM:[^:]+]]: memref<256x256xf32>, %[[TO:[^:]+]]: memref<256x256xf32>)
// CHECK:         %[[ROW:.+]] = arith.addi %{{.+}}, %{{.+}} : index
// CHECK:         memref.subview %[[FROM]][%[[ROW]], 0] [32, 256] [1, 1]
// CHECK:         memref.subview %[[TO]][%[[ROW]], 0] [32, 256] [1, 1]
// CHECK:       func.func private @__nnc_parallel_0({{.*}} attributes {nn.parallel_body = @__nnc_kernel_0, nn.parallel_chunks = 8 : i64}
func.func @keep(%x: tensor<256x256xf32>) -> (tensor<256x256xf32>, tensor<256x256xf32>) {
  %c = arith.constant 1.0 : f32
  %r = linalg.fill ins(%c : f32) outs(%x : tensor<256x256xf32>) -> tensor<256x256xf32>
  return %r, %x : tensor<256x256xf32>, tensor<256x256xf32>
}
