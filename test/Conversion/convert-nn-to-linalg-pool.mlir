// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg -cse | FileCheck %s

// relu_grad(maxpool2d_grad(dy, x), x) with the forward pass's maxpool2d(x)
// in the function: relu's mask is applied to dy where each window's
// maximum is positive (y = maxpool2d(x), a quarter of x's elements), before
// the gradient routes dy to the maximum; no pass over x and dx follows the
// gradient. The window maximum and its offset are the forward pass's (one
// op, CSE).
// CHECK-LABEL: func.func @relu_then_pool(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<1x2x4x4xf32>, %[[DY:[^:]+]]: tensor<1x2x2x2xf32>
// CHECK:         %[[MAX:.+]]:2 = linalg.generic
// CHECK:         } -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK:         %[[MASKED:.+]] = linalg.generic {{.*}} ins(%[[DY]], %[[MAX]]#0 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK:           arith.cmpf ogt
// CHECK:           arith.select
// CHECK:         %[[DX:.+]] = linalg.generic {{.*}} ins(%[[MAX]]#1, %[[MASKED]] : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) outs(%{{.+}} : tensor<1x2x2x2x2x2xf32>)
// CHECK:         %[[C:.+]] = tensor.collapse_shape %[[DX]]
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[MAX]]#0, %[[C]]
func.func @relu_then_pool(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>) {
  %y = nn.maxpool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<1x2x4x4xf32> -> tensor<1x2x2x2xf32>
  %g = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>
  %dx = nn.relu_grad %g, %x : tensor<1x2x4x4xf32>
  return %y, %dx : tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>
}

// -----

// Without the forward pass's maxpool2d of the same windows (here: other
// windows) the relu's gradient stays after the pooling's, over all of dx.
// CHECK-LABEL: func.func @no_forward_pool(
// CHECK:         %[[DX:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x2x2x2x2xf32>)
// CHECK:         %[[C:.+]] = tensor.collapse_shape %[[DX]]
// CHECK:         linalg.generic {{.*}} ins(%[[C]], %{{.+}} : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>)
// CHECK:           arith.cmpf ogt
func.func @no_forward_pool(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x2x2x2xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x4x4xf32>) {
  %y = nn.maxpool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : tensor<1x2x4x4xf32> -> tensor<1x2x3x3xf32>
  %g = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>
  %dx = nn.relu_grad %g, %x : tensor<1x2x4x4xf32>
  return %y, %dx : tensor<1x2x3x3xf32>, tensor<1x2x4x4xf32>
}

// -----

// Overlapping windows at stride 1 (3x3, padding 1: an inception block's
// pool): dx is gathered in one op, not 9 passes adding into a padded dxp.
// The window offsets (-1: no window) and dy are padded by kh - 1 = 2 rows
// and columns above and left, and by H + top - OH = 1 below and right (the
// shifted views of the last input row and column stay inside); each of the
// 9 kernel offsets reads both at its shift, the last offset (8) first, as
// PyTorch's backward adds the windows' gradients into an element.
// CHECK-LABEL: func.func @stride1_overlapping(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<1x2x4x4xf32>, %[[DY:[^:]+]]: tensor<1x2x4x4xf32>
// CHECK:         %[[MAX:.+]]:2 = linalg.generic
// CHECK:         %[[NONE:.+]] = arith.constant -1.000000e+00 : f32
// CHECK:         %[[OFFS:.+]] = linalg.fill ins(%[[NONE]] : f32) outs(%{{.+}} : tensor<1x2x7x7xf32>)
// CHECK:         tensor.extract_slice %[[OFFS]][0, 0, 2, 2] [1, 2, 4, 4]
// CHECK:         linalg.generic {{.*}} ins(%[[MAX]]#1 : tensor<1x2x4x4xf32>)
// CHECK:         %[[OFFSP:.+]] = tensor.insert_slice
// CHECK:         linalg.generic {{.*}} ins(%[[DY]] : tensor<1x2x4x4xf32>)
// CHECK:         %[[DYP:.+]] = tensor.insert_slice
// CHECK:         %[[O8:.+]] = tensor.extract_slice %[[OFFSP]][0, 0, 1, 1] [1, 2, 4, 4]
// CHECK:         %[[D8:.+]] = tensor.extract_slice %[[DYP]][0, 0, 1, 1] [1, 2, 4, 4]
// CHECK:         %[[O0:.+]] = tensor.extract_slice %[[OFFSP]][0, 0, 3, 3] [1, 2, 4, 4]
// CHECK:         %[[D0:.+]] = tensor.extract_slice %[[DYP]][0, 0, 3, 3] [1, 2, 4, 4]
// CHECK:         %[[DX:.+]] = linalg.generic {{.*}} ins(%[[O8]], %[[D8]], {{.*}}, %[[O0]], %[[D0]] : {{.*}}) outs(%{{.+}} : tensor<1x2x4x4xf32>)
// CHECK:           arith.constant 8.000000e+00 : f32
// CHECK:           arith.cmpf oeq
// CHECK:           arith.select
// CHECK:           arith.addf
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[DX]]
func.func @stride1_overlapping(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %g = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  return %g : tensor<1x2x4x4xf32>
}

// -----

// The same gradient of a batch goes sample by sample (a padded sample fits
// a parallel loop's body): the window maximum and its offsets in one
// forall, each sample's input padded with -inf in a buffer of the loop's
// body; the gather in another, each sample's offsets and dy padded there,
// where padding the whole batch's wrote padded tensors of its size to
// memory and read them back.
// CHECK-LABEL: func.func @stride1_per_sample(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x2x4x4xf32>, %[[DY:[^:]+]]: tensor<2x2x4x4xf32>
// CHECK:         %[[MAX:.+]]:2 = scf.forall (%[[M:.+]]) in (2) shared_outs({{.*}}) -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>)
// CHECK:           tensor.extract_slice %[[X]][%[[M]], 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<2x2x4x4xf32> to tensor<1x2x4x4xf32>
// CHECK:           linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x2x6x6xf32>)
// CHECK:           %[[W:.+]]:2 = linalg.generic
// CHECK:           } -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>)
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[W]]#0
// CHECK-NEXT:        tensor.parallel_insert_slice %[[W]]#1
// CHECK:         %[[DX:.+]] = scf.forall (%[[N:.+]]) in (2) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x2x4x4xf32>)
// CHECK-DAG:       %[[A:.+]] = tensor.extract_slice %[[MAX]]#1[%[[N]], 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<2x2x4x4xf32> to tensor<1x2x4x4xf32>
// CHECK-DAG:       %[[D:.+]] = tensor.extract_slice %[[DY]][%[[N]], 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<2x2x4x4xf32> to tensor<1x2x4x4xf32>
// CHECK:           linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x2x7x7xf32>)
// CHECK:           linalg.generic {{.*}} ins(%[[A]] : tensor<1x2x4x4xf32>)
// CHECK:           linalg.generic {{.*}} ins(%[[D]] : tensor<1x2x4x4xf32>)
// CHECK:           %[[G:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x4x4xf32>)
// CHECK:             arith.cmpf oeq
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[G]] into %[[OUT]][%[[N]], 0, 0, 0] [1, 2, 4, 4]
// CHECK:         return %[[DX]]
func.func @stride1_per_sample(%x: tensor<2x2x4x4xf32>, %dy: tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32> {
  %g = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>
  return %g : tensor<2x2x4x4xf32>
}

// -----

// The forward pass's pooling in the same function builds the same forall
// (with the offsets, as its gradient is taken), which CSE merges: one
// window-maximum loop, whose maxima the function returns and whose offsets
// the gradient gathers from.
// CHECK-LABEL: func.func @stride1_forward_and_grad(
// CHECK:         %[[MAX:.+]]:2 = scf.forall
// CHECK-NOT:     scf.forall {{.*}} -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>)
// CHECK:         %[[DX:.+]] = scf.forall
// CHECK:           tensor.extract_slice %[[MAX]]#1
// CHECK:         return %[[MAX]]#0, %[[DX]]
func.func @stride1_forward_and_grad(%x: tensor<2x2x4x4xf32>, %dy: tensor<2x2x4x4xf32>) -> (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) {
  %y = nn.maxpool2d %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : tensor<2x2x4x4xf32> -> tensor<2x2x4x4xf32>
  %g = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>
  return %y, %g : tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>
}
