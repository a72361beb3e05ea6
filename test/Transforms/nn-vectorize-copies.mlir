// RUN: nnc-opt %s -split-input-file -nn-vectorize-copies | FileCheck %s

// A 28x28 image copied into the inside of its zero-padded 30x30 buffer:
// a loop over its 28 rows, each copied as one vector<28> (no scalar loop
// per row, no remainder).
// CHECK-LABEL: func.func @padded_rows(
// CHECK-SAME: %[[A:.*]]: memref<1x1x28x28xf32, strided<[784, 784, 28, 1], offset: ?>>, %[[B:.*]]: memref<1x1x28x28xf32, strided<[900, 900, 30, 1], offset: 31>>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C28:.*]] = arith.constant 28 : index
// CHECK: scf.for %[[I:.*]] = %[[C0]] to %[[C28]] step %[[C1]] {
// CHECK-NEXT: %[[V:.*]] = vector.load %[[A]][%[[C0]], %[[C0]], %[[I]], %[[C0]]] : memref<1x1x28x28xf32, strided<[784, 784, 28, 1], offset: ?>>, vector<28xf32>
// CHECK-NEXT: vector.store %[[V]], %[[B]][%[[C0]], %[[C0]], %[[I]], %[[C0]]] : memref<1x1x28x28xf32, strided<[900, 900, 30, 1], offset: 31>>, vector<28xf32>
// CHECK-NEXT: }
// CHECK-NOT: linalg.copy
func.func @padded_rows(%a: memref<1x1x28x28xf32, strided<[784, 784, 28, 1], offset: ?>>, %b: memref<1x1x28x28xf32, strided<[900, 900, 30, 1], offset: 31>>) {
  linalg.copy ins(%a : memref<1x1x28x28xf32, strided<[784, 784, 28, 1], offset: ?>>) outs(%b : memref<1x1x28x28xf32, strided<[900, 900, 30, 1], offset: 31>>)
  return
}

// -----

// Contiguous on both sides: the dimensions collapse into one row of 640
// elements, copied by a loop of ten 64-element (256-byte) chunks, with
// nothing left over.
// CHECK-LABEL: func.func @contiguous(
// CHECK-SAME: %[[A:.*]]: memref<64x10xf32>, %[[B:.*]]: memref<64x10xf32, strided<[10, 1], offset: ?>>
// CHECK: %[[CA:.*]] = memref.collapse_shape %[[A]] {{\[}}[0, 1]] : memref<64x10xf32> into memref<640xf32>
// CHECK: %[[CB:.*]] = memref.collapse_shape %[[B]] {{\[}}[0, 1]] : memref<64x10xf32, strided<[10, 1], offset: ?>> into memref<640xf32, strided<[1], offset: ?>>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C640:.*]] = arith.constant 640 : index
// CHECK: scf.for %[[J:.*]] = %[[C0]] to %[[C640]] step %[[C64]] {
// CHECK-NEXT: %[[V:.*]] = vector.load %[[CA]][%[[J]]] : memref<640xf32>, vector<64xf32>
// CHECK-NEXT: vector.store %[[V]], %[[CB]][%[[J]]] : memref<640xf32, strided<[1], offset: ?>>, vector<64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @contiguous(%a: memref<64x10xf32>, %b: memref<64x10xf32, strided<[10, 1], offset: ?>>) {
  linalg.copy ins(%a : memref<64x10xf32>) outs(%b : memref<64x10xf32, strided<[10, 1], offset: ?>>)
  return
}

// -----

// Rows of 14 bytes (the int8 library's quantized activations): 16 rows of
// one vector<14xi8> each; a row of 300 floats: 4 whole chunks of 64 in a
// loop and a vector<44> for the rest.
// CHECK-LABEL: func.func @bytes_and_remainder(
// CHECK: scf.for %[[I:.*]] =
// CHECK-NEXT: vector.load %{{.*}}[%[[I]], %{{.*}}] : memref<16x14xi8, strided<[32, 1]>>, vector<14xi8>
// CHECK-NEXT: vector.store
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %[[C256]] step %{{.*}} {
// CHECK-NEXT: vector.load %{{.*}}[%[[J]]] : memref<300xf32>, vector<64xf32>
// CHECK: vector.load %{{.*}}[%[[C256]]] : memref<300xf32>, vector<44xf32>
func.func @bytes_and_remainder(%a: memref<16x14xi8, strided<[32, 1]>>, %b: memref<16x14xi8>, %x: memref<300xf32>, %y: memref<300xf32>) {
  linalg.copy ins(%a : memref<16x14xi8, strided<[32, 1]>>) outs(%b : memref<16x14xi8>)
  linalg.copy ins(%x : memref<300xf32>) outs(%y : memref<300xf32>)
  return
}

// -----

// Left to convert-linalg-to-loops: a transposing copy (stride 784 in the
// last dimension), dynamic shapes, a copy of one element.
// CHECK-LABEL: func.func @unchanged(
// CHECK-COUNT-3: linalg.copy
// CHECK-NOT: vector.load
func.func @unchanged(%a: memref<16x16xf32, strided<[1, 784]>>, %b: memref<16x16xf32>, %c: memref<?x16xf32>, %d: memref<?x16xf32>, %e: memref<1xf32>, %f: memref<1xf32>) {
  linalg.copy ins(%a : memref<16x16xf32, strided<[1, 784]>>) outs(%b : memref<16x16xf32>)
  linalg.copy ins(%c : memref<?x16xf32>) outs(%d : memref<?x16xf32>)
  linalg.copy ins(%e : memref<1xf32>) outs(%f : memref<1xf32>)
  return
}
