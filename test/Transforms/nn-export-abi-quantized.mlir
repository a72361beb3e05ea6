// RUN: nnc-opt %s -nn-quantize=calibration=true -nn-export-abi=inference=true | FileCheck %s
// The int8 library's entry points. nnc_infer's weights hold only what the
// int8 predict reads (fc1.bias: slot 1, `nn.infer_slots`), then the
// preprocessing's scale and shift; qf32 and qi8 follow x and out.
// nnc_observe reads the whole layout (62 floats) and the ranges, writes the
// widened ranges; nnc_quantize maps the parameters and ranges to qf32 and
// qi8.

// CHECK: module attributes {nn.abi = {fc1.bias = array<i64: 30, 5>, fc1.weight = array<i64: 0, 30>, fc2.weight = array<i64: 35, 15>, preprocess.scale = array<i64: 50, 6>, preprocess.shift = array<i64: 56, 6>}, nn.abi_state_size = 62 : i64, nn.infer_slots = array<i64: 1>, nn.quant_sizes = array<i64: 4, 68, 256>}

// CHECK-LABEL: func.func @nnc_infer(
// CHECK-SAME: %[[W:[^:]+]]: memref<17xf32>, %{{[^:]+}}: memref<4x6xf32>, %[[OUT:[^:]+]]: memref<12xf32>, %[[QF:[^:]+]]: memref<68xf32>, %[[QI:[^:]+]]: memref<256xi8>) attributes {nn.entry}
// CHECK: %[[UNREAD:.+]] = tensor.empty() : tensor<5x6xf32>
// CHECK: memref.reinterpret_cast %[[W]] to offset: [0], sizes: [5], strides: [1]
// CHECK: memref.reinterpret_cast %[[W]] to offset: [5], sizes: [6], strides: [1]
// CHECK: memref.reinterpret_cast %[[W]] to offset: [11], sizes: [6], strides: [1]
// CHECK: bufferization.to_tensor %[[QF]] restrict
// CHECK: bufferization.to_tensor %[[QI]] restrict
// CHECK: call @predict(%[[UNREAD]], {{.+}}) : (tensor<5x6xf32>, tensor<5xf32>, tensor<3x5xf32>, tensor<4x6xf32>, tensor<68xf32>, tensor<256xi8>) -> tensor<4x3xf32>

// CHECK-LABEL: func.func @nnc_observe(
// CHECK-SAME: memref<62xf32>, %{{[^:]+}}: memref<4x6xf32>, %{{[^:]+}}: memref<12xf32>, %[[R:[^:]+]]: memref<2x2xf32>, %[[NEXT:[^:]+]]: memref<2x2xf32>) attributes {nn.entry}
// CHECK: memref.reinterpret_cast %{{.+}} to offset: [35], sizes: [3, 5], strides: [5, 1]
// CHECK: %[[OBS:.+]]:2 = call @observe(
// CHECK: bufferization.materialize_in_destination %[[OBS]]#1 in writable %[[NEXT]]

// CHECK-LABEL: func.func @nnc_quantize(
// CHECK-SAME: memref<62xf32>, %{{[^:]+}}: memref<2x2xf32>, %[[QFO:[^:]+]]: memref<68xf32>, %[[QIO:[^:]+]]: memref<256xi8>) attributes {nn.entry}
// CHECK: %[[Q:.+]]:2 = call @quantize(
// CHECK: bufferization.materialize_in_destination %[[Q]]#0 in writable %[[QFO]]
// CHECK: bufferization.materialize_in_destination %[[Q]]#1 in writable %[[QIO]]

module {
  func.func @loss(%w1: tensor<5x6xf32> {nn.param = "fc1.weight"}, %b1: tensor<5xf32> {nn.param = "fc1.bias"}, %w2: tensor<3x5xf32> {nn.param = "fc2.weight"}, %x: tensor<4x6xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %h = nn.dense %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %r = nn.relu %h : tensor<4x5xf32>
    %z = nn.dense %r, %w2 : (tensor<4x5xf32>, tensor<3x5xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
  func.func @predict(%w1: tensor<5x6xf32> {nn.param = "fc1.weight"}, %b1: tensor<5xf32> {nn.param = "fc1.bias"}, %w2: tensor<3x5xf32> {nn.param = "fc2.weight"}, %x: tensor<4x6xf32>) -> tensor<4x3xf32> attributes {nn.predict} {
    %h = nn.dense %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %r = nn.relu %h : tensor<4x5xf32>
    %z = nn.dense %r, %w2 : (tensor<4x5xf32>, tensor<3x5xf32>) -> tensor<4x3xf32>
    return %z : tensor<4x3xf32>
  }
}
