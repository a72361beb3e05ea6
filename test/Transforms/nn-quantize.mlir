// RUN: nnc-opt %s -split-input-file -nn-quantize=calibration=true | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-quantize | FileCheck %s --check-prefix=CONV
// int8 predict: each dense/conv2d whose weight is a parameter gets its input
// quantized to u8 (s, z from qf32), an nn.int8_gemm of [M, Kp/4, 4] u8 rows
// and [Kp/4, Op, 4] s8 weights (K = 6, 5 padded to 8; 5, 3 outputs to 16),
// and the epilogue (acc - comp) alpha + bias. qf32 per layer: s, z, alpha
// [16], comp [16] (34 floats); qi8: 8 x 16 bytes per layer at 64-byte
// offsets. With calibration: observe (predict plus the running [min, max] of
// each quantized layer's input) and quantize (weights per output row, the
// activations' s and z).

// CHECK: module attributes {nn.quant_sizes = array<i64: 4, 68, 256>}
// CHECK-LABEL: func.func @predict(
// CHECK-SAME: %[[X:arg3]]: tensor<4x6xf32>, %[[QF:arg4]]: tensor<68xf32>, %[[QI:arg5]]: tensor<256xi8>) -> tensor<4x3xf32>
// CHECK: %[[S:.+]] = tensor.extract %[[QF]][%c0]
// CHECK: %[[Z:.+]] = tensor.extract %[[QF]][%c1]
// CHECK: %[[INV:.+]] = arith.divf %cst, %[[S]]
// CHECK: %[[ALPHA:.+]] = tensor.extract_slice %[[QF]][2] [5] [1]
// CHECK: %[[COMP:.+]] = tensor.extract_slice %[[QF]][18] [5] [1]
// CHECK: tensor.extract_slice %[[QI]][0] [128] [1]
// CHECK: %[[Q:.+]] = linalg.generic {{.+}} ins(%[[X]] : tensor<4x6xf32>) outs(%{{.+}} : tensor<4x6xi8>)
// CHECK: arith.mulf %in, %[[INV]]
// CHECK: math.roundeven
// CHECK: arith.addf %{{.+}}, %[[Z]]
// CHECK: arith.fptosi
// CHECK: arith.trunci {{.+}} to i8
// CHECK: tensor.insert_slice %[[Q]] into %{{.+}}[0, 0] [4, 6] [1, 1] : tensor<4x6xi8> into tensor<4x8xi8>
// CHECK: %[[ACC:.+]] = linalg.generic {indexing_maps = [#[[A:.+]], #[[W:.+]], #[[C:.+]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%{{.+}}, %{{.+}} : tensor<4x2x4xi8>, tensor<2x16x4xi8>) outs(%{{.+}} : tensor<4x16xi32>) attrs = {nn.int8_gemm}
// CHECK: arith.extui {{.+}} : i8 to i32
// CHECK: arith.extsi {{.+}} : i8 to i32
// CHECK: %[[A5:.+]] = tensor.extract_slice %[[ACC]][0, 0] [4, 5] [1, 1]
// CHECK: linalg.generic {{.+}} ins(%[[A5]], %[[COMP]], %[[ALPHA]], %arg1 : tensor<4x5xi32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
// CHECK: arith.sitofp
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: nn.relu
// The second layer: its own s and z, qi8 from byte 128; no bias.
// CHECK: tensor.extract %[[QF]][%c34]
// CHECK: tensor.extract_slice %[[QI]][128] [128] [1]
// CHECK: attrs = {nn.int8_gemm}
// CHECK-NOT: nn.dense
// CHECK: return

// CHECK-LABEL: func.func @quantize(
// CHECK-SAME: tensor<2x2xf32>) -> (tensor<68xf32>, tensor<256xi8>) attributes {nn.quantize}
// Activations over [min(lo, 0), max(hi, 0)] in 255 steps.
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: arith.constant 2.550000e+02
// CHECK: math.roundeven
// Weights: max |w| per output row / 127, rounded and clamped.
// CHECK: math.absf
// CHECK: arith.constant 1.270000e+02
// CHECK: tensor.insert_slice %arg0 into %{{.+}}[0, 0] [5, 6] [1, 1] : tensor<5x6xf32> into tensor<16x8xf32>
// CHECK: arith.constant -1.270000e+02
// CHECK: tensor.expand_shape {{.+}} : tensor<16x8xf32> into tensor<16x2x4xf32>
// CHECK: linalg.generic {{.+}} ins(%{{.+}} : tensor<16x2x4xf32>) outs(%{{.+}} : tensor<2x16x4xi8>)
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0] [128] [1] : tensor<128xi8> into tensor<256xi8>
// CHECK: tensor.from_elements %{{.+}}, %{{.+}} : tensor<2xf32>
// CHECK: tensor.insert_slice {{.+}}[0] [2] [1] : tensor<2xf32> into tensor<68xf32>
// CHECK: tensor.insert_slice {{.+}}[2] [16] [1] : tensor<16xf32> into tensor<68xf32>
// CHECK: tensor.insert_slice {{.+}}[18] [16] [1] : tensor<16xf32> into tensor<68xf32>
// CHECK: tensor.insert_slice {{.+}}[128] [128] [1] : tensor<128xi8> into tensor<256xi8>
// CHECK: return

// CHECK-LABEL: func.func @observe(
// CHECK-SAME: %arg3: tensor<4x6xf32>, %[[R:arg4]]: tensor<2x2xf32>) -> (tensor<4x3xf32>, tensor<2x2xf32>) attributes {nn.observe}
// CHECK: tensor.extract %[[R]][%c0{{.*}}, %c0{{.*}}]
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]} ins(%arg3 : tensor<4x6xf32>)
// CHECK: arith.minimumf
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]} ins(%arg3 : tensor<4x6xf32>)
// CHECK: arith.maximumf
// CHECK: nn.dense %arg3, %arg0, %arg1
// CHECK: %[[NEW:.+]] = tensor.from_elements {{.+}} : tensor<2x2xf32>
// CHECK: return %{{.+}}, %[[NEW]] : tensor<4x3xf32>, tensor<2x2xf32>

module {
  func.func @predict(%w1: tensor<5x6xf32> {nn.param = "fc1.weight"}, %b1: tensor<5xf32> {nn.param = "fc1.bias"}, %w2: tensor<3x5xf32> {nn.param = "fc2.weight"}, %x: tensor<4x6xf32>) -> tensor<4x3xf32> attributes {nn.predict} {
    %h = nn.dense %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    %r = nn.relu %h : tensor<4x5xf32>
    %z = nn.dense %r, %w2 : (tensor<4x5xf32>, tensor<3x5xf32>) -> tensor<4x3xf32>
    return %z : tensor<4x3xf32>
  }
}

// -----

// conv2d (stride 2, padding 1): the quantized input padded with the zero
// point; im2col as f32 convolutions lower it ([C kh kw, N OH OW] = [18, 18]),
// padded to [20, 32] (k to a multiple of 4, positions of 16 lanes) and its
// rows interleaved by four ([5, 32, 4]); the GEMM acc^T = W col with the
// filters as its rows ([4, 5, 4]: 4 x 20 bytes in qi8) and the positions as
// its columns; the epilogue reads acc [F, N, OH, OW] into NCHW.
// CONV-LABEL: module attributes {nn.quant_sizes = array<i64: 2, 34, 80>}
// CONV: func.func @predict(
// CONV: %[[Z:.+]] = tensor.extract %arg3[%c1]
// CONV: %[[Q:.+]] = linalg.generic {{.+}} ins(%arg2 : tensor<2x2x5x5xf32>) outs(%{{.+}} : tensor<2x2x5x5xi8>)
// CONV: } -> tensor<2x2x5x5xi8>
// CONV: %[[ZI:.+]] = arith.trunci %{{.+}} : i32 to i8
// CONV: %[[PAD:.+]] = linalg.fill ins(%[[ZI]] : i8) outs(%{{.+}} : tensor<2x2x7x7xi8>)
// CONV: %[[XP:.+]] = tensor.insert_slice %[[Q]] into %[[PAD]][0, 0, 1, 1] [2, 2, 5, 5] [1, 1, 1, 1]
// CONV: tensor.empty() : tensor<2x3x3x2x3x3xi8>
// CONV: tensor.extract_slice %[[XP]][0, 0, 0, 0] [2, 2, 3, 3] [1, 1, 2, 2]
// CONV: tensor.extract_slice %[[XP]][0, 0, 2, 2] [2, 2, 3, 3] [1, 1, 2, 2]
// CONV: %[[COL:.+]] = tensor.collapse_shape {{.+}} : tensor<2x3x3x2x3x3xi8> into tensor<18x18xi8>
// CONV: tensor.insert_slice %[[COL]] into %{{.+}}[0, 0] [18, 18] [1, 1] : tensor<18x18xi8> into tensor<20x32xi8>
// CONV: tensor.expand_shape {{.+}} : tensor<20x32xi8> into tensor<5x4x32xi8>
// CONV: %[[COL4:.+]] = linalg.generic {{.+}} ins(%{{.+}} : tensor<5x4x32xi8>) outs(%{{.+}} : tensor<5x32x4xi8>)
// CONV: %[[W:.+]] = tensor.expand_shape {{.+}} : tensor<80xi8> into tensor<4x5x4xi8>
// CONV: %[[ACC:.+]] = linalg.generic {indexing_maps = [#[[COLS:.+]], #[[ROWS:.+]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[COL4]], %[[W]] : tensor<5x32x4xi8>, tensor<4x5x4xi8>) outs(%{{.+}} : tensor<4x32xi32>) attrs = {nn.int8_gemm}
// CONV: tensor.extract_slice %[[ACC]][0, 0] [4, 18] [1, 1]
// CONV: %[[A4:.+]] = tensor.expand_shape {{.+}} : tensor<4x18xi32> into tensor<4x2x3x3xi32>
// CONV: linalg.generic {indexing_maps = [#[[FNHW:.+]], #{{.+}}, #{{.+}}, #{{.+}}, #{{.+}}], {{.+}} ins(%[[A4]], %{{.+}}, %{{.+}}, %arg1 : tensor<4x2x3x3xi32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%{{.+}} : tensor<2x4x3x3xf32>)
// CONV-NOT: nn.conv2d
// CONV-NOT: func.func @observe

module {
  func.func @predict(%w: tensor<4x2x3x3xf32> {nn.param = "c.weight"}, %b: tensor<4xf32> {nn.param = "c.bias"}, %x: tensor<2x2x5x5xf32>) -> tensor<2x4x3x3xf32> attributes {nn.predict} {
    %y = nn.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>
    return %y : tensor<2x4x3x3xf32>
  }
}
