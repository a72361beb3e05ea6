// RUN: nnc-opt %s -split-input-file -nn-order-constants | FileCheck %s

// Bufferization named these constants in the order it visited the functions
// (which varies between runs): @late's first, @early's second. They are
// renamed by first use in the module (@early before @late) and moved to its
// start in that order; the constant of another type keeps its bare name, the
// workspace (not a bufferization constant) and its name stay, and the
// constant no one reads is erased.

// CHECK-LABEL: module {
// CHECK-NEXT:    memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]>
// CHECK-NEXT:    memref.global "private" constant @__constant_4xi8 : memref<4xi8> = dense<[1, 2, 3, 4]>
// CHECK-NEXT:    memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[3.000000e+00, 4.000000e+00]>
// CHECK-NEXT:    memref.global "private" @main_workspace : memref<64xi8> = uninitialized
// CHECK-NOT:     memref.global
// CHECK-LABEL: func.func @early(
// CHECK:         memref.get_global @__constant_2xf32 : memref<2xf32>
// CHECK:         memref.get_global @__constant_4xi8 : memref<4xi8>
// CHECK-LABEL: func.func @late(
// CHECK:         memref.get_global @__constant_2xf32_0 : memref<2xf32>
// CHECK:         memref.get_global @__constant_2xf32 : memref<2xf32>
module {
  memref.global "private" @main_workspace : memref<64xi8> = uninitialized
  memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<[3.0, 4.0]>
  memref.global "private" constant @__constant_2xf32_1 : memref<2xf32> = dense<[5.0, 6.0]>
  memref.global "private" constant @__constant_4xi8 : memref<4xi8> = dense<[1, 2, 3, 4]>
  memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[1.0, 2.0]>
  func.func @early() -> (memref<2xf32>, memref<4xi8>) {
    %0 = memref.get_global @__constant_2xf32_0 : memref<2xf32>
    %1 = memref.get_global @__constant_4xi8 : memref<4xi8>
    return %0, %1 : memref<2xf32>, memref<4xi8>
  }
  func.func @late() -> (memref<2xf32>, memref<2xf32>) {
    %0 = memref.get_global @__constant_2xf32 : memref<2xf32>
    %1 = memref.get_global @__constant_2xf32_0 : memref<2xf32>
    return %0, %1 : memref<2xf32>, memref<2xf32>
  }
}

// -----

// A nested symbol table's constants and readers are its own: the outer
// module's constant is renamed by its outer reader only, the inner ones keep
// their names.
// CHECK-LABEL: module {
// CHECK-NEXT:    memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<[7.000000e+00, 8.000000e+00]>
// CHECK:         module @inner {
// CHECK-NEXT:      memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[9.000000e+00, 1.000000e+01]>
// CHECK:           memref.get_global @__constant_2xf32_0 : memref<2xf32>
// CHECK-LABEL:   func.func @outer(
// CHECK:           memref.get_global @__constant_2xf32 : memref<2xf32>
module {
  module @inner {
    memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[9.0, 10.0]>
    func.func @reader() -> memref<2xf32> {
      %0 = memref.get_global @__constant_2xf32_0 : memref<2xf32>
      return %0 : memref<2xf32>
    }
  }
  memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<[7.0, 8.0]>
  func.func @outer() -> memref<2xf32> {
    %0 = memref.get_global @__constant_2xf32_0 : memref<2xf32>
    return %0 : memref<2xf32>
  }
}
