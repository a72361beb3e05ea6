// RUN: nnc-opt %s -split-input-file -nn-fold-batchnorm | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-fold-batchnorm=export=true | FileCheck %s --check-prefix=EXPORT
// Batchnorm after a dense or conv2d layer folds into it. By default the
// pass adds `fold`: per pair the layer's weight times s = gamma /
// sqrt(var + eps) per output channel, and the batchnorm's bias replaced by
// (b - mean) s + beta (b = 0 for a layer without bias), each named by
// nn.param; and `predict` and `eval_loss` compute the same W' and b' from
// their own arguments, the layer takes them and the batchnorm goes. With
// export=true `predict` takes the folded parameters: the layer gets the
// batchnorm's bias, the batchnorm goes.

// CHECK-LABEL: func.func @predict(
// CHECK-NOT: nn.batchnorm_inference
// CHECK: %[[S0:.+]] = linalg.generic {{.+}} ins(%arg1, %arg6 : tensor<4xf32>, tensor<4xf32>)
// CHECK: math.sqrt
// CHECK: %[[W0:.+]] = linalg.generic {{.+}} ins(%arg0, %[[S0]] : tensor<4x1x3x3xf32>, tensor<4xf32>)
// CHECK: %[[B0:.+]] = linalg.generic {{.+}} ins(%arg2, %arg5, %[[S0]] : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[C0:.+]] = nn.conv2d %arg13, %[[W0]], %[[B0]] {
// CHECK-NEXT: nn.relu %[[C0]]
// CHECK: %[[S1:.+]] = linalg.generic {{.+}} ins(%arg8, %arg11 : tensor<2xf32>, tensor<2xf32>)
// CHECK: %[[W1:.+]] = linalg.generic {{.+}} ins(%arg3, %[[S1]] : tensor<2x36xf32>, tensor<2xf32>)
// CHECK: %[[B1:.+]] = linalg.generic {{.+}} ins(%arg9, %arg10, %[[S1]], %arg7 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK: %[[D:.+]] = nn.dense %{{.+}}, %[[W1]], %[[B1]] :
// CHECK-NOT: nn.batchnorm_inference
// CHECK: return %[[D]]
// CHECK-LABEL: func.func @fold(
// CHECK-SAME: %[[W:arg0]]: tensor<4x1x3x3xf32> {nn.param = "c.weight"}
// CHECK-SAME: %[[G:arg1]]: tensor<4xf32> {nn.param = "bn.weight"}
// CHECK-SAME: %[[BETA:arg2]]: tensor<4xf32> {nn.param = "bn.bias"}
// CHECK-SAME: %[[M:arg5]]: tensor<4xf32> {nn.buffer = "bn.running_mean"}
// CHECK-SAME: %[[V:arg6]]: tensor<4xf32> {nn.buffer = "bn.running_var"}
// CHECK-SAME: -> (tensor<4x1x3x3xf32> {nn.param = "c.weight"}, tensor<4xf32> {nn.param = "bn.bias"}, tensor<2x36xf32> {nn.param = "fc.weight"}, tensor<2xf32> {nn.param = "bn2.bias"})
// CHECK-SAME: attributes {nn.fold}
// CHECK: %[[S:.+]] = linalg.generic {{.+}} ins(%[[G]], %[[V]] : tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.constant 1.000000e-03 : f32
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: %[[W2:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[CH:.+]], #{{.+}}]{{.+}} ins(%[[W]], %[[S]] : tensor<4x1x3x3xf32>, tensor<4xf32>)
// CHECK: arith.mulf
// CHECK: %[[B2:.+]] = linalg.generic {{.+}} ins(%[[BETA]], %[[M]], %[[S]] : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.addf
// The dense layer has a bias: it enters the folded bias.
// CHECK: linalg.generic {{.+}} ins(%arg9, %arg10, %{{.+}}, %arg7 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK: return %[[W2]], %[[B2]],

// EXPORT-LABEL: func.func @predict(
// EXPORT-NOT: nn.batchnorm_inference
// EXPORT: %[[C:.+]] = nn.conv2d %arg13, %arg0, %arg2 {
// EXPORT: nn.relu %[[C]]
// EXPORT: %[[D:.+]] = nn.dense %{{.+}}, %arg3, %arg9 :
// EXPORT: return %[[D]]
// EXPORT-NOT: @fold
module {
  func.func @predict(%w: tensor<4x1x3x3xf32> {nn.param = "c.weight"}, %g: tensor<4xf32> {nn.param = "bn.weight"}, %beta: tensor<4xf32> {nn.param = "bn.bias"}, %fw: tensor<2x36xf32> {nn.param = "fc.weight"}, %fb: tensor<2xf32> {nn.param = "fc.bias"}, %m: tensor<4xf32> {nn.buffer = "bn.running_mean"}, %v: tensor<4xf32> {nn.buffer = "bn.running_var"}, %fb0: tensor<2xf32> {nn.param = "fc.b0"}, %g2: tensor<2xf32> {nn.param = "bn2.weight"}, %b2: tensor<2xf32> {nn.param = "bn2.bias"}, %m2: tensor<2xf32> {nn.buffer = "bn2.running_mean"}, %v2: tensor<2xf32> {nn.buffer = "bn2.running_var"}, %unused: tensor<f32> {nn.buffer = "bn.num_batches_tracked"}, %x: tensor<2x1x3x3xf32>) -> tensor<2x2xf32> attributes {nn.predict} {
    %c = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x1x3x3xf32>, tensor<4x1x3x3xf32>) -> tensor<2x4x3x3xf32>
    %n = nn.batchnorm_inference %c, %g, %beta, %m, %v {eps = 1.0e-3 : f32} : tensor<2x4x3x3xf32>, tensor<4xf32>
    %r = nn.relu %n : tensor<2x4x3x3xf32>
    %f = nn.reshape %r : tensor<2x4x3x3xf32> to tensor<2x36xf32>
    %d = nn.dense %f, %fw, %fb0 : (tensor<2x36xf32>, tensor<2x36xf32>, tensor<2xf32>) -> tensor<2x2xf32>
    %n2 = nn.batchnorm_inference %d, %g2, %b2, %m2, %v2 : tensor<2x2xf32>, tensor<2xf32>
    return %n2 : tensor<2x2xf32>
  }
}

// -----

// Not folded: the layer's result has another user, or its weight is shared.
// CHECK-LABEL: func.func @predict(
// CHECK-COUNT-2: nn.batchnorm_inference
// CHECK-NOT: @fold
// EXPORT-LABEL: func.func @predict(
// EXPORT-COUNT-2: nn.batchnorm_inference
module {
  func.func @predict(%w: tensor<3x3xf32> {nn.param = "w"}, %g: tensor<3xf32> {nn.param = "bn.weight"}, %b: tensor<3xf32> {nn.param = "bn.bias"}, %m: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %v: tensor<3xf32> {nn.buffer = "bn.running_var"}, %g2: tensor<3xf32> {nn.param = "bn2.weight"}, %b2: tensor<3xf32> {nn.param = "bn2.bias"}, %m2: tensor<3xf32> {nn.buffer = "bn2.running_mean"}, %v2: tensor<3xf32> {nn.buffer = "bn2.running_var"}, %x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) attributes {nn.predict} {
    %d = nn.dense %x, %w : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32>
    %n = nn.batchnorm_inference %d, %g, %b, %m, %v : tensor<2x3xf32>, tensor<3xf32>
    %e = nn.dense %n, %w : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32>
    %n2 = nn.batchnorm_inference %e, %g2, %b2, %m2, %v2 : tensor<2x3xf32>, tensor<3xf32>
    return %n2, %d : tensor<2x3xf32>, tensor<2x3xf32>
  }
}

// -----

// `eval_loss` folds per call as `predict` does; `fold` comes from `predict`
// alone (absent here).
// CHECK-LABEL: func.func @eval_loss(
// CHECK-NOT: nn.batchnorm_inference
// CHECK: %[[S:.+]] = linalg.generic {{.+}} ins(%arg1, %arg4 : tensor<3xf32>, tensor<3xf32>)
// CHECK: %[[W:.+]] = linalg.generic {{.+}} ins(%arg0, %[[S]] : tensor<3x5xf32>, tensor<3xf32>)
// CHECK: %[[B:.+]] = linalg.generic {{.+}} ins(%arg2, %arg3, %[[S]] : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: %[[D:.+]] = nn.dense %arg5, %[[W]], %[[B]] :
// CHECK-NEXT: nn.mse_loss %[[D]]
// CHECK-NOT: @fold
// EXPORT-LABEL: func.func @eval_loss(
// EXPORT: nn.batchnorm_inference
module {
  func.func @eval_loss(%w: tensor<3x5xf32> {nn.param = "fc.weight"}, %g: tensor<3xf32> {nn.param = "bn.weight"}, %b: tensor<3xf32> {nn.param = "bn.bias"}, %m: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %v: tensor<3xf32> {nn.buffer = "bn.running_var"}, %x: tensor<2x5xf32>, %y: tensor<2x3xf32>, %mask: tensor<2xf32>) -> tensor<f32> attributes {nn.eval_loss} {
    %d = nn.dense %x, %w : (tensor<2x5xf32>, tensor<3x5xf32>) -> tensor<2x3xf32>
    %n = nn.batchnorm_inference %d, %g, %b, %m, %v : tensor<2x3xf32>, tensor<3xf32>
    %l = nn.mse_loss %n, %y, %mask : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
    return %l : tensor<f32>
  }
}
