// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s
// Recurrent.cpp: one GEMM for the input projections of all steps, then a
// loop over the T steps (not T copies of the cell): per step the GEMM
// h W_hh^T and one generic for the gates. Numbers: test/Numerics/sequences.test.

// CHECK-LABEL: func @gru
// CHECK: linalg.matmul_transpose_b ins(%{{.+}}, %arg2 : tensor<10x4xf32>, tensor<9x4xf32>)
// CHECK: scf.for %{{.+}} = %c0 to %c5 step %c1 iter_args
// CHECK: arith.subi %c4
// CHECK: linalg.matmul_transpose_b ins(%{{.+}}, %arg3 : tensor<2x3xf32>, tensor<9x3xf32>)
// CHECK: linalg.generic
// CHECK: math.tanh
// CHECK: arith.select
// CHECK: scf.yield
// CHECK-NOT: scf.for
// CHECK-NOT: nn.
func.func @gru(%x: tensor<2x5x4xf32>, %m: tensor<2x5xf32>, %wi: tensor<9x4xf32>, %wh: tensor<9x3xf32>, %b: tensor<9xf32>) -> (tensor<2x5x3xf32>, tensor<2x3xf32>, tensor<2x5x12xf32>) {
  %s, %h, %a = nn.recurrent %x, %m, %wi, %wh, %b, %b {cell = "gru", reverse = true} : (tensor<2x5x4xf32>, tensor<2x5xf32>, tensor<9x4xf32>, tensor<9x3xf32>, tensor<9xf32>, tensor<9xf32>) -> (tensor<2x5x3xf32>, tensor<2x3xf32>, tensor<2x5x12xf32>)
  return %s, %h, %a : tensor<2x5x3xf32>, tensor<2x3xf32>, tensor<2x5x12xf32>
}

// -----

// Backpropagation through time: the steps walked backwards (T-1 .. 0 for a
// forward layer), one generic of gate gradients per step, then dh through
// W_hh and the dW_hh accumulation as two GEMMs.
// CHECK-LABEL: func @lstm_grad
// CHECK: scf.for %{{.+}} = %c0 to %c5 step %c1 iter_args
// CHECK: arith.subi %c4
// CHECK: linalg.generic
// CHECK: linalg.matmul ins(%{{.+}}, %arg3 : tensor<2x12xf32>, tensor<12x3xf32>)
// CHECK: linalg.matmul_transpose_a
// CHECK: scf.yield
// CHECK-NOT: scf.for
// CHECK-NOT: nn.
func.func @lstm_grad(%ds: tensor<2x5x3xf32>, %dh: tensor<2x3xf32>, %m: tensor<2x5xf32>, %wh: tensor<12x3xf32>, %s: tensor<2x5x3xf32>, %a: tensor<2x5x15xf32>) -> (tensor<2x5x12xf32>, tensor<2x5x12xf32>, tensor<12x3xf32>) {
  %x, %h, %w = nn.recurrent_grad %ds, %dh, %m, %wh, %s, %a {cell = "lstm", reverse = false} : (tensor<2x5x3xf32>, tensor<2x3xf32>, tensor<2x5xf32>, tensor<12x3xf32>, tensor<2x5x3xf32>, tensor<2x5x15xf32>) -> (tensor<2x5x12xf32>, tensor<2x5x12xf32>, tensor<12x3xf32>)
  return %x, %h, %w : tensor<2x5x12xf32>, tensor<2x5x12xf32>, tensor<12x3xf32>
}
