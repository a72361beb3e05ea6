// RUN: nnc-opt %s -split-input-file -nn-contiguous-strided-transfers | FileCheck %s

// A pooling window's kernel-offset view: every second element of a row. The
// 13 lanes become one read of the 25 elements they span, through a stride-1
// view of the same memory (same offset), and a shuffle of the even lanes.
// 25 is not whole vectors: the read is of 32 under a mask of the first 25
// (a load of vector<25> is split into pieces of 16, 8 and 1).
// CHECK-LABEL: func.func @read_stride2(
// CHECK-SAME: %[[X:.*]]: memref<4x13xf32, strided<[52, 2], offset: 27>>, %[[I:.*]]: index, %[[J:.*]]: index
// CHECK: %[[V:.*]] = memref.reinterpret_cast %[[X]] to offset: [27], sizes: [4, 25], strides: [52, 1]
// CHECK: %[[J2:.*]] = arith.muli %[[J]], %c2
// CHECK: %[[M:.*]] = vector.constant_mask [25] : vector<32xi1>
// CHECK: %[[S:.*]] = vector.maskedload %[[V]][%[[I]], %[[J2]]], %[[M]], %{{.*}} : memref<4x25xf32, strided<[52, 1], offset: 27>>, vector<32xi1>, vector<32xf32> into vector<32xf32>
// CHECK: %[[L:.*]] = vector.shuffle %[[S]], %[[S]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24] : vector<32xf32>, vector<32xf32>
// CHECK: vector.broadcast %[[L]] : vector<13xf32> to vector<1x13xf32>
func.func @read_stride2(%x: memref<4x13xf32, strided<[52, 2], offset: 27>>, %i: index, %j: index) -> vector<1x13xf32> {
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %x[%i, %j], %pad {in_bounds = [true, true]} : memref<4x13xf32, strided<[52, 2], offset: 27>>, vector<1x13xf32>
  return %v : vector<1x13xf32>
}

// -----

// A strided write reads the span, merges the new lanes into every third
// element and writes the span back (7 elements: as 8 under a mask of 7,
// the 8th lane written back as read).
// CHECK-LABEL: func.func @write_stride3(
// CHECK: %[[V:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [7], strides: [1]
// CHECK: %[[K:.*]] = vector.constant_mask [7] : vector<8xi1>
// CHECK: %[[S:.*]] = vector.maskedload %[[V]][%{{.*}}], %[[K]]
// CHECK-SAME: vector<8xf32>
// CHECK: %[[M:.*]] = vector.shuffle %[[S]], %{{.*}} [8, 1, 2, 9, 4, 5, 10, 7] : vector<8xf32>, vector<3xf32>
// CHECK: vector.maskedstore %[[V]][%{{.*}}], %[[K]], %[[M]]
// CHECK-NOT: vector.transfer_write
func.func @write_stride3(%x: memref<3xf32, strided<[3]>>, %v: vector<3xf32>) {
  %c0 = arith.constant 0 : index
  vector.transfer_write %v, %x[%c0] {in_bounds = [true]} : vector<3xf32>, memref<3xf32, strided<[3]>>
  return
}

// -----

// A pooling gradient's write along a row of windows: the lanes run along
// the second-last dimension (stride 2) and the vector's trailing unit
// dimension is the window's column. The span folds the column into the row
// (element 2 ow + j; the row starts at ow = 0 here), the lanes come from the source of
// the shape_cast that moved the unit dimension, and a chunk's dynamic offset
// is read from the descriptor.
// CHECK-LABEL: func.func @write_trailing_unit(
// CHECK-SAME: %[[X:.*]]: memref<2x13x2xf32, strided<[26, 2, 1], offset: ?>>, %[[V:.*]]: vector<1x1x13xf32>, %[[I:.*]]: index, %[[J:.*]]: index
// CHECK: %{{[a-z_]+}}, %[[OFF:[a-z_0-9]+]], %{{.*}} = memref.extract_strided_metadata %[[X]]
// CHECK: %[[W:.*]] = memref.reinterpret_cast %[[X]] to offset: [%[[OFF]]], sizes: [2, 26], strides: [26, 1]
// CHECK: %[[K:.*]] = vector.constant_mask [25] : vector<32xi1>
// CHECK: %[[S:.*]] = vector.maskedload %[[W]][%[[I]], %[[J]]], %[[K]]
// CHECK-SAME: vector<32xf32>
// CHECK: %[[L:.*]] = vector.extract %[[V]][0, 0] : vector<13xf32> from vector<1x1x13xf32>
// CHECK: %[[M:.*]] = vector.shuffle %[[S]], %[[L]] [32, 1, 33, 3, 34, 5, 35, 7, 36, 9, 37, 11, 38, 13, 39, 15, 40, 17, 41, 19, 42, 21, 43, 23, 44, 25, 26, 27, 28, 29, 30, 31]
// CHECK: vector.maskedstore %[[W]][%[[I]], %[[J]]], %[[K]], %[[M]]
// CHECK-NOT: vector.shape_cast
func.func @write_trailing_unit(%x: memref<2x13x2xf32, strided<[26, 2, 1], offset: ?>>, %v: vector<1x1x13xf32>, %i: index, %j: index) {
  %c0 = arith.constant 0 : index
  %t = vector.shape_cast %v : vector<1x1x13xf32> to vector<1x13x1xf32>
  vector.transfer_write %t, %x[%i, %c0, %j] {in_bounds = [true, true, true]} : vector<1x13x1xf32>, memref<2x13x2xf32, strided<[26, 2, 1], offset: ?>>
  return
}

// -----

// The matching read (an operand of the same loop nest): the shape_cast that
// moves the unit dimension to the front becomes a broadcast of the lanes.
// CHECK-LABEL: func.func @read_trailing_unit(
// CHECK: %[[W:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [2, 26], strides: [26, 1]
// CHECK: %[[S:.*]] = vector.maskedload %[[W]]
// CHECK: %[[L:.*]] = vector.shuffle %[[S]], %[[S]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
// CHECK: %[[B:.*]] = vector.broadcast %[[L]] : vector<13xf32> to vector<1x1x13xf32>
// CHECK: return %[[B]]
// CHECK-NOT: vector.shape_cast
func.func @read_trailing_unit(%x: memref<2x13x2xf32>, %i: index, %j: index) -> vector<1x1x13xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %r = vector.transfer_read %x[%i, %c0, %j], %pad {in_bounds = [true, true, true]} : memref<2x13x2xf32>, vector<1x13x1xf32>
  %t = vector.shape_cast %r : vector<1x13x1xf32> to vector<1x1x13xf32>
  return %t : vector<1x1x13xf32>
}

// -----

// A tile of rows along a strided dimension (batchnorm, relu and a 2x2 max
// pool fused into the transpose that puts the pooled image channels-last:
// vector<1x16x1x14> with stride 2): one span read per row (the rows at i
// and i + 1), its lanes inserted in the tile; the write the same way (the
// tile's rows fold into the lanes each row's read produced).
// CHECK-LABEL: func.func @rows_stride2(
// CHECK-SAME: %[[X:.*]]: memref<4x13xf32, strided<[52, 2]>>, %[[Y:.*]]: memref<4x13xf32, strided<[52, 2]>>, %[[I:.*]]: index
// CHECK: %[[V:.*]] = memref.reinterpret_cast %[[X]] to offset: [0], sizes: [4, 25], strides: [52, 1]
// CHECK: %[[S0:.*]] = vector.maskedload %[[V]][%[[I]], %c0]
// CHECK: %[[L0:.*]] = vector.shuffle %[[S0]], %[[S0]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
// CHECK: %[[I1:.*]] = arith.addi %[[I]], %c1
// CHECK: %[[S1:.*]] = vector.maskedload %{{.*}}[%[[I1]], %c0]
// CHECK: %[[L1:.*]] = vector.shuffle %[[S1]], %[[S1]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
// CHECK: memref.reinterpret_cast %[[Y]]
// CHECK: vector.shuffle %{{.*}}, %[[L0]] [32, 1, 33,
// CHECK: vector.maskedstore %{{.*}}[%[[I]], %c0]
// CHECK: vector.shuffle %{{.*}}, %[[L1]] [32, 1, 33,
// CHECK: vector.maskedstore %{{.*}}[%{{.*}}, %c0]
// CHECK-NOT: vector.transfer_read
// CHECK-NOT: vector.transfer_write
func.func @rows_stride2(%x: memref<4x13xf32, strided<[52, 2]>>, %y: memref<4x13xf32, strided<[52, 2]>>, %i: index) {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %x[%i, %c0], %pad {in_bounds = [true, true]} : memref<4x13xf32, strided<[52, 2]>>, vector<2x13xf32>
  vector.transfer_write %v, %y[%i, %c0] {in_bounds = [true, true]} : vector<2x13xf32>, memref<4x13xf32, strided<[52, 2]>>
  return
}

// -----

// Left alone: contiguous rows, possibly out-of-bounds transfers, dynamic
// strides.
// CHECK-LABEL: func.func @unchanged(
// CHECK-NOT: memref.reinterpret_cast
// CHECK-NOT: vector.shuffle
func.func @unchanged(%a: memref<4x13xf32>, %b: memref<13xf32, strided<[2]>>, %c: memref<13xf32, strided<[?]>>, %i: index) -> (vector<13xf32>, vector<13xf32>, vector<13xf32>) {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %0 = vector.transfer_read %a[%c0, %c0], %pad {in_bounds = [true]} : memref<4x13xf32>, vector<13xf32>
  %1 = vector.transfer_read %b[%i], %pad : memref<13xf32, strided<[2]>>, vector<13xf32>
  %2 = vector.transfer_read %c[%c0], %pad {in_bounds = [true]} : memref<13xf32, strided<[?]>>, vector<13xf32>
  return %0, %1, %2 : vector<13xf32>, vector<13xf32>, vector<13xf32>
}

// -----

// A transposing copy's read (stride 784, the features of an image): a span
// would be 49,393 elements for 64 lanes. Strides above 8 stay as they are.
// CHECK-LABEL: func.func @read_stride784(
// CHECK-NOT: memref.reinterpret_cast
// CHECK-NOT: vector.shuffle
// CHECK: vector.transfer_read %{{.*}} : memref<64xf32, strided<[784]>>, vector<64xf32>
func.func @read_stride784(%x: memref<64xf32, strided<[784]>>) -> vector<64xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %x[%c0], %pad {in_bounds = [true]} : memref<64xf32, strided<[784]>>, vector<64xf32>
  return %v : vector<64xf32>
}

// -----

// A transposing copy's read along a memref dimension of stride 288 (a
// [64, 32, 3, 3] weight's output channels), cast for a write along a
// contiguous row: one gather of the 64 lanes at offsets 0, 288, 576, ...
// from the first lane's element, broadcast to the cast's type.
// CHECK-LABEL: func.func @gather_stride288(
// CHECK-SAME: %[[W:.*]]: memref<64x32x3x3xf32>, %[[C:.*]]: index, %[[K:.*]]: index
// CHECK-DAG: %[[I:.*]] = arith.constant dense<[0, 288, 576, 864, 1152, {{.*}}, 18144]> : vector<64xi32>
// CHECK-DAG: %[[M:.*]] = vector.constant_mask [64] : vector<64xi1>
// CHECK: %[[G:.*]] = vector.gather %[[W]][%c0, %[[C]], %[[K]], %[[K]]] [%[[I]]], %[[M]], %{{.*}} : memref<64x32x3x3xf32>, vector<64xi32>, vector<64xi1>, vector<64xf32> into vector<64xf32>
// CHECK: %[[B:.*]] = vector.broadcast %[[G]] : vector<64xf32> to vector<1x1x1x64xf32>
// CHECK: return %[[B]]
func.func @gather_stride288(%w: memref<64x32x3x3xf32>, %c: index, %k: index) -> vector<1x1x1x64xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %w[%c0, %c, %k, %k], %pad {in_bounds = [true, true, true, true]} : memref<64x32x3x3xf32>, vector<64x1x1x1xf32>
  %r = vector.shape_cast %v : vector<64x1x1x1xf32> to vector<1x1x1x64xf32>
  return %r : vector<1x1x1x64xf32>
}

// -----

// Not gathered: a read used other than by a shape_cast to a row (its
// lanes stay where they are), and one of a memref whose last dimension is
// strided (vector.gather's lowering wants it contiguous).
// CHECK-LABEL: func.func @not_gathered(
// CHECK-NOT: vector.gather
// CHECK: return
func.func @not_gathered(%w: memref<64x32x3x3xf32>, %s: memref<64x9xf32, strided<[288, 2]>>) -> (vector<64x1x1x1xf32>, vector<1x64xf32>) {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %w[%c0, %c0, %c0, %c0], %pad {in_bounds = [true, true, true, true]} : memref<64x32x3x3xf32>, vector<64x1x1x1xf32>
  %u = vector.transfer_read %s[%c0, %c0], %pad {in_bounds = [true, true]} : memref<64x9xf32, strided<[288, 2]>>, vector<64x1xf32>
  %r = vector.shape_cast %u : vector<64x1xf32> to vector<1x64xf32>
  return %v, %r : vector<64x1x1x1xf32>, vector<1x64xf32>
}
