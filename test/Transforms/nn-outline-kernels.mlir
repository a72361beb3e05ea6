// RUN: nnc-opt %s -split-input-file -nn-outline-kernels | FileCheck %s

// Each top-level loop nest becomes a call; constants are cloned into the
// kernel, everything else it uses is passed. The two identical nests (over
// different buffers of the same type) share one kernel, also across
// functions; the nest over a buffer of another type gets its own.

// CHECK-LABEL: func.func @f(
// CHECK-SAME:    %[[X:.+]]: memref<16xf32>, %[[Y:.+]]: memref<16xf32>, %[[Z:.+]]: memref<16xf32>, %[[W:.+]]: memref<8xf32>)
// CHECK-NOT:     scf.for
// CHECK:         call @__nnc_kernel_0(%[[X]], %[[Y]])
// CHECK-NEXT:    call @__nnc_kernel_0(%[[Y]], %[[Z]])
// CHECK-NEXT:    call @__nnc_kernel_1(%[[W]])
// CHECK-NEXT:    return
// CHECK-LABEL: func.func private @__nnc_kernel_0(
// CHECK-SAME:    %[[A:.+]]: memref<16xf32>, %[[B:.+]]: memref<16xf32>)
// CHECK-SAME:    attributes {no_inline}
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK:         scf.for %[[I:.+]] = %[[C0]] to %[[C16]]
// CHECK:           memref.load %[[A]][%[[I]]]
// CHECK:           memref.store %{{.+}}, %[[B]][%[[I]]]
// CHECK:         return
// CHECK-LABEL: func.func private @__nnc_kernel_1(
// CHECK-SAME:    memref<8xf32>
// CHECK-LABEL: func.func @g(
// CHECK-NOT:     scf.for
// CHECK:         call @__nnc_kernel_0(
// CHECK-NOT:     func.func private
func.func @f(%x: memref<16xf32>, %y: memref<16xf32>, %z: memref<16xf32>, %w: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %x[%i] : memref<16xf32>
    memref.store %v, %y[%i] : memref<16xf32>
  }
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %y[%i] : memref<16xf32>
    memref.store %v, %z[%i] : memref<16xf32>
  }
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %w[%i] : memref<8xf32>
    memref.store %v, %w[%i] : memref<8xf32>
  }
  return
}
func.func @g(%x: memref<16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %x[%i] : memref<16xf32>
    memref.store %v, %y[%i] : memref<16xf32>
  }
  return
}

// -----

// A loop nest with results stays where it is; values computed outside the
// nest (not constants) are passed.

// CHECK-LABEL: func.func @results(
// CHECK:         %[[N:.+]] = arith.addi
// CHECK:         %[[S:.+]] = scf.for
// CHECK:         call @__nnc_kernel_0(%[[N]], %[[S]], %{{.+}})
// CHECK-LABEL: func.func private @__nnc_kernel_0(
// CHECK-SAME:    %{{.+}}: index, %{{.+}}: f32, %{{.+}}: memref<4xf32>)
func.func @results(%m: memref<4xf32>, %n0: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %n = arith.addi %n0, %c1 : index
  %s = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %m[%i] : memref<4xf32>
    %a = arith.addf %acc, %v : f32
    scf.yield %a : f32
  }
  scf.for %i = %c0 to %n step %c1 {
    memref.store %s, %m[%i] : memref<4xf32>
  }
  return
}
