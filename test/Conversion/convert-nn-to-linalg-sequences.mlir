// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s
// Sequences.cpp: no nn op is left; the numbers are checked against PyTorch in
// test/Numerics/sequences.test.

// Embedding: a gather in the body of a generic, the id clamped to the table.
// CHECK-LABEL: func @embedding
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: arith.maxsi
// CHECK: arith.minsi {{.+}}, %c9_i32
// CHECK: arith.index_cast
// CHECK: linalg.index 2
// CHECK: tensor.extract %arg1
// CHECK-NOT: nn.
func.func @embedding(%ids: tensor<2x5xi32>, %w: tensor<10x3xf32>) -> tensor<2x5x3xf32> {
  %y = nn.embedding %ids, %w : (tensor<2x5xi32>, tensor<10x3xf32>) -> tensor<2x5x3xf32>
  return %y : tensor<2x5x3xf32>
}

// -----

// Its gradient: a scatter-add loop over the N T ids into the zeroed table,
// one row read, added to and written back per id (no one-hot matmul).
// CHECK-LABEL: func @embedding_grad
// CHECK: %[[ZERO:.+]] = linalg.fill
// CHECK: scf.for %{{.+}} = %c0 to %c10 step %c1 iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (tensor<10x3xf32>)
// CHECK: tensor.extract %arg1
// CHECK: %[[ROW:.+]] = tensor.extract_slice %[[ACC]][%{{.+}}, 0] [1, 3] [1, 1]
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} outs(%[[ROW]] : tensor<3xf32>)
// CHECK: arith.addf
// CHECK: tensor.insert_slice %[[SUM]] into %[[ACC]]
// CHECK-NOT: linalg.matmul
// CHECK-NOT: nn.
func.func @embedding_grad(%dy: tensor<2x5x3xf32>, %ids: tensor<2x5xi32>) -> tensor<10x3xf32> {
  %dw = nn.embedding_grad %dy, %ids : (tensor<2x5x3xf32>, tensor<2x5xi32>) -> tensor<10x3xf32>
  return %dw : tensor<10x3xf32>
}

// -----

// The mean over the real steps: a masked sum reducing over t, divided by
// the step counts (at least 1).
// CHECK-LABEL: func @avgpool
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: arith.select
// CHECK: linalg.reduce
// CHECK: arith.maximumf
// CHECK: arith.divf
// CHECK-NOT: nn.
func.func @avgpool(%x: tensor<2x5x3xf32>, %m: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %y = nn.masked_avgpool %x, %m : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// The maximum: one reduction carrying value and first index (-1: none yet).
// CHECK-LABEL: func @maxpool
// CHECK: linalg.fill ins(%c-1_i32
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME: outs(%{{.+}}, %{{.+}} : tensor<2x3xf32>, tensor<2x3xi32>)
// CHECK: arith.cmpf ogt
// CHECK: linalg.index 1
// CHECK: linalg.yield %{{.+}}, %{{.+}} : f32, i32
// CHECK-NOT: nn.
func.func @maxpool(%x: tensor<2x5x3xf32>, %m: tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xi32>) {
  %y, %i = nn.masked_maxpool %x, %m : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xi32>)
  return %y, %i : tensor<2x3xf32>, tensor<2x3xi32>
}
