// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg -cse | FileCheck %s
// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg=by-sample-convolutions=false -cse | FileCheck %s --check-prefix=BATCH

// maxpool2d(relu(conv2d(x))) of a training step (the plain CNN's first
// layer at batch 8): the convolution goes 4 samples at a time (676 pixels
// each), and each part's GEMM, bias, relu and 2x2 window maximum with its
// offsets run in one parallel loop; the activations [8, 32, 26, 26] are
// never built whole. The pooling's gradient routes dy (relu's mask applied
// on the pooled values first, maskMaxPoolGradients) by the loop's offsets.
// CHECK-LABEL: func.func @conv_relu_pool(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x1x28x28xf32>, %[[W:[^:]+]]: tensor<32x1x3x3xf32>, %[[B:[^:]+]]: tensor<32xf32>, %[[DY:[^:]+]]: tensor<8x32x13x13xf32>
// CHECK-SAME:    -> (tensor<8x32x13x13xf32>, tensor<8x32x26x26xf32>)
// CHECK-NOT:     tensor<8x32x26x26xf32>
// CHECK:         %[[F:.+]]:2 = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (tensor<8x32x13x13xf32>, tensor<8x32x13x13xf32>)
// CHECK:           tensor.extract_slice %[[X]]{{.*}} to tensor<4x1x28x28xf32>
// CHECK:           linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<32x9xf32>, tensor<9x2704xf32>)
// CHECK:           %[[R:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<4x32x26x26xf32>)
// CHECK:             arith.maximumf
// CHECK:           %[[M:.+]]:2 = linalg.generic {{.*}} outs(%{{.+}}, %{{.+}} : tensor<4x32x13x13xf32>, tensor<4x32x13x13xf32>)
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[M]]#0
// CHECK-NEXT:        tensor.parallel_insert_slice %[[M]]#1
// CHECK-NOT:     tensor<8x32x26x26xf32>
// CHECK:         %[[MASKED:.+]] = linalg.generic {{.*}} ins(%[[DY]], %[[F]]#0 : tensor<8x32x13x13xf32>, tensor<8x32x13x13xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[F]]#1, %[[MASKED]] : tensor<8x32x13x13xf32>, tensor<8x32x13x13xf32>) outs(%{{.+}} : tensor<8x32x13x2x13x2xf32>)
// CHECK:         return %[[F]]#0,

// The whole batch's GEMM (--target cuda): no parts, nothing fused.
// BATCH-LABEL: func.func @conv_relu_pool(
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<32x9xf32>, tensor<9x5408xf32>)
// BATCH:         tensor<8x32x26x26xf32>
// BATCH-NOT:     scf.forall
func.func @conv_relu_pool(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32xf32>, %dy: tensor<8x32x13x13xf32>) -> (tensor<8x32x13x13xf32>, tensor<8x32x26x26xf32>) {
  %z = nn.conv2d %x, %w, %b {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<8x32x26x26xf32>
  %r = nn.relu %z : tensor<8x32x26x26xf32>
  %y = nn.maxpool2d %r {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<8x32x26x26xf32> -> tensor<8x32x13x13xf32>
  %g = nn.maxpool2d_grad %dy, %r {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<8x32x13x13xf32>, tensor<8x32x26x26xf32>
  %dz = nn.relu_grad %g, %r : tensor<8x32x26x26xf32>
  return %y, %dz : tensor<8x32x13x13xf32>, tensor<8x32x26x26xf32>
}

// -----

// Evaluation: the window maximum only, no offsets.
// CHECK-LABEL: func.func @conv_relu_pool_eval(
// CHECK:         %[[F:.+]] = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<8x32x13x13xf32>)
// CHECK:           arith.maximumf
// CHECK:           %[[M:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<4x32x13x13xf32>)
// CHECK:         return %[[F]]
func.func @conv_relu_pool_eval(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32xf32>) -> tensor<8x32x13x13xf32> {
  %z = nn.conv2d %x, %w, %b {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<8x32x26x26xf32>
  %r = nn.relu %z : tensor<8x32x26x26xf32>
  %y = nn.maxpool2d %r {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<8x32x26x26xf32> -> tensor<8x32x13x13xf32>
  return %y : tensor<8x32x13x13xf32>
}

// -----

// relu's result used elsewhere (returned): it is built whole, and the
// pooling reads it (not fused).
// CHECK-LABEL: func.func @relu_used_elsewhere(
// CHECK:         %[[Z:.+]] = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<8x32x26x26xf32>)
// CHECK:         %[[R:.+]] = linalg.generic {{.*}} ins(%[[Z]] : tensor<8x32x26x26xf32>)
// CHECK:         tensor.extract_slice %[[R]]
// CHECK:         return %{{.+}}, %[[R]]
func.func @relu_used_elsewhere(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32xf32>) -> (tensor<8x32x13x13xf32>, tensor<8x32x26x26xf32>) {
  %z = nn.conv2d %x, %w, %b {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<8x32x26x26xf32>
  %r = nn.relu %z : tensor<8x32x26x26xf32>
  %y = nn.maxpool2d %r {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<8x32x26x26xf32> -> tensor<8x32x13x13xf32>
  return %y, %r : tensor<8x32x13x13xf32>, tensor<8x32x26x26xf32>
}

// -----

// Overlapping windows (3x3, stride 2): not fused.
// CHECK-LABEL: func.func @overlapping_windows(
// CHECK:         scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<8x32x26x26xf32>)
func.func @overlapping_windows(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32xf32>) -> tensor<8x32x12x12xf32> {
  %z = nn.conv2d %x, %w, %b {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<8x32x26x26xf32>
  %r = nn.relu %z : tensor<8x32x26x26xf32>
  %y = nn.maxpool2d %r {kernel = array<i64: 3, 3>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<8x32x26x26xf32> -> tensor<8x32x12x12xf32>
  return %y : tensor<8x32x12x12xf32>
}

// -----

// By Winograd (64 -> 128 channels, 11x11 outputs: F(4x4, 3x3), parts of 2
// samples): the bias, relu and window maximum with its offsets read the
// transformed outputs channels-last ([2, 12, 12, 128], the 2x2 windows as
// strided views of whole vectors of channels), and only the pooled results
// are transposed to NCHW; y [2, 128, 11, 11] is never built.
// CHECK-LABEL: func.func @winograd_relu_pool(
// CHECK:         %[[F:.+]]:2 = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (tensor<4x128x5x5xf32>, tensor<4x128x5x5xf32>)
// CHECK-NOT:       tensor<2x128x11x11xf32>
// CHECK:           linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<36x18x64xf32>, tensor<36x64x128xf32>)
// CHECK:           %[[Y:.+]] = scf.for {{.+}} -> (tensor<2x12x12x128xf32>)
// CHECK:           %[[V:.+]] = tensor.extract_slice %[[Y]][0, 0, 0, 0] [2, 5, 5, 128] [1, 2, 2, 1]
// CHECK:           %[[M:.+]]:2 = linalg.generic {{.*}} ins(%[[V]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<2x5x5x128xf32>, tensor<2x5x5x128xf32>, tensor<2x5x5x128xf32>, tensor<2x5x5x128xf32>, tensor<128xf32>) outs(%{{.+}}, %{{.+}} : tensor<2x5x5x128xf32>, tensor<2x5x5x128xf32>)
// CHECK:             arith.addf
// CHECK:             arith.maximumf
// CHECK:           %[[P:.+]] = linalg.transpose ins(%[[M]]#0 : tensor<2x5x5x128xf32>) outs(%{{.+}} : tensor<2x128x5x5xf32>) permutation = [0, 3, 1, 2]
// CHECK:           %[[I:.+]] = linalg.transpose ins(%[[M]]#1 : tensor<2x5x5x128xf32>) outs(%{{.+}} : tensor<2x128x5x5xf32>) permutation = [0, 3, 1, 2]
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[P]]
// CHECK-NEXT:        tensor.parallel_insert_slice %[[I]]
// CHECK:         return %[[F]]#0,
func.func @winograd_relu_pool(%x: tensor<4x64x13x13xf32>, %w: tensor<128x64x3x3xf32>, %b: tensor<128xf32>, %dy: tensor<4x128x5x5xf32>) -> (tensor<4x128x5x5xf32>, tensor<4x128x11x11xf32>) {
  %z = nn.conv2d %x, %w, %b {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x64x13x13xf32>, tensor<128x64x3x3xf32>, tensor<128xf32>) -> tensor<4x128x11x11xf32>
  %r = nn.relu %z : tensor<4x128x11x11xf32>
  %y = nn.maxpool2d %r {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<4x128x11x11xf32> -> tensor<4x128x5x5xf32>
  %g = nn.maxpool2d_grad %dy, %r {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<4x128x5x5xf32>, tensor<4x128x11x11xf32>
  %dz = nn.relu_grad %g, %r : tensor<4x128x11x11xf32>
  return %y, %dz : tensor<4x128x5x5xf32>, tensor<4x128x11x11xf32>
}
