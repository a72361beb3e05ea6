// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s
// Normalization.cpp: no nn op is left; the numbers are checked against
// PyTorch in test/Numerics/norm.test.

// Batchnorm: the real-row count from the mask, per-channel masked sums (the
// channel loop parallel, the others reductions), the normalization.
// CHECK-LABEL: func @batchnorm
// CHECK: linalg.reduce
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: arith.select
// CHECK: arith.divf
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: math.sqrt
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK-NOT: nn.
func.func @batchnorm(%x: tensor<4x3x2x2xf32>, %w: tensor<3xf32>, %m: tensor<4xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) {
  %y, %mean, %var = nn.batchnorm %x, %w, %w, %m : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  return %y, %mean, %var : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Dropout: the mask from linalg.index and integer hashing of the seed.
// CHECK-LABEL: func @dropout
// CHECK: %[[SEED:.+]] = tensor.extract %{{.+}}[] : tensor<i64>
// CHECK: linalg.generic
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.muli
// CHECK: arith.shrui
// CHECK: arith.xori
// CHECK: arith.uitofp
// CHECK: arith.cmpf oge
// CHECK: arith.select
// CHECK-NOT: nn.
func.func @dropout(%x: tensor<4x5xf32>, %s: tensor<i64>) -> tensor<4x5xf32> {
  %y = nn.dropout %x, %s {p = 0.25 : f32} : tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// Concat: inserts at channel offsets; its gradient's slices: extracts.
// CHECK-LABEL: func @concat
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x5xf32>
// CHECK: %[[I0:.+]] = tensor.insert_slice %{{.+}} into %[[E]][0, 0] [4, 3] [1, 1]
// CHECK: %[[I1:.+]] = tensor.insert_slice %{{.+}} into %[[I0]][0, 3] [4, 2] [1, 1]
// CHECK: tensor.extract_slice %[[I1]][0, 3] [4, 2] [1, 1]
func.func @concat(%a: tensor<4x3xf32>, %b: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %c = nn.concat %a, %b : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<4x5xf32>
  %s = nn.slice %c {offsets = array<i64: 0, 3>} : tensor<4x5xf32> to tensor<4x2xf32>
  return %s : tensor<4x2xf32>
}

// -----

// Layernorm and its gradient, running averages and eval-mode batchnorm:
// every op lowers.
// CHECK-LABEL: func @rest
// CHECK-NOT: nn.
func.func @rest(%x: tensor<4x5xf32>, %w: tensor<5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<4x5xf32>) {
  %y = nn.layernorm %x, %w, %w : tensor<4x5xf32>, tensor<5xf32>
  %dx, %dw, %db = nn.layernorm_grad %y, %x, %w : tensor<4x5xf32>, tensor<5xf32>
  %r = nn.running_average %w, %db : tensor<5xf32>
  %e = nn.batchnorm_inference %x, %w, %w, %w, %r : tensor<4x5xf32>, tensor<5xf32>
  return %y, %dx, %dw, %db, %r, %e : tensor<4x5xf32>, tensor<4x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<4x5xf32>
}
