// RUN: nnc-opt %s -nn-lower-int8-gemm | FileCheck %s
// RUN: nnc-opt %s -nn-lower-int8-gemm=vnni=false | FileCheck %s --check-prefix=NOVNNI
// nn-quantize's int8 GEMMs on buffers. @gemm (dense's form), C[5, 32] +=
// A[5, 3, 4] (u8, the rows) x B[3, 32, 4] (s8, the columns): columns in
// blocks of 2 vectors of 16 (outer), rows in tiles of 4, then the last row
// alone; over k, 64 bytes per column vector, 4 bytes of each row broadcast,
// one vpdpbusd(acc, u8, s8) per accumulator, the accumulators loaded from C
// before and stored after. @conv (conv2d's form): the s8 filters are the
// rows and the u8 positions the columns (the vpdpbusd operands swap), and
// C's zero fill goes: the accumulators start from zeros. Without VNNI the
// ops stay (linalg-to-loops makes them scalar).

// CHECK-LABEL: func.func @gemm(
// CHECK-SAME: %[[A:.+]]: memref<5x3x4xi8>, %[[B:.+]]: memref<3x32x4xi8>, %[[C:.+]]: memref<5x32xi32>)
// CHECK: %[[B2:.+]] = memref.collapse_shape %[[B]] {{\[}}[0], [1, 2]] : memref<3x32x4xi8> into memref<3x128xi8>
// CHECK: scf.for %[[N:.+]] = %c0{{.*}} to %c32{{.*}} step %c32
// CHECK: scf.for %[[M:.+]] = %c0{{.*}} to %c4{{.*}} step %c4
// CHECK-COUNT-8: vector.load %[[C]][{{.+}}] : memref<5x32xi32>, vector<16xi32>
// CHECK: scf.for %[[K:.+]] = %c0{{.*}} to %c3{{.*}} step %c1{{.*}} iter_args(
// CHECK: %[[V0:.+]] = vector.load %[[B2]][%[[K]], {{.+}}] : memref<3x128xi8>, vector<64xi8>
// CHECK: %[[W0:.+]] = vector.bitcast %[[V0]] : vector<64xi8> to vector<16xi32>
// CHECK: vector.load %[[B2]][%[[K]], {{.+}}] : memref<3x128xi8>, vector<64xi8>
// CHECK: vector.load %[[A]][%[[M]], %[[K]], %c0{{.*}}] : memref<5x3x4xi8>, vector<4xi8>
// CHECK: vector.bitcast {{.+}} : vector<4xi8> to vector<1xi32>
// CHECK: %[[ROW:.+]] = vector.broadcast {{.+}} : i32 to vector<16xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.+}}, %[[ROW]], %[[W0]]) : (vector<16xi32>, vector<16xi32>, vector<16xi32>) -> vector<16xi32>
// CHECK-COUNT-7: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: scf.yield
// CHECK-COUNT-8: vector.store {{.+}}, %[[C]][{{.+}}] : memref<5x32xi32>, vector<16xi32>
// The last row.
// CHECK: scf.for %{{.+}} = %c4{{.*}} to %c5{{.*}} step %c1
// CHECK-COUNT-2: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: linalg.generic

// CHECK-LABEL: func.func @conv(
// CHECK-NOT: linalg.fill
// CHECK: %[[ZERO:.+]] = arith.constant dense<0> : vector<16xi32>
// CHECK-NOT: vector.load %{{.+}} : memref<4x64xi32>
// CHECK: scf.for {{.+}} iter_args(%[[ACC:[^ ]+]] = %[[ZERO]],
// CHECK: %[[COLS:.+]] = vector.bitcast %{{.+}} : vector<64xi8> to vector<16xi32>
// CHECK: %[[FILTER:.+]] = vector.broadcast {{.+}} : i32 to vector<16xi32>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[ACC]], %[[COLS]], %[[FILTER]])

// NOVNNI: linalg.generic
// NOVNNI-SAME: nn.int8_gemm
// NOVNNI-NOT: vpdpbusd

#a = affine_map<(m, o, k, j) -> (m, k, j)>
#b = affine_map<(m, o, k, j) -> (k, o, j)>
#c = affine_map<(m, o, k, j) -> (m, o)>
func.func @gemm(%a: memref<5x3x4xi8>, %b: memref<3x32x4xi8>, %c: memref<5x32xi32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%a, %b : memref<5x3x4xi8>, memref<3x32x4xi8>) outs(%c : memref<5x32xi32>) attrs = {nn.int8_gemm} {
  ^bb0(%x: i8, %w: i8, %acc: i32):
    %xi = arith.extui %x : i8 to i32
    %wi = arith.extsi %w : i8 to i32
    %p = arith.muli %xi, %wi : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  }
  return
}

func.func @conv(%cols: memref<2x64x4xi8>, %w: memref<4x2x4xi8>, %c: memref<4x64xi32>) {
  %zero = arith.constant 0 : i32
  linalg.fill ins(%zero : i32) outs(%c : memref<4x64xi32>)
  linalg.generic {indexing_maps = [#b, #a, #c], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%cols, %w : memref<2x64x4xi8>, memref<4x2x4xi8>) outs(%c : memref<4x64xi32>) attrs = {nn.int8_gemm} {
  ^bb0(%x: i8, %f: i8, %acc: i32):
    %xi = arith.extui %x : i8 to i32
    %fi = arith.extsi %f : i8 to i32
    %p = arith.muli %xi, %fi : i32
    %s = arith.addi %acc, %p : i32
    linalg.yield %s : i32
  }
  return
}
