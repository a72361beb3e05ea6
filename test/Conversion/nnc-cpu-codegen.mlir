// RUN: nnc-opt %s -split-input-file -nnc-cpu-codegen | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nnc-cpu-codegen='parallel-chunks=8' | FileCheck %s --check-prefix=PAR

// Matmul + bias + relu: the matmul becomes a broadcast-FMA kernel on 16-lane
// vectors, the epilogue a vector loop; nothing of linalg, tensor or vector is
// left, and results come back through an out-parameter (bare pointers).

#map = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
func.func @dense_relu(%x: tensor<64x784xf32>, %w: tensor<784x128xf32>,
                      %b: tensor<128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<64x784xf32>, tensor<784x128xf32>)
                      outs(%acc : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x128xf32>
  %y = linalg.generic {indexing_maps = [#map, #bias, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<64x128xf32>, tensor<128xf32>) outs(%e2 : tensor<64x128xf32>) {
  ^bb0(%m: f32, %bb: f32, %o: f32):
    %s = arith.addf %m, %bb : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// With parallel-chunks, the matmul (64x784x128) runs as 4 chunks of 32 columns
// through the runtime; the small epilogue stays serial.
// PAR-LABEL: llvm.func @dense_relu
// PAR:         llvm.call @__nnc_parallel_0(
// PAR:         llvm.call @__nnc_kernel_
// PAR-LABEL: llvm.func @__nnc_kernel_0(%{{.+}}: i64,
// PAR:         llvm.intr.fmuladd{{.*}}vector<32xf32>
// PAR-LABEL: llvm.func internal @__nnc_parallel_0(
// PAR:         %[[N:.+]] = llvm.mlir.constant(4 : i64) : i64
// PAR:         llvm.call @nnrt_parallel_for(%[[N]],
// PAR-LABEL: llvm.func internal @__nnc_parallel_0_task(
// PAR:         llvm.call @__nnc_kernel_0(
// PAR:       llvm.func @nnrt_parallel_for(i64, !llvm.ptr, !llvm.ptr)

// CHECK-LABEL: llvm.func @dense_relu
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.intr.fmuladd{{.*}}vector<32xf32>
// CHECK: llvm.intr.maximum{{.*}}vector<
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: vector.
// CHECK-NOT: memref.
// CHECK-NOT: llvm.call @malloc

// -----

// Transcendental functions need no libm: they become polynomials.

#id = affine_map<(d0) -> (d0)>
func.func @gelu_like(%x: tensor<256xf32>) -> tensor<256xf32> {
  %e = tensor.empty() : tensor<256xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<256xf32>) outs(%e : tensor<256xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = math.erf %a : f32
    %1 = math.exp %0 : f32
    %2 = math.tanh %1 : f32
    %3 = math.log1p %2 : f32
    linalg.yield %3 : f32
  } -> tensor<256xf32>
  return %y : tensor<256xf32>
}

// CHECK-LABEL: llvm.func @gelu_like
// CHECK: llvm.call @__nnc_kernel_0
// CHECK-LABEL: llvm.func @__nnc_kernel_0
// CHECK: vector<64xf32>
// CHECK-NOT: math.
// CHECK-NOT: llvm.call
