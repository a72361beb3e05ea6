// Numerics of the whole CPU path (nnc-cpu-codegen, LLVM -O3, object file):
// the MLP's matmuls, forward and backward, an elementwise epilogue and
// reductions, called from C through the bare-pointer ABI and compared with
// naive loops in the harness.
// RUN: nnc-translate %s --codegen --emit=obj -o %t.o
// RUN: cc -O1 %S/Inputs/codegen_harness.c %t.o -lm -o %t.exe
// RUN: %t.exe | FileCheck %s
// CHECK: mm 64x784x128: ok
// CHECK: mm_tb 64x128x784: ok
// CHECK: mm_ta 784x64x128: ok
// CHECK: dense_relu 64x784x128: ok
// CHECK: softmax 64x10: ok
// CHECK: colsum 64x128: ok
// CHECK: all ok

// y = x w  (forward of a 784 -> 128 dense layer at batch 64)
func.func @mm(%x: tensor<64x784xf32>, %w: tensor<784x128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %y = linalg.matmul ins(%x, %w : tensor<64x784xf32>, tensor<784x128xf32>)
                     outs(%acc : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// dx = dy w^T with w stored as 784x128 rows: C[m,n] = sum_k A[m,k] B[n,k]
func.func @mm_tb(%dy: tensor<64x128xf32>, %w: tensor<784x128xf32>) -> tensor<64x784xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x784xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<64x784xf32>) -> tensor<64x784xf32>
  %y = linalg.matmul_transpose_b ins(%dy, %w : tensor<64x128xf32>, tensor<784x128xf32>)
                                 outs(%acc : tensor<64x784xf32>) -> tensor<64x784xf32>
  return %y : tensor<64x784xf32>
}

// dw = x^T dy: C[m,n] = sum_k A[k,m] B[k,n]
func.func @mm_ta(%x: tensor<64x784xf32>, %dy: tensor<64x128xf32>) -> tensor<784x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<784x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<784x128xf32>) -> tensor<784x128xf32>
  %y = linalg.matmul_transpose_a ins(%x, %dy : tensor<64x784xf32>, tensor<64x128xf32>)
                                 outs(%acc : tensor<784x128xf32>) -> tensor<784x128xf32>
  return %y : tensor<784x128xf32>
}

#map = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>

func.func @dense_relu(%x: tensor<64x784xf32>, %w: tensor<784x128xf32>,
                      %b: tensor<128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<64x784xf32>, tensor<784x128xf32>)
                      outs(%acc : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x128xf32>
  %y = linalg.generic {indexing_maps = [#map, #col, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<64x128xf32>, tensor<128xf32>) outs(%e2 : tensor<64x128xf32>) {
  ^bb0(%m: f32, %bb: f32, %o: f32):
    %s = arith.addf %m, %bb : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// Row-wise softmax of logits: max, exp, sum, divide (reductions along the
// innermost dimension of length 10, exp through its polynomial).
func.func @softmax(%x: tensor<64x10xf32>) -> tensor<64x10xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<64xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<64xf32>) -> tensor<64xf32>
  %max = linalg.reduce ins(%x : tensor<64x10xf32>) outs(%m0 : tensor<64xf32>) dimensions = [1]
    (%a: f32, %acc: f32) {
      %r = arith.maximumf %a, %acc : f32
      linalg.yield %r : f32
    }
  %e2 = tensor.empty() : tensor<64x10xf32>
  %ex = linalg.generic {indexing_maps = [#map, #row, #map],
                        iterator_types = ["parallel", "parallel"]}
      ins(%x, %max : tensor<64x10xf32>, tensor<64xf32>) outs(%e2 : tensor<64x10xf32>) {
  ^bb0(%a: f32, %mx: f32, %o: f32):
    %d = arith.subf %a, %mx : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  } -> tensor<64x10xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.reduce ins(%ex : tensor<64x10xf32>) outs(%s0 : tensor<64xf32>) dimensions = [1]
    (%a: f32, %acc: f32) {
      %r = arith.addf %a, %acc : f32
      linalg.yield %r : f32
    }
  %e3 = tensor.empty() : tensor<64x10xf32>
  %y = linalg.generic {indexing_maps = [#map, #row, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ex, %sum : tensor<64x10xf32>, tensor<64xf32>) outs(%e3 : tensor<64x10xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %r = arith.divf %a, %s : f32
    linalg.yield %r : f32
  } -> tensor<64x10xf32>
  return %y : tensor<64x10xf32>
}

// Bias gradient: the sum over the batch (a reduction over the outer dimension).
func.func @colsum(%dy: tensor<64x128xf32>) -> tensor<128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e : tensor<128xf32>) -> tensor<128xf32>
  %sum = linalg.reduce ins(%dy : tensor<64x128xf32>) outs(%s0 : tensor<128xf32>) dimensions = [0]
    (%a: f32, %acc: f32) {
      %r = arith.addf %a, %acc : f32
      linalg.yield %r : f32
    }
  return %sum : tensor<128xf32>
}
