// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s
// Every nn op becomes linalg/tensor/arith/math on tensors; no nn op is left.
// The numbers are checked against PyTorch in test/Numerics.

// CHECK-LABEL: func @dense_bias
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32>, %[[W:.+]]: tensor<5x6xf32>, %[[B:.+]]: tensor<5xf32>)
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x5xf32>
// CHECK: %[[BC:.+]] = linalg.broadcast ins(%[[B]] : tensor<5xf32>) outs(%[[E]] : tensor<4x5xf32>) dimensions = [0]
// CHECK: %[[Y:.+]] = linalg.matmul_transpose_b ins(%[[X]], %[[W]] : tensor<4x6xf32>, tensor<5x6xf32>) outs(%[[BC]] : tensor<4x5xf32>)
// CHECK: return %[[Y]]
// CHECK-NOT: nn.
func.func @dense_bias(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>, %b: tensor<5xf32>) -> tensor<4x5xf32> {
  %y = nn.dense %x, %w, %b : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// CHECK-LABEL: func @dense_no_bias
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32>, %[[W:.+]]: tensor<5x6xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[F:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<4x5xf32>)
// CHECK: linalg.matmul_transpose_b ins(%[[X]], %[[W]] : tensor<4x6xf32>, tensor<5x6xf32>) outs(%[[F]] : tensor<4x5xf32>)
// CHECK-NOT: nn.
func.func @dense_no_bias(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>) -> tensor<4x5xf32> {
  %y = nn.dense %x, %w : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// CHECK-DAG: #[[KM:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[NK:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @matmul
// CHECK-SAME: (%[[DY:.+]]: tensor<4x5xf32>, %[[W:.+]]: tensor<5x6xf32>, %[[X:.+]]: tensor<4x6xf32>, %[[B:.+]]: tensor<6x5xf32>, %[[A:.+]]: tensor<5x4xf32>)
// CHECK: linalg.matmul ins(%[[DY]], %[[W]] : tensor<4x5xf32>, tensor<5x6xf32>)
// CHECK: linalg.matmul_transpose_a ins(%[[DY]], %[[X]] : tensor<4x5xf32>, tensor<4x6xf32>)
// CHECK: linalg.matmul_transpose_b ins(%[[DY]], %[[B]] : tensor<4x5xf32>, tensor<6x5xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[KM]], #[[NK]], #[[MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[A]], %[[B]] : tensor<5x4xf32>, tensor<6x5xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: nn.
func.func @matmul(%dy: tensor<4x5xf32>, %w: tensor<5x6xf32>, %x: tensor<4x6xf32>, %b: tensor<6x5xf32>, %a: tensor<5x4xf32>) -> (tensor<4x6xf32>, tensor<5x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>) {
  %0 = nn.matmul %dy, %w : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  %1 = nn.matmul %dy, %x {transpose_lhs} : (tensor<4x5xf32>, tensor<4x6xf32>) -> tensor<5x6xf32>
  %2 = nn.matmul %dy, %b {transpose_rhs} : (tensor<4x5xf32>, tensor<6x5xf32>) -> tensor<4x6xf32>
  %3 = nn.matmul %a, %b {transpose_lhs, transpose_rhs} : (tensor<5x4xf32>, tensor<6x5xf32>) -> tensor<4x6xf32>
  return %0, %1, %2, %3 : tensor<4x6xf32>, tensor<5x6xf32>, tensor<4x6xf32>, tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func @reduce_sum
// CHECK-SAME: (%[[X:.+]]: tensor<3x4x5xf32>)
// CHECK: %[[F:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4xf32>)
// CHECK: linalg.reduce ins(%[[X]] : tensor<3x4x5xf32>) outs(%[[F]] : tensor<4xf32>) dimensions = [0, 2]
// CHECK: arith.addf
// CHECK-NOT: nn.
func.func @reduce_sum(%x: tensor<3x4x5xf32>) -> tensor<4xf32> {
  %0 = nn.reduce_sum %x {dims = array<i64: 2, 0>} : tensor<3x4x5xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @broadcast
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK: %[[E:.+]] = tensor.empty() : tensor<3x4x5xf32>
// CHECK: linalg.broadcast ins(%[[X]] : tensor<4xf32>) outs(%[[E]] : tensor<3x4x5xf32>) dimensions = [0, 2]
// CHECK-NOT: nn.
func.func @broadcast(%x: tensor<4xf32>) -> tensor<3x4x5xf32> {
  %0 = nn.broadcast %x {dims = array<i64: 0, 2>} : tensor<4xf32> -> tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}

// -----

// CHECK-LABEL: func @reshape
// CHECK-SAME: (%[[X:.+]]: tensor<4x1x2x3xf32>, %[[Y:.+]]: tensor<4x6xf32>)
// CHECK: tensor.collapse_shape %[[X]] {{\[}}[0], [1, 2, 3]] : tensor<4x1x2x3xf32> into tensor<4x6xf32>
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[Y]] {{\[}}[0, 1]] : tensor<4x6xf32> into tensor<24xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [6, 4] : tensor<24xf32> into tensor<6x4xf32>
// CHECK: return %[[Y]],
// CHECK-NOT: nn.
func.func @reshape(%x: tensor<4x1x2x3xf32>, %y: tensor<4x6xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<6x4xf32>) {
  %0 = nn.reshape %x : tensor<4x1x2x3xf32> to tensor<4x6xf32>
  %1 = nn.reshape %y : tensor<4x6xf32> to tensor<4x6xf32>
  %2 = nn.reshape %y : tensor<4x6xf32> to tensor<4x2x3xf32>
  %3 = nn.reshape %y : tensor<4x6xf32> to tensor<6x4xf32>
  return %1, %0, %2, %3 : tensor<4x6xf32>, tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<6x4xf32>
}

// -----

// CHECK-LABEL: func @add
// CHECK-SAME: (%[[A:.+]]: tensor<4x5xf32>, %[[B:.+]]: tensor<4x5xf32>)
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x5xf32>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[B]] : tensor<4x5xf32>, tensor<4x5xf32>) outs(%[[E]] : tensor<4x5xf32>)
// CHECK: ^bb0(%[[I0:.+]]: f32, %[[I1:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[S:.+]] = arith.addf %[[I0]], %[[I1]] : f32
// CHECK: linalg.yield %[[S]]
// CHECK-NOT: nn.
func.func @add(%a: tensor<4x5xf32>, %b: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %0 = nn.add %a, %b : tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// CHECK-LABEL: func @mul
// CHECK-SAME: (%[[A:.+]]: tensor<f32>, %[[B:.+]]: tensor<f32>)
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #{{.+}}], iterator_types = []} ins(%[[A]], %[[B]] : tensor<f32>, tensor<f32>)
// CHECK: arith.mulf
// CHECK-NOT: nn.
func.func @mul(%a: tensor<f32>, %b: tensor<f32>) -> tensor<f32> {
  %0 = nn.mul %a, %b : tensor<f32>
  return %0 : tensor<f32>
}

// -----

// CHECK-LABEL: func @activations
// relu
// CHECK: linalg.generic
// CHECK: arith.maximumf
// leaky_relu
// CHECK: linalg.generic
// CHECK: %[[POS:.+]] = arith.cmpf ogt
// CHECK: %[[NEG:.+]] = arith.mulf %{{.+}}, %{{.+}}
// CHECK: arith.select %[[POS]], %{{.+}}, %[[NEG]]
// sigmoid
// CHECK: linalg.generic
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
// tanh
// CHECK: linalg.generic
// CHECK: math.tanh
// gelu
// CHECK: linalg.generic
// CHECK: arith.constant 0.707106769 : f32
// CHECK: math.erf
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK-NOT: nn.
func.func @activations(%x: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
  %0 = nn.relu %x : tensor<4x5xf32>
  %1 = nn.leaky_relu %x {alpha = 0.2 : f32} : tensor<4x5xf32>
  %2 = nn.sigmoid %x : tensor<4x5xf32>
  %3 = nn.tanh %x : tensor<4x5xf32>
  %4 = nn.gelu %x : tensor<4x5xf32>
  return %0, %1, %2, %3, %4 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @softmax
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x5xf32>)
// CHECK: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MI:.+]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.+}} : tensor<2x3xf32>)
// CHECK: %[[MAX:.+]] = linalg.reduce { arith.maximumf } ins(%[[X]] : tensor<2x3x5xf32>) outs(%[[MI]] : tensor<2x3xf32>) dimensions = [2]
// CHECK: %[[EXP:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], {{.+}} ins(%[[X]], %[[MAX]] : tensor<2x3x5xf32>, tensor<2x3xf32>)
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = linalg.reduce { arith.addf } ins(%[[EXP]] : tensor<2x3x5xf32>) outs(%{{.+}} : tensor<2x3xf32>) dimensions = [2]
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], {{.+}} ins(%[[EXP]], %[[SUM]] : tensor<2x3x5xf32>, tensor<2x3xf32>)
// CHECK: arith.divf
// CHECK-NOT: nn.
func.func @softmax(%x: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
  %0 = nn.softmax %x : tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// CHECK-LABEL: func @activation_grads
// CHECK-SAME: (%[[DY:.+]]: tensor<4x5xf32>, %[[S:.+]]: tensor<4x5xf32>)
// relu_grad: dy where y > 0
// CHECK: linalg.generic {{.+}} ins(%[[DY]], %[[S]] : tensor<4x5xf32>, tensor<4x5xf32>)
// CHECK: ^bb0(%[[G:.+]]: f32, %[[V:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[Z:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[P:.+]] = arith.cmpf ogt, %[[V]], %[[Z]]
// CHECK: arith.select %[[P]], %[[G]], %[[Z]]
// leaky_relu_grad
// CHECK: linalg.generic
// CHECK: arith.cmpf ogt
// CHECK: arith.constant 1.000000e-01 : f32
// CHECK: arith.select
// sigmoid_grad: dy y (1 - y)
// CHECK: linalg.generic
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.mulf
// tanh_grad: dy (1 - y^2)
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: arith.subf
// CHECK: arith.mulf
// gelu_grad: dy (Phi(x) + x phi(x))
// CHECK: linalg.generic
// CHECK: arith.constant -5.000000e-01 : f32
// CHECK: math.exp
// CHECK: arith.constant 0.398942292 : f32
// CHECK: math.erf
// softmax_grad: y (dy - sum(dy y))
// CHECK: %[[DOT:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]} ins(%[[DY]], %[[S]] : tensor<4x5xf32>, tensor<4x5xf32>) outs(%{{.+}} : tensor<4xf32>)
// CHECK: linalg.generic {{.+}} ins(%[[DY]], %[[S]], %[[DOT]] : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4xf32>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK-NOT: nn.
func.func @activation_grads(%dy: tensor<4x5xf32>, %s: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
  %0 = nn.relu_grad %dy, %s : tensor<4x5xf32>
  %1 = nn.leaky_relu_grad %dy, %s {alpha = 0.1 : f32} : tensor<4x5xf32>
  %2 = nn.sigmoid_grad %dy, %s : tensor<4x5xf32>
  %3 = nn.tanh_grad %dy, %s : tensor<4x5xf32>
  %4 = nn.gelu_grad %dy, %s : tensor<4x5xf32>
  %5 = nn.softmax_grad %dy, %s : tensor<4x5xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ALL:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @mse
// CHECK-SAME: (%[[P:.+]]: tensor<4x3xf32>, %[[T:.+]]: tensor<4x3xf32>, %[[M:.+]]: tensor<4xf32>, %[[G:.+]]: tensor<f32>)
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ROW]], #[[ALL]]], iterator_types = ["reduction", "reduction"]} ins(%[[P]], %[[T]], %[[M]] : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32>) outs(%{{.+}} : tensor<f32>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: %[[S:.+]] = tensor.extract %[[SUM]][] : tensor<f32>
// CHECK: %[[CNT:.+]] = linalg.reduce ins(%[[M]] : tensor<4xf32>) outs(%{{.+}} : tensor<f32>) dimensions = [0]
// CHECK: %[[C:.+]] = tensor.extract %[[CNT]][]
// CHECK: %[[IS0:.+]] = arith.cmpf oeq, %[[C]], %{{.+}} : f32
// CHECK: %[[SAFE:.+]] = arith.select %[[IS0]], %{{.+}}, %[[C]] : f32
// CHECK: %[[N:.+]] = arith.constant 3.000000e+00 : f32
// CHECK: %[[DEN:.+]] = arith.mulf %[[SAFE]], %[[N]] : f32
// CHECK: %[[L:.+]] = arith.divf %[[S]], %[[DEN]] : f32
// CHECK: tensor.from_elements %[[L]] : tensor<f32>
// mse_loss_grad: 2 (p - t) m g / (count n)
// CHECK: %[[GV:.+]] = tensor.extract %[[G]][] : tensor<f32>
// CHECK: %[[SCALE:.+]] = arith.divf %[[GV]], %{{.+}} : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[P]], %[[T]], %[[M]] : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32>)
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: arith.mulf %{{.+}}, %[[SCALE]] : f32
// CHECK-NOT: nn.
func.func @mse(%p: tensor<4x3xf32>, %t: tensor<4x3xf32>, %m: tensor<4xf32>, %g: tensor<f32>) -> (tensor<f32>, tensor<4x3xf32>) {
  %0 = nn.mse_loss %p, %t, %m : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<f32>
  %1 = nn.mse_loss_grad %g, %p, %t, %m : tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<4x3xf32>
  return %0, %1 : tensor<f32>, tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func @mae_huber_bce
// mae: |p - t|, gradient sign(p - t)
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK: math.absf
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf olt
// CHECK: arith.constant -1.000000e+00 : f32
// huber (delta 0.5): 0.5 d^2 if |d| < delta else delta (|d| - delta / 2)
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK: math.absf
// CHECK: arith.cmpf olt, %{{.+}}, %{{.+}} : f32
// CHECK: arith.constant 2.500000e-01 : f32
// CHECK: arith.select
// huber gradient: clamp(d, -delta, delta)
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.constant -5.000000e-01 : f32
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// bce: max(z, 0) - z t + log1p(exp(-|z|))
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.maximumf
// CHECK: math.absf
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: math.log1p
// bce gradient: sigmoid(z) - t
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.subf
// CHECK-NOT: nn.
func.func @mae_huber_bce(%p: tensor<4x3xf32>, %t: tensor<4x3xf32>, %m: tensor<4xf32>, %g: tensor<f32>) -> (tensor<f32>, tensor<4x3xf32>, tensor<f32>, tensor<4x3xf32>, tensor<f32>, tensor<4x3xf32>) {
  %0 = nn.mae_loss %p, %t, %m : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<f32>
  %1 = nn.mae_loss_grad %g, %p, %t, %m : tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<4x3xf32>
  %2 = nn.huber_loss %p, %t, %m {delta = 0.5 : f32} : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<f32>
  %3 = nn.huber_loss_grad %g, %p, %t, %m {delta = 0.5 : f32} : tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<4x3xf32>
  %4 = nn.bce_loss %p, %t, %m : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<f32>
  %5 = nn.bce_loss_grad %g, %p, %t, %m : tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<4x3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<f32>, tensor<4x3xf32>, tensor<f32>, tensor<4x3xf32>, tensor<f32>, tensor<4x3xf32>
}

// -----

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[B0:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func @cross_entropy
// CHECK-SAME: (%[[Z:.+]]: tensor<4x10xf32>, %[[Y:.+]]: tensor<4xi32>, %[[M:.+]]: tensor<4xf32>, %[[G:.+]]: tensor<f32>)
// CHECK: %[[MAX:.+]] = linalg.reduce { arith.maximumf } ins(%[[Z]] : tensor<4x10xf32>)
// CHECK: %[[ST:.+]]:3 = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]], #[[ROW]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[Z]], %[[MAX]], %[[Y]] : tensor<4x10xf32>, tensor<4xf32>, tensor<4xi32>)
// CHECK: math.exp
// CHECK: %[[C:.+]] = linalg.index 1 : index
// CHECK: %[[L:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK: arith.cmpi eq, %[[C]], %[[L]] : index
// CHECK: %[[ROWS:.+]]:2 = linalg.generic {indexing_maps = [#[[B]], #[[B]], #[[B]], #[[B]], #[[B]], #[[B0]], #[[B0]]], iterator_types = ["reduction"]} ins(%[[MAX]], %[[ST]]#0, %[[ST]]#1, %[[ST]]#2, %[[M]] : {{.+}}) outs(%{{.+}}, %{{.+}} : tensor<f32>, tensor<f32>)
// CHECK: math.log
// CHECK: arith.constant -0.899999976 : f32
// CHECK: arith.constant 0.00999999977 : f32
// CHECK: arith.divf
// CHECK: tensor.from_elements
// gradient: (softmax(z) - q) m g / count, q = 0.9 onehot + 0.01
// CHECK: %[[MAX2:.+]] = linalg.reduce { arith.maximumf } ins(%[[Z]] : tensor<4x10xf32>)
// CHECK: %[[SE:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]} ins(%[[Z]], %[[MAX2]] : tensor<4x10xf32>, tensor<4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ROW]], #[[ROW]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[Z]], %[[MAX2]], %[[SE]], %[[Y]], %[[M]] : tensor<4x10xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<4xf32>)
// CHECK: linalg.index 1
// CHECK-DAG: arith.constant 9.100000e-01 : f32
// CHECK-DAG: arith.constant 0.00999999977 : f32
// CHECK: arith.select
// CHECK-NOT: nn.
func.func @cross_entropy(%z: tensor<4x10xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>, %g: tensor<f32>) -> (tensor<f32>, tensor<4x10xf32>) {
  %0 = nn.cross_entropy_loss %z, %y, %m {label_smoothing = 0.1 : f32} : tensor<4x10xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
  %1 = nn.cross_entropy_loss_grad %g, %z, %y, %m {label_smoothing = 0.1 : f32} : tensor<f32>, tensor<4x10xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<4x10xf32>
  return %0, %1 : tensor<f32>, tensor<4x10xf32>
}

// -----

// CHECK-LABEL: func @sgd
// CHECK-SAME: (%[[P:.+]]: tensor<5x6xf32>, %[[G:.+]]: tensor<5x6xf32>, %[[B:.+]]: tensor<5x6xf32>, %[[LR:.+]]: tensor<f32>, %[[STEP:.+]]: tensor<i64>)
// CHECK: %[[LRV:.+]] = tensor.extract %[[LR]][] : tensor<f32>
// CHECK: %[[NEG:.+]] = arith.negf %[[LRV]]
// CHECK: %[[S:.+]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[S]], %{{.+}} : i64
// CHECK: %[[U:.+]]:2 = linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]} ins(%[[G]], %[[P]], %[[B]] : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>) outs(%{{[^,: ]+}}, %{{[^,: ]+}} : tensor<5x6xf32>, tensor<5x6xf32>)
// CHECK: ^bb0(%[[GI:[^:]+]]: f32, %[[PI:[^:]+]]: f32, %[[BI:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK: %[[GD:.+]] = arith.addf %[[GI]], %{{.+}} : f32
// CHECK: %[[LATER:.+]] = arith.addf
// CHECK: %[[BUF:.+]] = arith.select %[[FIRST]], %[[GD]], %[[LATER]] : f32
// CHECK: %[[NES:.+]] = arith.addf %[[GD]], %{{.+}} : f32
// CHECK: %[[D:.+]] = arith.mulf %[[NES]], %[[NEG]] : f32
// CHECK: %[[NP:.+]] = arith.addf %[[PI]], %[[D]] : f32
// CHECK: linalg.yield %[[NP]], %[[BUF]] : f32, f32
// Without momentum: one output, the buffer is passed through.
// CHECK: %[[V:.+]] = linalg.generic {{.+}} ins(%[[G]], %[[P]] : tensor<5x6xf32>, tensor<5x6xf32>) outs(%{{[^,: ]+}} : tensor<5x6xf32>)
// CHECK: return %[[U]]#0, %[[U]]#1, %[[V]], %[[B]]
// CHECK-NOT: nn.
func.func @sgd(%p: tensor<5x6xf32>, %g: tensor<5x6xf32>, %b: tensor<5x6xf32>, %lr: tensor<f32>, %step: tensor<i64>) -> (tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>) {
  %0:2 = nn.sgd_update %p, %g, %b, %lr, %step {momentum = 0.9 : f32, nesterov, weight_decay = 0.01 : f32} : tensor<5x6xf32>
  %1:2 = nn.sgd_update %p, %g, %b, %lr, %step : tensor<5x6xf32>
  return %0#0, %0#1, %1#0, %1#1 : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>
}

// -----

// CHECK-LABEL: func @adam
// CHECK-SAME: (%[[P:.+]]: tensor<5x6xf32>, %[[G:.+]]: tensor<5x6xf32>, %[[M:.+]]: tensor<5x6xf32>, %[[V:.+]]: tensor<5x6xf32>, %[[LR:.+]]: tensor<f32>, %[[STEP:.+]]: tensor<i64>)
// CHECK: %[[S:.+]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK: %[[SF:.+]] = arith.sitofp %[[S]] : i64 to f64
// CHECK: %[[T:.+]] = arith.addf %[[SF]], %{{.+}} : f64
// CHECK: %[[B1T:.+]] = math.powf %{{.+}}, %[[T]] : f64
// CHECK: %[[BC1:.+]] = arith.subf %{{.+}}, %[[B1T]] : f64
// CHECK: %[[B2T:.+]] = math.powf %{{.+}}, %[[T]] : f64
// CHECK: %[[BC2:.+]] = arith.subf %{{.+}}, %[[B2T]] : f64
// CHECK: %[[SS:.+]] = arith.divf %{{.+}}, %[[BC1]] : f64
// CHECK: %[[STEPSIZE:.+]] = arith.truncf %[[SS]] : f64 to f32
// CHECK: %[[SQ:.+]] = math.sqrt %[[BC2]] : f64
// CHECK: %[[BC2SQRT:.+]] = arith.truncf %[[SQ]] : f64 to f32
// CHECK: %{{.+}}:3 = linalg.generic {{.+}} ins(%[[G]], %[[P]], %[[M]], %[[V]] : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>) outs(%{{[^,: ]+}}, %{{[^,: ]+}}, %{{[^,: ]+}} : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>)
// CHECK: math.sqrt
// CHECK: arith.divf %{{.+}}, %[[BC2SQRT]] : f32
// CHECK: arith.mulf %[[STEPSIZE]], %{{.+}} : f32
// CHECK: linalg.yield %{{.+}}, %{{.+}}, %{{.+}} : f32, f32, f32
// AdamW: p (1 - lr wd) before the moments; the gradient is not decayed.
// CHECK: %[[LRWD:.+]] = arith.mulf %{{.+}}, %{{.+}} : f64
// CHECK: %[[ONEMINUS:.+]] = arith.subf %{{.+}}, %[[LRWD]] : f64
// CHECK: %[[KEEP:.+]] = arith.truncf %[[ONEMINUS]] : f64 to f32
// CHECK: linalg.generic {{.+}} ins(%[[G]], %[[P]], %[[M]], %[[V]] : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>) outs(%{{[^,: ]+}}, %{{[^,: ]+}}, %{{[^,: ]+}} : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>)
// CHECK: ^bb0(%{{[^:]+}}: f32, %[[PI:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK: arith.mulf %[[PI]], %[[KEEP]] : f32
// CHECK-NOT: nn.
func.func @adam(%p: tensor<5x6xf32>, %g: tensor<5x6xf32>, %m: tensor<5x6xf32>, %v: tensor<5x6xf32>, %lr: tensor<f32>, %step: tensor<i64>) -> (tensor<5x6xf32>, tensor<5x6xf32>) {
  %0:3 = nn.adam_update %p, %g, %m, %v, %lr, %step {weight_decay = 0.01 : f32} : tensor<5x6xf32>
  %1:3 = nn.adam_update %p, %g, %m, %v, %lr, %step {decoupled, weight_decay = 0.01 : f32} : tensor<5x6xf32>
  return %0#0, %1#0 : tensor<5x6xf32>, tensor<5x6xf32>
}

// -----

// CHECK-LABEL: func @rmsprop
// CHECK-SAME: (%[[P:.+]]: tensor<5x6xf32>, %[[G:.+]]: tensor<5x6xf32>, %[[S:.+]]: tensor<5x6xf32>, %[[B:.+]]: tensor<5x6xf32>, %[[LR:.+]]: tensor<f32>)
// CHECK: %{{.+}}:3 = linalg.generic {{.+}} ins(%[[G]], %[[P]], %[[S]], %[[B]] : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>) outs(%{{[^,: ]+}}, %{{[^,: ]+}}, %{{[^,: ]+}} : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>)
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: linalg.yield %{{.+}}, %{{.+}}, %{{.+}} : f32, f32, f32
// CHECK: %{{.+}}:2 = linalg.generic {{.+}} ins(%[[G]], %[[P]], %[[S]] : tensor<5x6xf32>, tensor<5x6xf32>, tensor<5x6xf32>) outs(%{{[^,: ]+}}, %{{[^,: ]+}} : tensor<5x6xf32>, tensor<5x6xf32>)
// CHECK-NOT: nn.
func.func @rmsprop(%p: tensor<5x6xf32>, %g: tensor<5x6xf32>, %s: tensor<5x6xf32>, %b: tensor<5x6xf32>, %lr: tensor<f32>) -> (tensor<5x6xf32>, tensor<5x6xf32>) {
  %0:3 = nn.rmsprop_update %p, %g, %s, %b, %lr {momentum = 0.9 : f32} : tensor<5x6xf32>
  %1:3 = nn.rmsprop_update %p, %g, %s, %b, %lr : tensor<5x6xf32>
  return %0#0, %1#0 : tensor<5x6xf32>, tensor<5x6xf32>
}

// -----

// CHECK-LABEL: func @schedules
// CHECK-SAME: (%[[STEP:.+]]: tensor<i64>, %[[SPE:.+]]: tensor<i64>, %[[EPOCHS:.+]]: tensor<i64>)
// constant
// CHECK: %[[C:.+]] = arith.constant 1.000000e-02 : f64
// CHECK: %[[C32:.+]] = arith.truncf %[[C]] : f64 to f32
// CHECK: tensor.from_elements %[[C32]] : tensor<f32>
// step: lr gamma^floor(epoch / every)
// CHECK: %[[S:.+]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK: %[[N:.+]] = tensor.extract %[[SPE]][] : tensor<i64>
// CHECK: %[[SPE1:.+]] = arith.maxsi %[[N]], %{{.+}} : i64
// CHECK: %[[EP:.+]] = arith.divsi %[[S]], %[[SPE1]] : i64
// CHECK: %[[EPF:.+]] = arith.sitofp %[[EP]] : i64 to f64
// CHECK: %[[Q:.+]] = arith.divf %[[EPF]], %{{.+}} : f64
// CHECK: %[[K:.+]] = math.floor %[[Q]] : f64
// CHECK: math.powf %{{.+}}, %[[K]] : f64
// exponential: lr gamma^epoch
// CHECK: arith.divsi
// CHECK: %[[EPF2:.+]] = arith.sitofp %{{.+}} : i64 to f64
// CHECK: math.powf %{{.+}}, %[[EPF2]] : f64
// cosine with warmup
// CHECK: math.round
// The total steps: the run's epochs (an operand) times steps per epoch.
// CHECK: %[[E:.+]] = tensor.extract %[[EPOCHS]][] : tensor<i64>
// CHECK: %[[EF:.+]] = arith.sitofp %[[E]] : i64 to f64
// CHECK: arith.mulf %[[EF]], %{{.+}} : f64
// CHECK: arith.minimumf
// CHECK: math.cos
// CHECK: arith.cmpf olt
// CHECK: arith.select
// linear
// CHECK: math.round
// CHECK: arith.minimumf
// CHECK-NOT: math.cos
// CHECK: arith.select
// CHECK: return
// CHECK-NOT: nn.
func.func @schedules(%step: tensor<i64>, %spe: tensor<i64>, %epochs: tensor<i64>) -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %0 = nn.lr_schedule %step, %spe, %epochs {schedule = #nn.schedule<kind = constant>, base_lr = 1.0e-2 : f64} : tensor<f32>
  %1 = nn.lr_schedule %step, %spe, %epochs {schedule = #nn.schedule<kind = step, every = 3.0, gamma = 0.5>, base_lr = 1.0e-1 : f64} : tensor<f32>
  %2 = nn.lr_schedule %step, %spe, %epochs {schedule = #nn.schedule<kind = exponential, gamma = 0.9>, base_lr = 1.0e-1 : f64} : tensor<f32>
  %3 = nn.lr_schedule %step, %spe, %epochs {schedule = #nn.schedule<kind = cosine, warmup = 1.0, min_lr = 1.0e-5>, base_lr = 1.0e-3 : f64} : tensor<f32>
  %4 = nn.lr_schedule %step, %spe, %epochs {schedule = #nn.schedule<kind = linear, warmup = 1.0, end_lr = 0.0>, base_lr = 1.0e-3 : f64} : tensor<f32>
  return %0, %1, %2, %3, %4 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// Magnitude pruning: k = round(0.5 (1 - (1 - p)^3) 20) from the epoch (f64,
// ties to even), 31 counting reductions of the magnitudes' bit patterns
// (sign cleared) at most a bisection midpoint, the mask kept above the
// threshold and the weight zeroed where the new mask is.
// CHECK-LABEL: func @magnitude_prune
// CHECK: arith.sitofp %{{.*}} : i64 to f64
// CHECK: math.roundeven
// CHECK: arith.fptosi %{{.*}} : f64 to i32
// CHECK-COUNT-31: iterator_types = ["reduction", "reduction"]
// CHECK-NOT: iterator_types = ["reduction", "reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.andi %{{.*}}, %c2147483647_i32
// CHECK: arith.cmpi sgt
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: arith.cmpf oeq
// CHECK-NOT: nn.
func.func @magnitude_prune(%w: tensor<4x5xf32>, %m: tensor<4x5xf32>, %e: tensor<i64>) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
  %0:2 = nn.magnitude_prune %w, %m, %e {sparsity = 0.5 : f64, start = 2 : i64, end = 4 : i64} : tensor<4x5xf32>
  return %0#0, %0#1 : tensor<4x5xf32>, tensor<4x5xf32>
}
