// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg -cse | FileCheck %s
// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg=by-sample-convolutions=false -cse | FileCheck %s --check-prefix=BATCH

// 3x3 stride-1 convolutions of at least 64 channels in and out go by
// Winograd, here F(4x4, 3x3) (11x11 outputs: 3x3 tiles of 4x4, 36 products
// each, against 6x6 tiles of 16 for F(2x2, 3x3)), 2 samples at a time: the
// filters transformed once ((G (x) G) [36, 9] times the filters as [9, C
// F]), each part's input channels-last and padded to whole 6x6 tiles at
// stride 4 (the input 14x14), each tile transformed in one loop nest over
// the samples, tile rows, tile columns and vectors of 16 channels: B^T on
// the tile's columns, a column of 6 vectors at a time (a loop of 6, into a
// 6x6x16 scratch tensor), then on the rows of that (a loop of 6, 6
// positions each), as adds, subtracts and FMAs (B^T's first row: d0 + 1.5
// d1 - 2 d2 - 1.5 d3 + d4); its 36 GEMMs one batch matmul over its 18
// tiles, A^T the same way (6 columns into 4x6x16, then 4 rows of 4
// outputs, each written at its place of the 12x12 outputs of the tiles),
// the 11x11 outputs cropped, then NCHW with the bias. The input gradient
// (13x13 outputs) is the gradient of the forward pass's form, which takes
// its products (9 tiles of 36 a sample, where the convolution of dy padded
// by 2 took 16): the filters transformed by the same (G (x) G) but not
// transposed (U^T, [36, F, C]); in the forward pass's parts of 2 samples,
// dy channels-last in whole 4x4 tiles (zeros past 11x11), A dY A^T of each
// (4 vectors a column), the 36 GEMMs dV_p = dZ_p U_p^T, then B dV B^T of
// each tile (B's rows are B^T's columns: its second, 1.5 d0 - d1 + d2 - 0.5
// d3 + 2 d4 + d5) added into the gradient of the padded input (its 6x6
// tiles overlap by 2 rows and columns), whose first 13x13 are dx.
// CHECK-LABEL: func.func @winograd(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<4x64x13x13xf32>, %[[W:[^:]+]]: tensor<64x64x3x3xf32>, %[[B:[^:]+]]: tensor<64xf32>, %[[DY:[^:]+]]: tensor<4x64x11x11xf32>
// CHECK:         linalg.transpose ins(%[[W]] : tensor<64x64x3x3xf32>) outs(%{{.+}} : tensor<3x3x64x64xf32>) permutation = [2, 3, 1, 0]
// CHECK:         %[[GG:.+]] = arith.constant dense<"0x0000803F0000000000000000{{.*}}"> : tensor<36x9xf32>
// CHECK:         %[[U:.+]] = linalg.matmul ins(%[[GG]], %{{.+}} : tensor<36x9xf32>, tensor<9x4096xf32>)
// CHECK:         %[[UE:.+]] = tensor.expand_shape %[[U]] {{.*}} into tensor<36x64x64xf32>
// CHECK:         %[[Y:.+]] = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<4x64x11x11xf32>)
// CHECK:           linalg.transpose ins(%{{.+}} : tensor<2x64x13x13xf32>) outs(%{{.+}} : tensor<2x13x13x64xf32>) permutation = [0, 2, 3, 1]
// CHECK:           tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0, 0] [2, 13, 13, 64] [1, 1, 1, 1] : tensor<2x13x13x64xf32> into tensor<2x14x14x64xf32>
// CHECK:           scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<36x18x64xf32>)
// CHECK:             scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<36x18x64xf32>)
// CHECK:               scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<36x18x64xf32>)
// CHECK:                 scf.for %{{.+}} = %{{.+}} to %[[C64:.+]] step %[[C16:.+]] iter_args(%{{.+}} = %{{.+}}) -> (tensor<36x18x64xf32>)
// CHECK:                   %[[R0:.+]] = tensor.empty() : tensor<6x6x16xf32>
// CHECK:                   %[[R:.+]] = scf.for %[[J:.+]] = %{{.+}} to %[[C6:.+]] step %{{.+}} iter_args(%{{.+}} = %[[R0]]) -> (tensor<6x6x16xf32>)
// CHECK:                     %[[D0:.+]] = vector.transfer_read %{{.+}} {in_bounds = [true]} : tensor<2x14x14x64xf32>, vector<16xf32>
// CHECK:                     %[[D1:.+]] = vector.transfer_read %{{.+}} {in_bounds = [true]} : tensor<2x14x14x64xf32>, vector<16xf32>
// CHECK:                     %[[D2:.+]] = vector.transfer_read %{{.+}} {in_bounds = [true]} : tensor<2x14x14x64xf32>, vector<16xf32>
// CHECK:                     %[[D3:.+]] = vector.transfer_read %{{.+}} {in_bounds = [true]} : tensor<2x14x14x64xf32>, vector<16xf32>
// CHECK:                     %[[D4:.+]] = vector.transfer_read %{{.+}} {in_bounds = [true]} : tensor<2x14x14x64xf32>, vector<16xf32>
// CHECK:                     vector.transfer_read %{{.+}} {in_bounds = [true]} : tensor<2x14x14x64xf32>, vector<16xf32>
// CHECK:                     %[[T1:.+]] = vector.fma %{{.+}}, %[[D1]], %[[D0]] : vector<16xf32>
// CHECK:                     %[[T2:.+]] = vector.fma %{{.+}}, %[[D2]], %[[T1]] : vector<16xf32>
// CHECK:                     %[[T3:.+]] = vector.fma %{{.+}}, %[[D3]], %[[T2]] : vector<16xf32>
// CHECK:                     %[[T4:.+]] = arith.addf %[[T3]], %[[D4]] : vector<16xf32>
// CHECK:                     vector.transfer_write %[[T4]], %{{.+}}[%{{.+}}, %[[J]], %{{.+}}] {in_bounds = [true]} : vector<16xf32>, tensor<6x6x16xf32>
// CHECK-COUNT-5:             vector.transfer_write %{{.+}} {in_bounds = [true]} : vector<16xf32>, tensor<6x6x16xf32>
// CHECK:                   scf.for %{{.+}} = %{{.+}} to %[[C6]] step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<36x18x64xf32>)
// CHECK-COUNT-6:             vector.transfer_read %[[R]]{{.+}} : tensor<6x6x16xf32>, vector<16xf32>
// CHECK-COUNT-6:             vector.transfer_write %{{.+}} {in_bounds = [true]} : vector<16xf32>, tensor<36x18x64xf32>
// CHECK:           %[[M:.+]] = linalg.batch_matmul ins(%{{.+}}, %[[UE]] : tensor<36x18x64xf32>, tensor<36x64x64xf32>) outs(%{{.+}} : tensor<36x18x64xf32>)
// CHECK:           scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<2x12x12x64xf32>)
// CHECK:                   tensor.empty() : tensor<4x6x16xf32>
// CHECK:                   scf.for {{.+}} -> (tensor<4x6x16xf32>)
// CHECK-COUNT-6:             vector.transfer_read %[[M]]{{.+}} : tensor<36x18x64xf32>, vector<16xf32>
// CHECK-COUNT-4:             vector.transfer_write %{{.+}} : vector<16xf32>, tensor<4x6x16xf32>
// CHECK:                   scf.for {{.+}} -> (tensor<2x12x12x64xf32>)
// CHECK-COUNT-6:             vector.transfer_read {{.+}} : tensor<4x6x16xf32>, vector<16xf32>
// CHECK-COUNT-4:             vector.transfer_write {{.+}} : vector<16xf32>, tensor<2x12x12x64xf32>
// CHECK:           linalg.copy ins(%{{.+}} : tensor<2x11x11x64xf32>)
// CHECK:           linalg.generic {{.*}} ins(%{{.+}}, %[[B]] : tensor<2x11x11x64xf32>, tensor<64xf32>) outs(%{{.+}} : tensor<2x64x11x11xf32>)
// CHECK:         linalg.transpose ins(%[[W]] : tensor<64x64x3x3xf32>) outs(%{{.+}} : tensor<3x3x64x64xf32>) permutation = [2, 3, 0, 1]
// CHECK:         %[[UT:.+]] = linalg.matmul ins(%[[GG]], %{{.+}} : tensor<36x9xf32>, tensor<9x4096xf32>)
// CHECK:         %[[UTE:.+]] = tensor.expand_shape %[[UT]] {{.*}} into tensor<36x64x64xf32>
// CHECK:         %[[DX:.+]] = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<4x64x13x13xf32>)
// CHECK:           linalg.transpose ins(%{{.+}} : tensor<2x64x11x11xf32>) outs(%{{.+}} : tensor<2x11x11x64xf32>) permutation = [0, 2, 3, 1]
// CHECK:           tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0, 0] [2, 11, 11, 64] [1, 1, 1, 1] : tensor<2x11x11x64xf32> into tensor<2x12x12x64xf32>
// CHECK:           scf.for {{.+}} -> (tensor<36x18x64xf32>)
// CHECK:                   scf.for {{.+}} -> (tensor<6x4x16xf32>)
// CHECK-COUNT-4:             vector.transfer_read {{.+}} : tensor<2x12x12x64xf32>, vector<16xf32>
// CHECK:           %[[DV:.+]] = linalg.batch_matmul ins(%{{.+}}, %[[UTE]] : tensor<36x18x64xf32>, tensor<36x64x64xf32>) outs(%{{.+}} : tensor<36x18x64xf32>)
// CHECK:           %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x14x14x64xf32>)
// CHECK:           scf.for {{.+}} iter_args(%{{.+}} = %[[Z]]) -> (tensor<2x14x14x64xf32>)
// CHECK:                   scf.for {{.+}} -> (tensor<6x6x16xf32>)
// CHECK-COUNT-6:             vector.transfer_read %[[DV]]{{.+}} : tensor<36x18x64xf32>, vector<16xf32>
// CHECK:                     %[[B1:.+]] = vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-NEXT:                %{{.+}} = arith.subf %[[B1]], %{{.+}} : vector<16xf32>
// CHECK:                   scf.for {{.+}} -> (tensor<2x14x14x64xf32>)
// CHECK-COUNT-6:             vector.transfer_read {{.+}} : tensor<6x6x16xf32>, vector<16xf32>
// CHECK:                     %[[OLD:.+]] = vector.transfer_read %[[ACC:arg[0-9]+]][{{.+}} : tensor<2x14x14x64xf32>, vector<16xf32>
// CHECK-NEXT:                %[[SUM:.+]] = arith.addf %[[OLD]], %{{.+}} : vector<16xf32>
// CHECK-NEXT:                vector.transfer_write %[[SUM]], %[[ACC]][{{.+}} : vector<16xf32>, tensor<2x14x14x64xf32>
// CHECK:           tensor.extract_slice %{{.+}}[0, 0, 0, 0] [2, 13, 13, 64] [1, 1, 1, 1] : tensor<2x14x14x64xf32> to tensor<2x13x13x64xf32>
// CHECK:           linalg.copy ins(%{{.+}} : tensor<2x13x13x64xf32>)
// CHECK:           linalg.generic {{.*}} ins(%{{.+}} : tensor<2x13x13x64xf32>) outs(%{{.+}} : tensor<2x64x13x13xf32>)
// CHECK:         return %[[Y]], %[[DX]]

// The whole batch's GEMM (--target cuda): im2col, no Winograd.
// BATCH-LABEL: func.func @winograd(
// BATCH-NOT:     linalg.batch_matmul
// BATCH:         linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<64x576xf32>, tensor<576x484xf32>)
// BATCH-NOT:     linalg.batch_matmul
func.func @winograd(%x: tensor<4x64x13x13xf32>, %w: tensor<64x64x3x3xf32>, %b: tensor<64xf32>, %dy: tensor<4x64x11x11xf32>) -> (tensor<4x64x11x11xf32>, tensor<4x64x13x13xf32>) {
  %y = nn.conv2d %x, %w, %b {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x64x13x13xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>) -> tensor<4x64x11x11xf32>
  %dx = nn.conv2d_grad_input %dy, %w {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x64x11x11xf32>, tensor<64x64x3x3xf32>) -> tensor<4x64x13x13xf32>
  return %y, %dx : tensor<4x64x11x11xf32>, tensor<4x64x13x13xf32>
}

// -----

// F(2x2, 3x3) where F(4x4, 3x3) would not save a quarter of the products:
// 5x5 outputs take 3x3 tiles of either (16 x 9 = 36 x 4 products). 4x4
// tiles of the input padded to 8x8 at stride 2, 16 GEMMs over 18 tiles; the
// 2x2 outputs of each tile at their places of the 6x6 tile grid, cropped to
// 5x5.
// CHECK-LABEL: func.func @winograd_small(
// CHECK:         %[[GG:.+]] = arith.constant dense<"0x0000803F00000000000000000{{.*}}"> : tensor<16x9xf32>
// CHECK:         %[[U:.+]] = linalg.matmul ins(%[[GG]], %{{.+}} : tensor<16x9xf32>, tensor<9x4096xf32>)
// CHECK:         scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<4x64x5x5xf32>)
// CHECK:           tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0, 0] [2, 7, 7, 64] [1, 1, 1, 1] : tensor<2x7x7x64xf32> into tensor<2x8x8x64xf32>
// CHECK:           scf.for {{.+}} -> (tensor<16x18x64xf32>)
// CHECK:                   scf.for {{.+}} -> (tensor<4x4x16xf32>)
// CHECK-COUNT-4:             vector.transfer_read {{.+}} : tensor<2x8x8x64xf32>, vector<16xf32>
// CHECK:           linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<16x18x64xf32>, tensor<16x64x64xf32>) outs(%{{.+}} : tensor<16x18x64xf32>)
// CHECK:           scf.for {{.+}} -> (tensor<2x6x6x64xf32>)
// CHECK:                   scf.for {{.+}} -> (tensor<2x4x16xf32>)
// CHECK-COUNT-4:             vector.transfer_read {{.+}} : tensor<16x18x64xf32>, vector<16xf32>
// CHECK:           linalg.copy ins(%{{.+}} : tensor<2x5x5x64xf32>)
func.func @winograd_small(%x: tensor<4x64x7x7xf32>, %w: tensor<64x64x3x3xf32>) -> tensor<4x64x5x5xf32> {
  %y = nn.conv2d %x, %w {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x64x7x7xf32>, tensor<64x64x3x3xf32>) -> tensor<4x64x5x5xf32>
  return %y : tensor<4x64x5x5xf32>
}

// -----

// The weight gradient of such a convolution (64 -> 80 channels), as the
// gradient of its Winograd form (F(2x2, 3x3)): dU_p [F, C] = sum over the
// tiles of dZ_p^T V_p (V the transformed input tiles, dZ = (A (x) A) dy the
// transformed output gradient, dy channels-last padded to whole 2x2
// blocks, 12x12), one batch matmul per part of 2 samples adding into its
// group's dU, dZ^T read from dZ [16, 72, 80] as it is
// (batch_matmul_transpose_a); the batch's two parts in two groups in
// parallel, their sums added, then dW [F C, 9] = dU^T [F C, 16] x (G (x) G)
// [16, 9] (matmul_transpose_a), dW in its own layout: no transposes.
// CHECK-LABEL: func.func @winograd_grad_weight(
// CHECK:         %[[S:.+]] = scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<2x16x80x64xf32>)
// CHECK:           scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<16x80x64xf32>)
// CHECK:             tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0, 0] [2, 13, 13, 64] [1, 1, 1, 1] : tensor<2x13x13x64xf32> into tensor<2x14x14x64xf32>
// CHECK:             %[[V:.+]] = scf.for {{.+}} -> (tensor<16x72x64xf32>)
// CHECK:                     scf.for {{.+}} -> (tensor<4x4x16xf32>)
// CHECK:             tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0, 0] [2, 11, 11, 80] [1, 1, 1, 1] : tensor<2x11x11x80xf32> into tensor<2x12x12x80xf32>
// CHECK:             %[[DZ:.+]] = scf.for {{.+}} -> (tensor<16x72x80xf32>)
// CHECK:                     scf.for {{.+}} -> (tensor<4x2x16xf32>)
// CHECK-COUNT-2:               vector.transfer_read {{.+}} : tensor<2x12x12x80xf32>, vector<16xf32>
// CHECK:             linalg.batch_matmul_transpose_a ins(%[[DZ]], %[[V]] : tensor<16x72x80xf32>, tensor<16x72x64xf32>) outs(%[[ACC]] : tensor<16x80x64xf32>)
// CHECK:         %[[DU:.+]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel", "parallel", "parallel"]} ins(%[[S]] : tensor<2x16x80x64xf32>)
// CHECK:         %[[DUF:.+]] = tensor.collapse_shape %[[DU]] {{\[}}[0], [1, 2]] : tensor<16x80x64xf32> into tensor<16x5120xf32>
// CHECK:         %[[D:.+]] = linalg.matmul_transpose_a ins(%[[DUF]], %{{.+}} : tensor<16x5120xf32>, tensor<16x9xf32>) outs(%{{.+}} : tensor<5120x9xf32>)
// CHECK:         %[[DW:.+]] = tensor.expand_shape %[[D]] {{\[}}[0, 1], [2, 3]] output_shape [80, 64, 3, 3] : tensor<5120x9xf32> into tensor<80x64x3x3xf32>
// CHECK:         return %[[DW]]
func.func @winograd_grad_weight(%x: tensor<4x64x13x13xf32>, %dy: tensor<4x80x11x11xf32>) -> tensor<80x64x3x3xf32> {
  %dw = nn.conv2d_grad_weight %dy, %x {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x80x11x11xf32>, tensor<4x64x13x13xf32>) -> tensor<80x64x3x3xf32>
  return %dw : tensor<80x64x3x3xf32>
}

// -----

// 16 input channels, 16 output channels (the transforms would be too large
// a share of the work), a stride of 2, a 5x5 kernel: im2col and one GEMM
// per part.
// CHECK-LABEL: func.func @not_winograd(
// CHECK-NOT:     linalg.batch_matmul
// CHECK:         return
func.func @not_winograd(%x: tensor<4x16x13x13xf32>, %w: tensor<64x16x3x3xf32>, %x32: tensor<4x32x13x13xf32>, %w32: tensor<16x32x3x3xf32>, %x2: tensor<4x64x13x13xf32>, %w2: tensor<64x64x3x3xf32>, %w5: tensor<64x64x5x5xf32>) -> (tensor<4x64x11x11xf32>, tensor<4x16x11x11xf32>, tensor<4x64x6x6xf32>, tensor<4x64x9x9xf32>) {
  %y = nn.conv2d %x, %w {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x16x13x13xf32>, tensor<64x16x3x3xf32>) -> tensor<4x64x11x11xf32>
  %y32 = nn.conv2d %x32, %w32 {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x32x13x13xf32>, tensor<16x32x3x3xf32>) -> tensor<4x16x11x11xf32>
  %s = nn.conv2d %x2, %w2 {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<4x64x13x13xf32>, tensor<64x64x3x3xf32>) -> tensor<4x64x6x6xf32>
  %k = nn.conv2d %x2, %w5 {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x64x13x13xf32>, tensor<64x64x5x5xf32>) -> tensor<4x64x9x9xf32>
  return %y, %y32, %s, %k : tensor<4x64x11x11xf32>, tensor<4x16x11x11xf32>, tensor<4x64x6x6xf32>, tensor<4x64x9x9xf32>
}

// -----

// 32 channels go by Winograd too (the transforms as loops read each element
// of a tile once). 36 channels, not a multiple of 16 or 8: the transforms'
// vectors are 4 channels. 12x12 outputs (3x3 tiles of 4x4 cover them
// exactly): the output transform writes y in NCHW itself, each row of 4
// outputs of 16 channels plus the bias transposed by shuffles into 16 rows
// of 4 values, one per channel; no channels-last result, no transpose op.
// CHECK-LABEL: func.func @winograd_32(
// CHECK:         linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<36x18x32xf32>, tensor<36x32x32xf32>)
// CHECK:         vector.transfer_read {{.+}} : tensor<2x14x14x36xf32>, vector<4xf32>
// CHECK:         linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<36x18x36xf32>, tensor<36x36x36xf32>)
// CHECK:         vector.transfer_read {{.+}} : tensor<36x18x36xf32>, vector<4xf32>
// CHECK-LABEL: func.func @winograd_nchw(
// CHECK-SAME:    %{{[^:]+}}: tensor<4x32x12x12xf32>, %{{[^:]+}}: tensor<32x32x3x3xf32>, %[[B:[^:]+]]: tensor<32xf32>
// CHECK:         scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<4x32x12x12xf32>)
// CHECK:           linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<36x18x32xf32>, tensor<36x32x32xf32>)
// CHECK-NOT:       linalg.transpose
// CHECK:           scf.for {{.+}} -> (tensor<2x32x12x12xf32>)
// CHECK:                   scf.for {{.+}} -> (tensor<2x32x12x12xf32>)
// CHECK:                     %[[BV:.+]] = vector.transfer_read %[[B]]{{.+}} : tensor<32xf32>, vector<16xf32>
// CHECK-COUNT-4:             arith.addf %{{.+}}, %[[BV]] : vector<16xf32>
// CHECK:                     vector.shuffle {{.+}} : vector<16xf32>, vector<16xf32>
// CHECK:                     vector.shuffle {{.+}} : vector<16xf32>, vector<16xf32>
// CHECK:                     vector.shuffle {{.+}} : vector<32xf32>, vector<32xf32>
// CHECK:                     %[[T:.+]] = vector.shuffle %{{.+}}, %{{.+}} [0, 16, 32, 48, 1, 17, 33, 49,{{.+}}] : vector<64xf32>, vector<64xf32>
// CHECK:                     %[[C0:.+]] = vector.shuffle %[[T]], %[[T]] [0, 1, 2, 3] : vector<64xf32>, vector<64xf32>
// CHECK:                     vector.transfer_write %[[C0]], %{{.+}} {in_bounds = [true]} : vector<4xf32>, tensor<2x32x12x12xf32>
// CHECK-COUNT-15:            vector.transfer_write %{{.+}} {in_bounds = [true]} : vector<4xf32>, tensor<2x32x12x12xf32>
// CHECK-NOT:       linalg.generic
// CHECK:           scf.forall.in_parallel
func.func @winograd_32(%x: tensor<4x32x13x13xf32>, %w: tensor<32x32x3x3xf32>, %x36: tensor<4x36x13x13xf32>, %w36: tensor<36x36x3x3xf32>) -> (tensor<4x32x11x11xf32>, tensor<4x36x11x11xf32>) {
  %y = nn.conv2d %x, %w {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x32x13x13xf32>, tensor<32x32x3x3xf32>) -> tensor<4x32x11x11xf32>
  %y36 = nn.conv2d %x36, %w36 {padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<4x36x13x13xf32>, tensor<36x36x3x3xf32>) -> tensor<4x36x11x11xf32>
  return %y, %y36 : tensor<4x32x11x11xf32>, tensor<4x36x11x11xf32>
}

func.func @winograd_nchw(%x: tensor<4x32x12x12xf32>, %w: tensor<32x32x3x3xf32>, %b: tensor<32xf32>) -> tensor<4x32x12x12xf32> {
  %y = nn.conv2d %x, %w, %b {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<4x32x12x12xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<4x32x12x12xf32>
  return %y : tensor<4x32x12x12xf32>
}

// -----

// Both gradients of one convolution (the same dy, 32 -> 32 channels, 24x24,
// padding 1), in one pass over dy, one sample at a time: dy goes
// channels-last into a zero-padded [1, 26, 26, 32] buffer once (its border
// zeroed after, not all of it before); the input gradient's F(4x4, 3x3)
// tiles read it, and the weight gradient's F(2x2, 3x3) output-gradient
// transform reads its interior [1, 24, 24, 32] at row and column 1 instead
// of transposing dy again. The two samples in two groups in parallel, each
// carrying its dU and its samples of dx, built in the group's part of the
// loop's result (bufferized in place, not copied there after); then dx
// collapsed to [2, 32, 24, 24], dU summed, dW = dU^T (G (x) G). With 12x12 outputs (9 tiles of 4x4
// a sample: GEMMs of too few rows for parts of one sample) the two
// gradients go apart, and so they do where the weight gradient's x is
// computed between them (both are lowered before the first).
// CHECK-LABEL: func.func @winograd_grads(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x32x24x24xf32>, %[[W:[^:]+]]: tensor<32x32x3x3xf32>, %[[DY:[^:]+]]: tensor<2x32x24x24xf32>
// CHECK:         %[[G:.+]]:2 = scf.forall (%[[GROUP:.+]]) in (2) shared_outs(%{{.+}} = %{{.+}}, %[[DXS:.+]] = %{{.+}}) -> (tensor<2x16x32x32xf32>, tensor<2x1x32x24x24xf32>)
// CHECK:           %[[DXG:.+]] = tensor.extract_slice %[[DXS]][%[[GROUP]], 0, 0, 0, 0] [1, 1, 32, 24, 24] [1, 1, 1, 1, 1] : tensor<2x1x32x24x24xf32> to tensor<1x32x24x24xf32>
// CHECK:           %[[L:.+]]:2 = scf.for %{{.+}} iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %[[DXG]]) -> (tensor<16x32x32xf32>, tensor<1x32x24x24xf32>)
// CHECK:             %[[DYS:.+]] = tensor.extract_slice %[[DY]]
// CHECK:             %[[T:.+]] = linalg.transpose ins(%[[DYS]] : tensor<1x32x24x24xf32>) outs(%{{.+}} : tensor<1x24x24x32xf32>) permutation = [0, 2, 3, 1]
// CHECK:             tensor.insert_slice %[[T]] into %{{.+}}[0, 1, 1, 0] [1, 24, 24, 32] [1, 1, 1, 1] : tensor<1x24x24x32xf32> into tensor<1x26x26x32xf32>
// CHECK:             linalg.fill {{.+}} -> tensor<1x1x26x32xf32>
// CHECK:             %[[PAD:.+]] = tensor.insert_slice %{{.+}} into %{{.+}}[0, 1, 25, 0] [1, 24, 1, 32] [1, 1, 1, 1] : tensor<1x24x1x32xf32> into tensor<1x26x26x32xf32>
// CHECK:             vector.transfer_read %[[PAD]]
// CHECK:             linalg.batch_matmul ins(%{{.+}}, %{{.+}} : tensor<36x36x32xf32>, tensor<36x32x32xf32>)
// CHECK:             linalg.transpose ins(%{{.+}} : tensor<1x32x24x24xf32>) outs(%{{.+}} : tensor<1x24x24x32xf32>) permutation = [0, 2, 3, 1]
// CHECK-NOT:         linalg.transpose
// CHECK:             %[[IN:.+]] = tensor.extract_slice %[[PAD]][0, 1, 1, 0] [1, 24, 24, 32] [1, 1, 1, 1] : tensor<1x26x26x32xf32> to tensor<1x24x24x32xf32>
// CHECK:             vector.transfer_read %[[IN]]
// CHECK:             linalg.batch_matmul_transpose_a ins(%{{.+}}, %{{.+}} : tensor<16x144x32xf32>, tensor<16x144x32xf32>) outs(%{{.+}} : tensor<16x32x32xf32>)
// CHECK:             tensor.insert_slice %{{.+}} : tensor<1x32x24x24xf32> into tensor<1x32x24x24xf32>
// CHECK:           scf.forall.in_parallel
// CHECK:         %[[DX:.+]] = tensor.collapse_shape %[[G]]#1 {{.+}} : tensor<2x1x32x24x24xf32> into tensor<2x32x24x24xf32>
// CHECK:         linalg.generic {{.+}} ins(%[[G]]#0 : tensor<2x16x32x32xf32>)
// CHECK:         linalg.matmul_transpose_a
// CHECK-NOT:     linalg.transpose
// CHECK:         return %[[DX]], %{{.+}} : tensor<2x32x24x24xf32>, tensor<32x32x3x3xf32>
// CHECK-LABEL: func.func @winograd_grads_apart(
// CHECK:         scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<4x32x12x12xf32>)
// CHECK:         scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<2x16x32x32xf32>)
// CHECK-LABEL: func.func @winograd_grads_late_x(
// CHECK-NOT:     scf.forall {{.+}} -> (tensor<2x16x32x32xf32>, tensor<2x1x32x24x24xf32>)
// CHECK:         return
func.func @winograd_grads(%x: tensor<2x32x24x24xf32>, %w: tensor<32x32x3x3xf32>, %dy: tensor<2x32x24x24xf32>) -> (tensor<2x32x24x24xf32>, tensor<32x32x3x3xf32>) {
  %dx = nn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x32x24x24xf32>, tensor<32x32x3x3xf32>) -> tensor<2x32x24x24xf32>
  %dw = nn.conv2d_grad_weight %dy, %x {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x32x24x24xf32>, tensor<2x32x24x24xf32>) -> tensor<32x32x3x3xf32>
  return %dx, %dw : tensor<2x32x24x24xf32>, tensor<32x32x3x3xf32>
}
func.func @winograd_grads_apart(%x: tensor<4x32x12x12xf32>, %w: tensor<32x32x3x3xf32>, %dy: tensor<4x32x12x12xf32>) -> (tensor<4x32x12x12xf32>, tensor<32x32x3x3xf32>) {
  %dx = nn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<4x32x12x12xf32>, tensor<32x32x3x3xf32>) -> tensor<4x32x12x12xf32>
  %dw = nn.conv2d_grad_weight %dy, %x {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<4x32x12x12xf32>, tensor<4x32x12x12xf32>) -> tensor<32x32x3x3xf32>
  return %dx, %dw : tensor<4x32x12x12xf32>, tensor<32x32x3x3xf32>
}
func.func @winograd_grads_late_x(%x0: tensor<2x32x24x24xf32>, %w: tensor<32x32x3x3xf32>, %dy: tensor<2x32x24x24xf32>) -> (tensor<2x32x24x24xf32>, tensor<32x32x3x3xf32>) {
  %dx = nn.conv2d_grad_input %dy, %w {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x32x24x24xf32>, tensor<32x32x3x3xf32>) -> tensor<2x32x24x24xf32>
  %x = nn.relu %x0 : tensor<2x32x24x24xf32>
  %dw = nn.conv2d_grad_weight %dy, %x {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x32x24x24xf32>, tensor<2x32x24x24xf32>) -> tensor<32x32x3x3xf32>
  return %dx, %dw : tensor<2x32x24x24xf32>, tensor<32x32x3x3xf32>
}
