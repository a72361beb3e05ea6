// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s
// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg=by-sample-convolutions=false | FileCheck %s --check-prefix=BATCH
// Convolutions as GEMMs over im2col matrices. When a sample's im2col matrix
// fits 1.25 MiB and its output pixels are a multiple of 16, the samples go one
// at a time in a parallel loop (their padded input, im2col matrix and GEMM
// stay in cache); when the pixels of a few samples are (6x6 = 36: 4 samples,
// 144 columns), the samples go that many at a time, in at least two parts,
// else as many as fit if the columns beyond whole vectors are few; otherwise
// (and for GPUs, by-sample-convolutions=false) one GEMM covers the whole
// batch. Stride-1 convolutions with at least 16 input channels and 512
// columns per sample skip im2col (shifted GEMMs, see Convolutions.cpp). The
// numbers are checked against PyTorch in test/Numerics/conv.test.

// CHECK-LABEL: func.func @forward(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x2x8x8xf32>, %[[W:[^:]+]]: tensor<3x2x3x3xf32>, %[[B:[^:]+]]: tensor<3xf32>)
// CHECK:         %[[WM:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<3x2x3x3xf32> into tensor<3x18xf32>
// CHECK:         %[[Y:.+]] = scf.forall (%[[N:.+]]) in (4) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<4x3x8x8xf32>)
// The GEMM accumulates in the sample's part of the output (ON), the bias added there.
// CHECK:           %[[ON:.+]] = tensor.extract_slice %[[O]][%[[N]], 0, 0, 0] [1, 3, 8, 8] [1, 1, 1, 1] : tensor<4x3x8x8xf32> to tensor<3x8x8xf32>
// CHECK:           %[[XN:.+]] = tensor.extract_slice %[[X]][%[[N]], 0, 0, 0] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<4x2x8x8xf32> to tensor<1x2x8x8xf32>
// CHECK:           linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x2x10x10xf32>)
// CHECK:           tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 1, 1] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<1x2x8x8xf32> into tensor<1x2x10x10xf32>
// CHECK:           %[[COL:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<2x3x3x1x8x8xf32> into tensor<18x64xf32>
// CHECK:           %[[OM:.+]] = tensor.collapse_shape %[[ON]] {{\[}}[0], [1, 2]] : tensor<3x8x8xf32> into tensor<3x64xf32>
// CHECK:           %[[Z0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[OM]] : tensor<3x64xf32>)
// CHECK:           %[[Z:.+]] = linalg.matmul ins(%[[WM]], %[[COL]] : tensor<3x18xf32>, tensor<18x64xf32>) outs(%[[Z0]] : tensor<3x64xf32>)
// CHECK:           %[[Z3:.+]] = tensor.expand_shape %[[Z]] {{\[}}[0], [1, 2]] output_shape [3, 8, 8] : tensor<3x64xf32> into tensor<3x8x8xf32>
// CHECK:           %[[YN:.+]] = linalg.generic {{.*}} ins(%[[B]] : tensor<3xf32>) outs(%[[Z3]] : tensor<3x8x8xf32>)
// CHECK:             arith.addf
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[YN]] into %[[O]][%[[N]], 0, 0, 0] [1, 3, 8, 8] [1, 1, 1, 1] : tensor<3x8x8xf32> into tensor<4x3x8x8xf32>
// CHECK:         return %[[Y]]
// BATCH-LABEL: func.func @forward(
// BATCH-NOT:     scf.forall
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<18x256xf32>) outs(%{{.+}} : tensor<3x256xf32>)
func.func @forward(%x: tensor<4x2x8x8xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<3xf32>) -> tensor<4x3x8x8xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<4x2x8x8xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<4x3x8x8xf32>
  return %y : tensor<4x3x8x8xf32>
}

// -----

// Stride 1, 16 input channels and 16 x 32 = 512 columns per sample: shifted
// GEMMs (an implicit GEMM). The filters as [kh kw, F, C] once; per sample,
// the input padded by one more row below and flattened ([16, 19 x 32]), and
// each kernel offset s = 3 i + j multiplies its filters by the column window
// at i 32 + j = s + (s / 3) 29, accumulated into z [8, 16 x 32], whose rows
// of 32 give 30 output columns (plus the bias).
// CHECK-LABEL: func.func @forward_shifted(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x16x16x30xf32>, %[[W:[^:]+]]: tensor<8x16x3x3xf32>, %[[B:[^:]+]]: tensor<8xf32>)
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[W]] : tensor<8x16x3x3xf32>) outs(%{{.+}} : tensor<3x3x8x16xf32>) permutation = [2, 3, 0, 1]
// CHECK:         %[[A:.+]] = tensor.collapse_shape %[[T]] {{\[}}[0, 1], [2], [3]] : tensor<3x3x8x16xf32> into tensor<9x8x16xf32>
// CHECK:         scf.forall (%[[N:.+]]) in (2) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<2x8x16x30xf32>)
// CHECK:           tensor.extract_slice %[[X]][%[[N]], 0, 0, 0] [1, 16, 16, 30] [1, 1, 1, 1]
// CHECK:           linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x16x19x32xf32>)
// CHECK:           tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 1, 1] [1, 16, 16, 30] [1, 1, 1, 1] : tensor<1x16x16x30xf32> into tensor<1x16x19x32xf32>
// CHECK:           %[[XF:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2, 3]] : tensor<1x16x19x32xf32> into tensor<16x608xf32>
// CHECK:           %[[Z0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x512xf32>)
// CHECK:           %[[Z:.+]] = scf.for %[[S:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[Z0]]) -> (tensor<8x512xf32>)
// CHECK:             %[[ROW:.+]] = arith.divui %[[S]], %{{.+}} : index
// CHECK:             %[[SKIP:.+]] = arith.muli %[[ROW]], %{{.+}} : index
// CHECK:             %[[OFF:.+]] = arith.addi %[[S]], %[[SKIP]] : index
// CHECK:             %[[AS:.+]] = tensor.extract_slice %[[A]][%[[S]], 0, 0] [1, 8, 16] [1, 1, 1] : tensor<9x8x16xf32> to tensor<8x16xf32>
// CHECK:             %[[WIN:.+]] = tensor.extract_slice %[[XF]][0, %[[OFF]]] [16, 512] [1, 1] : tensor<16x608xf32> to tensor<16x512xf32>
// CHECK:             %[[P:.+]] = linalg.matmul ins(%[[AS]], %[[WIN]] : tensor<8x16xf32>, tensor<16x512xf32>) outs(%[[ACC]] : tensor<8x512xf32>)
// CHECK:             scf.yield %[[P]]
// CHECK:           %[[ZS:.+]] = tensor.extract_slice %[[Z]][0, 0] [4, 512] [1, 1]
// CHECK:           %[[Z4:.+]] = tensor.expand_shape %[[ZS]] {{\[}}[0], [1, 2, 3]] output_shape [4, 1, 16, 32] : tensor<4x512xf32> into tensor<4x1x16x32xf32>
// CHECK:           %[[ROWS:.+]] = tensor.extract_slice %[[Z4]][0, 0, 0, 0] [4, 1, 16, 30] [1, 1, 1, 1] : tensor<4x1x16x32xf32> to tensor<4x1x16x30xf32>
// CHECK:           linalg.generic {{.*}} ins(%[[ROWS]], %{{.+}} : tensor<4x1x16x30xf32>, tensor<4xf32>)
// CHECK:             arith.addf
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[N]], 0, 0, 0] [1, 8, 16, 30]
// BATCH-LABEL: func.func @forward_shifted(
// BATCH-NOT:     scf.for
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<8x144xf32>, tensor<144x960xf32>) outs(%{{.+}} : tensor<8x960xf32>)
func.func @forward_shifted(%x: tensor<2x16x16x30xf32>, %w: tensor<8x16x3x3xf32>, %b: tensor<8xf32>) -> tensor<2x8x16x30xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x16x16x30xf32>, tensor<8x16x3x3xf32>, tensor<8xf32>) -> tensor<2x8x16x30xf32>
  return %y : tensor<2x8x16x30xf32>
}

// -----

// 24 x 26 = 624 columns round up to 640 (whole register tiles of 32; a
// remainder tile would split the GEMM): the padded input gets one more zero
// row (the last window reads up to 639 + 2 x 26 + 2 < 27 x 26), and the
// first 624 columns of z are the rows of 26, 24 of them output.
// CHECK-LABEL: func.func @forward_shifted_rounded(
// CHECK:           linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x16x27x26xf32>)
// CHECK:           tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2, 3]] : tensor<1x16x27x26xf32> into tensor<16x702xf32>
// CHECK:           linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x640xf32>)
// CHECK:             linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<8x16xf32>, tensor<16x640xf32>) outs(%{{.+}} : tensor<8x640xf32>)
// CHECK:           %[[ZS:.+]] = tensor.extract_slice %{{.+}}[0, 0] [4, 624] [1, 1] : tensor<8x640xf32> to tensor<4x624xf32>
// CHECK:           %[[Z4:.+]] = tensor.expand_shape %[[ZS]] {{\[}}[0], [1, 2, 3]] output_shape [4, 1, 24, 26] : tensor<4x624xf32> into tensor<4x1x24x26xf32>
// CHECK:           tensor.extract_slice %[[Z4]][0, 0, 0, 0] [4, 1, 24, 24] [1, 1, 1, 1] : tensor<4x1x24x26xf32> to tensor<4x1x24x24xf32>
func.func @forward_shifted_rounded(%x: tensor<2x16x24x24xf32>, %w: tensor<8x16x3x3xf32>) -> tensor<2x8x24x24xf32> {
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x16x24x24xf32>, tensor<8x16x3x3xf32>) -> tensor<2x8x24x24xf32>
  return %y : tensor<2x8x24x24xf32>
}

// -----

// The input gradient of a stride-1 convolution is the convolution of dy
// padded by kh - 1 - top (here 1) with the filters transposed ([kh kw, C,
// F]) and rotated: offset s takes the filters of offset 8 - s.
// CHECK-LABEL: func.func @grad_input_shifted(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<2x16x16x30xf32>, %[[W:[^:]+]]: tensor<16x8x3x3xf32>)
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[W]] : tensor<16x8x3x3xf32>) outs(%{{.+}} : tensor<3x3x8x16xf32>) permutation = [2, 3, 1, 0]
// CHECK:         %[[A:.+]] = tensor.collapse_shape %[[T]] {{\[}}[0, 1], [2], [3]] : tensor<3x3x8x16xf32> into tensor<9x8x16xf32>
// CHECK:         scf.forall (%[[N:.+]]) in (2)
// CHECK:           tensor.extract_slice %[[DY]][%[[N]], 0, 0, 0] [1, 16, 16, 30] [1, 1, 1, 1]
// CHECK:           tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2, 3]] : tensor<1x16x19x32xf32> into tensor<16x608xf32>
// CHECK:           scf.for %[[S:[^ ]+]] =
// CHECK:             %[[ROT:.+]] = arith.subi %{{.+}}, %[[S]] : index
// CHECK:             tensor.extract_slice %[[A]][%[[ROT]], 0, 0] [1, 8, 16] [1, 1, 1] : tensor<9x8x16xf32> to tensor<8x16xf32>
// CHECK:             linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<8x16xf32>, tensor<16x512xf32>) outs(%{{.+}} : tensor<8x512xf32>)
// CHECK-NOT:       arith.addf
// CHECK:           tensor.parallel_insert_slice
// BATCH-LABEL: func.func @grad_input_shifted(
// BATCH-NOT:     scf.for
// BATCH:         linalg.matmul_transpose_a
func.func @grad_input_shifted(%dy: tensor<2x16x16x30xf32>, %w: tensor<16x8x3x3xf32>) -> tensor<2x8x16x30xf32> {
  %dx = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x16x16x30xf32>, tensor<16x8x3x3xf32>) -> tensor<2x8x16x30xf32>
  return %dx : tensor<2x8x16x30xf32>
}

// -----

// The weight gradient of the same convolution: dy channels-last in rows of
// 32 pixels (the padded input's width), the last 2 of each row zero, so
// that the wrapped columns of every window meet zeros; 2 groups of 8 input
// channels in parallel, each through the samples in order and, per sample,
// the 9 offsets: dW_s^T [8, 8] += window [8, 16 x 32] x dy rows [512, 8].
// Then dW[f, 8 g + r, i, j] = parts[g, 3 i + j, r, f] (the map is printed
// before the function).
// CHECK:       affine_map<(d0, d1, d2, d3, d4) -> (d1, d3 * 3 + d4, d2, d0)>
// CHECK-LABEL: func.func @grad_weight_shifted(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<2x8x16x30xf32>, %[[X:[^:]+]]: tensor<2x16x16x30xf32>)
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<2x16x32x8xf32>
// CHECK:         %[[PIX:.+]] = tensor.extract_slice %[[E]][0, 0, 0, 0] [2, 16, 30, 8] [1, 1, 1, 1]
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[DY]] : tensor<2x8x16x30xf32>) outs(%[[PIX]] : tensor<2x16x30x8xf32>) permutation = [0, 2, 3, 1]
// CHECK:         %[[E1:.+]] = tensor.insert_slice %[[T]] into %[[E]][0, 0, 0, 0] [2, 16, 30, 8] [1, 1, 1, 1]
// CHECK:         %[[GAP:.+]] = tensor.extract_slice %[[E1]][0, 0, 30, 0] [2, 16, 2, 8] [1, 1, 1, 1]
// CHECK:         %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[GAP]] : tensor<2x16x2x8xf32>)
// CHECK:         %[[E2:.+]] = tensor.insert_slice %[[Z]] into %[[E1]][0, 0, 30, 0] [2, 16, 2, 8] [1, 1, 1, 1]
// CHECK:         %[[DYW:.+]] = tensor.collapse_shape %[[E2]] {{\[}}[0, 1, 2], [3]] : tensor<2x16x32x8xf32> into tensor<1024x8xf32>
// CHECK:         %[[PARTS:.+]] = scf.forall (%[[G:.+]]) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<2x9x8x8xf32>)
// CHECK:           %[[C0:.+]] = arith.muli %[[G]], %{{.+}} : index
// CHECK:           %[[ACC0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<9x8x8xf32>)
// CHECK:           scf.for %[[N:[^ ]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ACC0]]) -> (tensor<9x8x8xf32>)
// CHECK:             tensor.extract_slice %[[X]][%[[N]], %[[C0]], 0, 0] [1, 8, 16, 30] [1, 1, 1, 1]
// CHECK:             %[[XF:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2, 3]] : tensor<1x8x19x32xf32> into tensor<8x608xf32>
// CHECK:             %[[FIRST:.+]] = arith.muli %[[N]], %{{.+}} : index
// CHECK:             %[[ROWS:.+]] = tensor.extract_slice %[[DYW]][%[[FIRST]], 0] [512, 8] [1, 1] : tensor<1024x8xf32> to tensor<512x8xf32>
// CHECK:             scf.for %[[S:[^ ]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACCS:.+]] = %[[ACC]]) -> (tensor<9x8x8xf32>)
// CHECK:               %[[OFF:.+]] = arith.addi %[[S]], %{{.+}} : index
// CHECK:               %[[WIN:.+]] = tensor.extract_slice %[[XF]][0, %[[OFF]]] [8, 512] [1, 1] : tensor<8x608xf32> to tensor<8x512xf32>
// CHECK:               %[[DWS:.+]] = tensor.extract_slice %[[ACCS]][%[[S]], 0, 0] [1, 8, 8] [1, 1, 1] : tensor<9x8x8xf32> to tensor<8x8xf32>
// CHECK:               %[[P:.+]] = linalg.matmul ins(%[[WIN]], %[[ROWS]] : tensor<8x512xf32>, tensor<512x8xf32>) outs(%[[DWS]] : tensor<8x8xf32>)
// CHECK:               tensor.insert_slice %[[P]] into %[[ACCS]][%[[S]], 0, 0] [1, 8, 8] [1, 1, 1]
// CHECK:         linalg.generic {{.*}} ins(%[[PARTS]] : tensor<2x9x8x8xf32>) outs(%{{.+}} : tensor<8x2x8x3x3xf32>)
// CHECK:         tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3], [4]] : tensor<8x2x8x3x3xf32> into tensor<8x16x3x3xf32>
// BATCH-LABEL: func.func @grad_weight_shifted(
// BATCH-NOT:     scf.for
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<144x960xf32>, tensor<960x8xf32>) outs(%{{.+}} : tensor<144x8xf32>)
func.func @grad_weight_shifted(%dy: tensor<2x8x16x30xf32>, %x: tensor<2x16x16x30xf32>) -> tensor<8x16x3x3xf32> {
  %dw = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x8x16x30xf32>, tensor<2x16x16x30xf32>) -> tensor<8x16x3x3xf32>
  return %dw : tensor<8x16x3x3xf32>
}

// -----

// 6x6 = 36 output pixels (not a multiple of 16) in a batch of 8: two parts
// of 4 samples (144 columns); the part's first sample is 4 n.
// CHECK-LABEL: func.func @forward_parts(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<8x2x6x6xf32>
// CHECK:         scf.forall (%[[N:.+]]) in (2) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<8x3x6x6xf32>)
// CHECK:           %[[FIRST:.+]] = arith.muli %[[N]], %{{.+}} : index
// CHECK:           tensor.extract_slice %[[X]][%[[FIRST]], 0, 0, 0] [4, 2, 6, 6] [1, 1, 1, 1] : tensor<8x2x6x6xf32> to tensor<4x2x6x6xf32>
// CHECK:           linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<18x144xf32>) outs(%{{.+}} : tensor<3x144xf32>)
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[FIRST]], 0, 0, 0] [4, 3, 6, 6] [1, 1, 1, 1] : tensor<4x3x6x6xf32> into tensor<8x3x6x6xf32>
// BATCH-LABEL: func.func @forward_parts(
// BATCH-NOT:     scf.forall
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<18x288xf32>) outs(%{{.+}} : tensor<3x288xf32>)
func.func @forward_parts(%x: tensor<8x2x6x6xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<3xf32>) -> tensor<8x3x6x6xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x2x6x6xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<8x3x6x6xf32>
  return %y : tensor<8x3x6x6xf32>
}

// -----

// The same input gradient in parts of 4 samples.
// CHECK-LABEL: func.func @grad_input_parts(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<8x3x6x6xf32>
// CHECK:         scf.forall (%[[N:.+]]) in (2) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<8x2x6x6xf32>)
// CHECK:           %[[FIRST:.+]] = arith.muli %[[N]], %{{.+}} : index
// CHECK:           tensor.extract_slice %[[DY]][%[[FIRST]], 0, 0, 0] [4, 3, 6, 6] [1, 1, 1, 1] : tensor<8x3x6x6xf32> to tensor<4x3x6x6xf32>
// CHECK:           linalg.matmul_transpose_a ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<3x144xf32>) outs(%{{.+}} : tensor<18x144xf32>)
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[FIRST]], 0, 0, 0] [4, 2, 6, 6]
func.func @grad_input_parts(%dy: tensor<8x3x6x6xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<8x2x6x6xf32> {
  %dx = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x3x6x6xf32>, tensor<3x2x3x3xf32>) -> tensor<8x2x6x6xf32>
  return %dx : tensor<8x2x6x6xf32>
}

// -----

// 11x11 = 121 pixels: no number of samples up to 4 makes whole vectors, 4
// samples (484 columns, a remainder of 4 <= 484 / 64) go at a time.
// CHECK-LABEL: func.func @forward_parts_remainder(
// CHECK:         scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<8x2x11x11xf32>)
// CHECK:           linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<2x9xf32>, tensor<9x484xf32>) outs(%{{.+}} : tensor<2x484xf32>)
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%{{.+}}, 0, 0, 0] [4, 2, 11, 11]
func.func @forward_parts_remainder(%x: tensor<8x1x11x11xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<8x2x11x11xf32> {
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x11x11xf32>, tensor<2x1x3x3xf32>) -> tensor<8x2x11x11xf32>
  return %y : tensor<8x2x11x11xf32>
}

// -----

// 14x14 = 196 pixels in a batch of 2: one sample's 196 columns would leave
// a remainder of 4 > 196 / 64 (scalar loops, half the speed): one GEMM.
// CHECK-LABEL: func.func @forward_remainder_whole_batch(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<2x9xf32>, tensor<9x392xf32>) outs(%{{.+}} : tensor<2x392xf32>)
func.func @forward_remainder_whole_batch(%x: tensor<2x1x14x14xf32>, %w: tensor<2x1x3x3xf32>) -> tensor<2x2x14x14xf32> {
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x1x14x14xf32>, tensor<2x1x3x3xf32>) -> tensor<2x2x14x14xf32>
  return %y : tensor<2x2x14x14xf32>
}

// -----

// 4096 filters: a part's GEMM result [4096, 144] would not fit the 1.25 MiB
// of a parallel loop's buffer, one GEMM for the batch.
// CHECK-LABEL: func.func @forward_wide_whole_batch(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<4096x9xf32>, tensor<9x288xf32>) outs(%{{.+}} : tensor<4096x288xf32>)
func.func @forward_wide_whole_batch(%x: tensor<8x1x6x6xf32>, %w: tensor<4096x1x3x3xf32>) -> tensor<8x4096x6x6xf32> {
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x6x6xf32>, tensor<4096x1x3x3xf32>) -> tensor<8x4096x6x6xf32>
  return %y : tensor<8x4096x6x6xf32>
}

// -----

// The wide CNN's 3x3 convolution of 128 channels at 13x13 goes by Winograd
// F(4x4, 3x3) (see convert-nn-to-linalg-winograd.mlir) in parts of two
// samples, 18 tiles, whose GEMM results [36, 18, 256] take 0.63 MiB (within
// 1.25; parts of four would take 1.27 MiB), not the whole batch's 35.7 MB
// im2col matrix (at batch 64).
// CHECK-LABEL: func.func @forward_parts_of_two_wide(
// CHECK:         scf.forall (%{{.+}}) in (2)
// CHECK:           tensor.extract_slice %{{.+}}[%{{.+}}, 0, 0, 0] [2, 128, 13, 13] [1, 1, 1, 1]
// CHECK:           linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<36x18x128xf32>, tensor<36x128x256xf32>) outs(%{{.+}} : tensor<36x18x256xf32>)
func.func @forward_parts_of_two_wide(%x: tensor<4x128x13x13xf32>, %w: tensor<256x128x3x3xf32>) -> tensor<4x256x11x11xf32> {
  %y = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<4x128x13x13xf32>, tensor<256x128x3x3xf32>) -> tensor<4x256x11x11xf32>
  return %y : tensor<4x256x11x11xf32>
}

// -----

// In a batch of 4, parts of 4 samples would leave one part: one GEMM for
// the batch.
// CHECK-LABEL: func.func @forward_whole_batch(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<18x144xf32>) outs(%{{.+}} : tensor<3x144xf32>)
func.func @forward_whole_batch(%x: tensor<4x2x6x6xf32>, %w: tensor<3x2x3x3xf32>, %b: tensor<3xf32>) -> tensor<4x3x6x6xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<4x2x6x6xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<4x3x6x6xf32>
  return %y : tensor<4x3x6x6xf32>
}

// -----

// The input gradient sample by sample: dcol = W^T x dy_n^T, then col2im
// into the sample's padded gradient, cropped.
// CHECK-LABEL: func.func @grad_input(
// CHECK:         scf.forall (%[[N:.+]]) in (4) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<4x2x8x8xf32>)
// CHECK:           tensor.extract_slice %{{.+}}[%[[N]], 0, 0, 0] [1, 3, 8, 8] [1, 1, 1, 1] : tensor<4x3x8x8xf32> to tensor<1x3x8x8xf32>
// CHECK:           linalg.matmul_transpose_a ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<3x64xf32>) outs(%{{.+}} : tensor<18x64xf32>)
// CHECK-COUNT-9:   arith.addf
// CHECK:           tensor.extract_slice %{{.+}}[0, 0, 1, 1] [1, 2, 8, 8] [1, 1, 1, 1] : tensor<1x2x10x10xf32> to tensor<1x2x8x8xf32>
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[N]], 0, 0, 0] [1, 2, 8, 8]
// BATCH-LABEL: func.func @grad_input(
// BATCH-NOT:     scf.forall
// BATCH:         linalg.matmul_transpose_a ins(%{{.+}}, %{{.+}} : tensor<3x18xf32>, tensor<3x256xf32>) outs(%{{.+}} : tensor<18x256xf32>)
func.func @grad_input(%dy: tensor<4x3x8x8xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<4x2x8x8xf32> {
  %dx = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<4x3x8x8xf32>, tensor<3x2x3x3xf32>) -> tensor<4x2x8x8xf32>
  return %dx : tensor<4x2x8x8xf32>
}

// -----

// A 1x1 kernel at stride 1 without padding (an inception block's): col2im is
// dcol itself, copied into NCHW order by row blocks (as a forward pass's
// GEMM result), with no zero-filled dx and no add.
// CHECK-LABEL: func.func @grad_input_1x1(
// CHECK:         scf.forall
// CHECK:           linalg.matmul_transpose_a ins(%{{.+}}, %{{.+}} : tensor<16x32xf32>, tensor<16x64xf32>) outs(%{{.+}} : tensor<32x64xf32>)
// CHECK-NOT:       linalg.fill
// CHECK-NOT:       arith.addf
// CHECK:           tensor.parallel_insert_slice %{{.+}} [1, 32, 8, 8]
// BATCH-LABEL: func.func @grad_input_1x1(
// BATCH:         linalg.matmul_transpose_a ins(%{{.+}}, %{{.+}} : tensor<16x32xf32>, tensor<16x256xf32>) outs(%{{.+}} : tensor<32x256xf32>)
// BATCH-NOT:     arith.addf
// BATCH:         return
func.func @grad_input_1x1(%dy: tensor<4x16x8x8xf32>, %w: tensor<16x32x1x1xf32>) -> tensor<4x32x8x8xf32> {
  %dx = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<4x16x8x8xf32>, tensor<16x32x1x1xf32>) -> tensor<4x32x8x8xf32>
  return %dx : tensor<4x32x8x8xf32>
}

// -----

// The weight gradient: dW^T [C kh kw, F] = im2col x dy_nhwc. Its rows split
// by input channels into 2 groups (16 channels: the most groups up to 8
// with whole 8-row register tiles, 8 x 9 = 72 rows each), computed in
// parallel; each group goes through the samples in order, accumulating its
// im2col rows of one sample times that sample's 64 rows of dy_nhwc (the
// same sums in the same order as the whole batch's GEMM).
// CHECK-LABEL: func.func @grad_weight(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<4x3x8x8xf32>, %[[X:[^:]+]]: tensor<4x16x8x8xf32>)
// CHECK:         %[[T:.+]] = linalg.transpose ins(%[[DY]] : tensor<4x3x8x8xf32>) outs(%{{.+}} : tensor<4x8x8x3xf32>) permutation = [0, 2, 3, 1]
// CHECK:         %[[DYN:.+]] = tensor.collapse_shape %[[T]] {{\[}}[0, 1, 2], [3]] : tensor<4x8x8x3xf32> into tensor<256x3xf32>
// CHECK:         %[[PARTS:.+]] = scf.forall (%[[G:.+]]) in (2) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<2x72x3xf32>)
// CHECK:           %[[C0:.+]] = arith.muli %[[G]], %{{.+}} : index
// CHECK:           %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<72x3xf32>)
// CHECK:           %[[SUM:.+]] = scf.for %[[S:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (tensor<72x3xf32>)
// CHECK:             tensor.extract_slice %[[X]][%[[S]], %[[C0]], 0, 0] [1, 8, 8, 8] [1, 1, 1, 1] : tensor<4x16x8x8xf32> to tensor<1x8x8x8xf32>
// CHECK:             %[[COL:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<8x3x3x1x8x8xf32> into tensor<72x64xf32>
// CHECK:             %[[R0:.+]] = arith.muli %[[S]], %{{.+}} : index
// CHECK:             %[[ROWS:.+]] = tensor.extract_slice %[[DYN]][%[[R0]], 0] [64, 3] [1, 1] : tensor<256x3xf32> to tensor<64x3xf32>
// CHECK:             %[[P:.+]] = linalg.matmul ins(%[[COL]], %[[ROWS]] : tensor<72x64xf32>, tensor<64x3xf32>) outs(%[[ACC]] : tensor<72x3xf32>)
// CHECK:             scf.yield %[[P]]
// CHECK:           tensor.expand_shape %[[SUM]] {{\[}}[0, 1], [2]] output_shape [1, 72, 3]
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[G]], 0, 0] [1, 72, 3]
// CHECK:         %[[DWT:.+]] = tensor.collapse_shape %[[PARTS]] {{\[}}[0, 1], [2]] : tensor<2x72x3xf32> into tensor<144x3xf32>
// CHECK:         %[[DW:.+]] = linalg.generic {{.*}} ins(%[[DWT]] : tensor<144x3xf32>) outs(%{{.+}} : tensor<3x16x3x3xf32>)
// CHECK:         return %[[DW]]
// BATCH-LABEL: func.func @grad_weight(
// BATCH-NOT:     scf.forall
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<144x256xf32>, tensor<256x3xf32>) outs(%{{.+}} : tensor<144x3xf32>)
func.func @grad_weight(%dy: tensor<4x3x8x8xf32>, %x: tensor<4x16x8x8xf32>) -> tensor<3x16x3x3xf32> {
  %dw = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<4x3x8x8xf32>, tensor<4x16x8x8xf32>) -> tensor<3x16x3x3xf32>
  return %dw : tensor<3x16x3x3xf32>
}

// -----

// 2 input channels (18 rows) split into no groups of whole 8-row tiles: one
// GEMM for the batch.
// CHECK-LABEL: func.func @grad_weight_whole_batch(
// CHECK-NOT:     scf.forall
// CHECK:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<18x256xf32>, tensor<256x3xf32>) outs(%{{.+}} : tensor<18x3xf32>)
func.func @grad_weight_whole_batch(%dy: tensor<4x3x8x8xf32>, %x: tensor<4x2x8x8xf32>) -> tensor<3x2x3x3xf32> {
  %dw = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<4x3x8x8xf32>, tensor<4x2x8x8xf32>) -> tensor<3x2x3x3xf32>
  return %dw : tensor<3x2x3x3xf32>
}

// -----

// One input channel (the first layer of an image model: no channel groups)
// and 32 filters: dW^T's columns go in 2 groups of 16 filters in parallel,
// each through the samples in order, accumulating the product of a
// sample's im2col matrix [9, 64] and its group's gradient channels-last
// [64, 16] (both built in the group, in cache: no NHWC copy of the whole
// batch's gradient) into its [9, 16] columns: every element the same sum
// in the same order as the whole batch's GEMM. For GPUs, that GEMM.
// CHECK-LABEL: func.func @grad_weight_filter_groups(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<4x32x8x8xf32>, %[[X:[^:]+]]: tensor<4x1x8x8xf32>)
// CHECK:         %[[PARTS:.+]] = scf.forall (%[[G:.+]]) in (2) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<2x9x16xf32>)
// CHECK:           %[[F0:.+]] = arith.muli %[[G]], %{{.+}} : index
// CHECK:           %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<9x16xf32>)
// CHECK:           %[[SUM:.+]] = scf.for %[[S:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (tensor<9x16xf32>)
// CHECK:             tensor.extract_slice %[[X]][%[[S]], 0, 0, 0] [1, 1, 8, 8] [1, 1, 1, 1]
// CHECK:             %[[COL:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<1x3x3x1x8x8xf32> into tensor<9x64xf32>
// CHECK:             %[[GRAD:.+]] = tensor.extract_slice %[[DY]][%[[S]], %[[F0]], 0, 0] [1, 16, 8, 8] [1, 1, 1, 1]
// CHECK:             %[[T:.+]] = linalg.transpose ins(%[[GRAD]] : tensor<1x16x8x8xf32>) outs(%{{.+}} : tensor<1x8x8x16xf32>) permutation = [0, 2, 3, 1]
// CHECK:             %[[ROWS:.+]] = tensor.collapse_shape %[[T]] {{\[}}[0, 1, 2], [3]] : tensor<1x8x8x16xf32> into tensor<64x16xf32>
// CHECK:             %[[P:.+]] = linalg.matmul ins(%[[COL]], %[[ROWS]] : tensor<9x64xf32>, tensor<64x16xf32>) outs(%[[ACC]] : tensor<9x16xf32>)
// CHECK:             scf.yield %[[P]]
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[G]], 0, 0] [1, 9, 16]
// CHECK:         %[[COLS:.+]] = linalg.generic {{.*}} ins(%[[PARTS]] : tensor<2x9x16xf32>) outs(%{{.+}} : tensor<9x2x16xf32>)
// CHECK:         %[[DWT:.+]] = tensor.collapse_shape %[[COLS]] {{\[}}[0], [1, 2]] : tensor<9x2x16xf32> into tensor<9x32xf32>
// CHECK:         %[[DW:.+]] = linalg.generic {{.*}} ins(%[[DWT]] : tensor<9x32xf32>) outs(%{{.+}} : tensor<32x1x3x3xf32>)
// CHECK:         return %[[DW]]
// BATCH-LABEL: func.func @grad_weight_filter_groups(
// BATCH-NOT:     scf.forall
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<9x256xf32>, tensor<256x32xf32>) outs(%{{.+}} : tensor<9x32xf32>)
func.func @grad_weight_filter_groups(%dy: tensor<4x32x8x8xf32>, %x: tensor<4x1x8x8xf32>) -> tensor<32x1x3x3xf32> {
  %dw = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<4x32x8x8xf32>, tensor<4x1x8x8xf32>) -> tensor<32x1x3x3xf32>
  return %dw : tensor<32x1x3x3xf32>
}

// -----

// A 1x1 convolution at stride 1, one sample at a time: the sample's im2col
// matrix is the sample itself ([C, H W], a rank-reducing slice and a
// reshape, no copy) and the GEMM builds its [F, H W] result in the sample's
// part of the output.
// CHECK-LABEL: func.func @pointwise(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x8x8x8xf32>, %[[W:[^:]+]]: tensor<4x8x1x1xf32>, %[[B:[^:]+]]: tensor<4xf32>)
// CHECK:         %[[WM:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<4x8x1x1xf32> into tensor<4x8xf32>
// CHECK:         scf.forall (%[[N:.+]]) in (4) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<4x4x8x8xf32>)
// CHECK:           %[[ON:.+]] = tensor.extract_slice %[[O]][%[[N]], 0, 0, 0] [1, 4, 8, 8] [1, 1, 1, 1] : tensor<4x4x8x8xf32> to tensor<4x8x8xf32>
// CHECK:           %[[XN:.+]] = tensor.extract_slice %[[X]][%[[N]], 0, 0, 0] [1, 8, 8, 8] [1, 1, 1, 1] : tensor<4x8x8x8xf32> to tensor<1x8x8x8xf32>
// CHECK:           %[[XS:.+]] = tensor.extract_slice %[[XN]][0, 0, 0, 0] [1, 8, 8, 8] [1, 1, 1, 1] : tensor<1x8x8x8xf32> to tensor<8x8x8xf32>
// CHECK:           %[[COL:.+]] = tensor.collapse_shape %[[XS]] {{\[}}[0], [1, 2]] : tensor<8x8x8xf32> into tensor<8x64xf32>
// CHECK-NOT:       linalg.generic
// CHECK:           %[[OM:.+]] = tensor.collapse_shape %[[ON]] {{\[}}[0], [1, 2]] : tensor<4x8x8xf32> into tensor<4x64xf32>
// CHECK:           %[[Z0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[OM]] : tensor<4x64xf32>)
// CHECK:           %[[Z:.+]] = linalg.matmul ins(%[[WM]], %[[COL]] : tensor<4x8xf32>, tensor<8x64xf32>) outs(%[[Z0]] : tensor<4x64xf32>)
// CHECK:           %[[Z3:.+]] = tensor.expand_shape %[[Z]] {{\[}}[0], [1, 2]] output_shape [4, 8, 8] : tensor<4x64xf32> into tensor<4x8x8xf32>
// CHECK:           %[[YN:.+]] = linalg.generic {{.*}} ins(%[[B]] : tensor<4xf32>) outs(%[[Z3]] : tensor<4x8x8xf32>)
// CHECK:             arith.addf
// CHECK:           tensor.parallel_insert_slice %[[YN]] into %[[O]][%[[N]], 0, 0, 0] [1, 4, 8, 8] [1, 1, 1, 1] : tensor<4x8x8xf32> into tensor<4x4x8x8xf32>
func.func @pointwise(%x: tensor<4x8x8x8xf32>, %w: tensor<4x8x1x1xf32>, %b: tensor<4xf32>) -> tensor<4x4x8x8xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<4x8x8x8xf32>, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<4x4x8x8xf32>
  return %y : tensor<4x4x8x8xf32>
}

// -----

// Its input gradient, one sample at a time: dy^T is the sample's gradient
// [F, H W] itself, and dx's part the GEMM W^T x dy^T (no col2im), built in
// place.
// CHECK-LABEL: func.func @pointwise_grad_input(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<4x4x8x8xf32>, %[[W:[^:]+]]: tensor<4x8x1x1xf32>)
// CHECK:         %[[WM:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<4x8x1x1xf32> into tensor<4x8xf32>
// CHECK:         scf.forall (%[[N:.+]]) in (4) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<4x8x8x8xf32>)
// CHECK:           %[[ON:.+]] = tensor.extract_slice %[[O]][%[[N]], 0, 0, 0] [1, 8, 8, 8] [1, 1, 1, 1] : tensor<4x8x8x8xf32> to tensor<8x8x8xf32>
// CHECK:           %[[GN:.+]] = tensor.extract_slice %[[DY]][%[[N]], 0, 0, 0] [1, 4, 8, 8] [1, 1, 1, 1] : tensor<4x4x8x8xf32> to tensor<1x4x8x8xf32>
// CHECK:           %[[GS:.+]] = tensor.extract_slice %[[GN]][0, 0, 0, 0] [1, 4, 8, 8] [1, 1, 1, 1] : tensor<1x4x8x8xf32> to tensor<4x8x8xf32>
// CHECK:           %[[DYT:.+]] = tensor.collapse_shape %[[GS]] {{\[}}[0], [1, 2]] : tensor<4x8x8xf32> into tensor<4x64xf32>
// CHECK:           %[[OM:.+]] = tensor.collapse_shape %[[ON]] {{\[}}[0], [1, 2]] : tensor<8x8x8xf32> into tensor<8x64xf32>
// CHECK:           %[[Z0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[OM]] : tensor<8x64xf32>)
// CHECK:           %[[Z:.+]] = linalg.matmul_transpose_a ins(%[[WM]], %[[DYT]] : tensor<4x8xf32>, tensor<4x64xf32>) outs(%[[Z0]] : tensor<8x64xf32>)
// CHECK:           %[[DX:.+]] = tensor.expand_shape %[[Z]] {{\[}}[0], [1, 2]] output_shape [8, 8, 8] : tensor<8x64xf32> into tensor<8x8x8xf32>
// CHECK-NEXT:      scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[DX]] into %[[O]][%[[N]], 0, 0, 0] [1, 8, 8, 8] [1, 1, 1, 1] : tensor<8x8x8xf32> into tensor<4x8x8x8xf32>
func.func @pointwise_grad_input(%dy: tensor<4x4x8x8xf32>, %w: tensor<4x8x1x1xf32>) -> tensor<4x8x8x8xf32> {
  %dx = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<4x4x8x8xf32>, tensor<4x8x1x1xf32>) -> tensor<4x8x8x8xf32>
  return %dx : tensor<4x8x8x8xf32>
}
