// RUN: nnc-opt %s -split-input-file -nn-outline-kernels | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-outline-kernels=serial | FileCheck %s --check-prefix=SERIAL

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

// -----

// A parallel loop's body becomes a kernel of (chunk, captured...) that
// computes its induction variable (lb + chunk * step) and keeps the body's
// stack buffer (one per chunk); the loop becomes a call of a launcher
// declaration for nn-generate-launchers (chunks: ceil((ub - lb) / step)).
// Identical bodies share a kernel and a launcher; a nest around a parallel
// loop becomes a kernel that calls the launcher.

// With serial (nnc-cpu-codegen's parallel-chunks=0: code that does not
// call the runtime), the parallel loop becomes a loop over its chunks
// calling the same kernel, and no launcher is declared.
// SERIAL-LABEL: func.func @p(
// SERIAL-SAME:    %[[X:[^:]+]]: memref<64x16xf32>, %[[Y:[^:]+]]: memref<64x16xf32>, %[[Z:[^:]+]]: memref<64x16xf32>, %[[S:[^:]+]]: f32)
// SERIAL-NOT:     scf.forall
// SERIAL:         call @__nnc_kernel_2(%[[X]], %[[Y]])
// SERIAL:         call @__nnc_kernel_2(%[[Y]], %[[Z]])
// SERIAL:         call @__nnc_kernel_3(%[[S]], %[[Z]])
// SERIAL-NEXT:    return
// SERIAL-LABEL: func.func private @__nnc_kernel_0(
// SERIAL-SAME:    %{{.+}}: index, %{{.+}}: memref<64x16xf32>, %{{.+}}: memref<64x16xf32>)
// SERIAL:         memref.alloca() : memref<8x16xf32>
// SERIAL-LABEL: func.func private @__nnc_kernel_2(
// SERIAL-SAME:    %[[A:[^:]+]]: memref<64x16xf32>, %[[B:[^:]+]]: memref<64x16xf32>)
// SERIAL-DAG:     %[[C0:.+]] = arith.constant 0 : index
// SERIAL-DAG:     %[[C8:.+]] = arith.constant 8 : index
// SERIAL-DAG:     %[[C1:.+]] = arith.constant 1 : index
// SERIAL:         scf.for %[[I:.+]] = %[[C0]] to %[[C8]] step %[[C1]]
// SERIAL-NEXT:      func.call @__nnc_kernel_0(%[[I]], %[[A]], %[[B]])
// SERIAL-NOT:     __nnc_parallel
// CHECK-LABEL: func.func @p(
// CHECK-SAME:    %[[X:[^:]+]]: memref<64x16xf32>, %[[Y:[^:]+]]: memref<64x16xf32>, %[[Z:[^:]+]]: memref<64x16xf32>, %[[S:[^:]+]]: f32)
// CHECK-NOT:     scf.forall
// CHECK:         call @__nnc_parallel_0(%[[X]], %[[Y]])
// CHECK-NEXT:    call @__nnc_parallel_0(%[[Y]], %[[Z]])
// CHECK-NOT:     scf.for
// CHECK:         call @__nnc_kernel_2(%[[S]], %[[Z]])
// CHECK-NEXT:    return
// CHECK-LABEL: func.func private @__nnc_kernel_0(
// CHECK-SAME:    %[[C:[^:]+]]: index, %[[A:[^:]+]]: memref<64x16xf32>, %[[B:[^:]+]]: memref<64x16xf32>)
// CHECK-SAME:    attributes {no_inline}
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[OFF:.+]] = arith.muli %[[C]], %[[C8]]
// CHECK:         %[[IV:.+]] = arith.addi %[[C0]], %[[OFF]]
// CHECK:         memref.alloca() : memref<8x16xf32>
// CHECK:         memref.subview %[[A]][%[[IV]], 0] [8, 16] [1, 1]
// CHECK:         memref.subview %[[B]][%[[IV]], 0] [8, 16] [1, 1]
// CHECK:         return
// CHECK:       func.func private @__nnc_parallel_0(memref<64x16xf32>, memref<64x16xf32>)
// CHECK-SAME:    attributes {nn.parallel_body = @__nnc_kernel_0, nn.parallel_chunks = 8 : i64}
// CHECK-LABEL: func.func private @__nnc_kernel_1(
// CHECK-SAME:    %{{.+}}: index, %{{.+}}: f32, %{{.+}}: memref<64x16xf32>, %{{.+}}: index)
// CHECK-DAG:     arith.constant 31 : index
// CHECK-DAG:     arith.constant 2 : index
// CHECK:         memref.store
// CHECK:       func.func private @__nnc_parallel_1(f32, memref<64x16xf32>, index)
// CHECK-SAME:    attributes {nn.parallel_body = @__nnc_kernel_1, nn.parallel_chunks = 2 : i64}
// CHECK-LABEL: func.func private @__nnc_kernel_2(
// CHECK-SAME:    %[[S2:[^:]+]]: f32, %[[Z2:[^:]+]]: memref<64x16xf32>)
// CHECK:         scf.for %[[K:.+]] = 
// CHECK-NEXT:      call @__nnc_parallel_1(%[[S2]], %[[Z2]], %[[K]])
func.func @p(%x: memref<64x16xf32>, %y: memref<64x16xf32>, %z: memref<64x16xf32>, %s: f32) {
  scf.forall (%i) = (0) to (64) step (8) {
    %t = memref.alloca() : memref<8x16xf32>
    %sx = memref.subview %x[%i, 0] [8, 16] [1, 1] : memref<64x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
    %sy = memref.subview %y[%i, 0] [8, 16] [1, 1] : memref<64x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
    memref.copy %sx, %t : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<8x16xf32>
    memref.copy %t, %sy : memref<8x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
  }
  scf.forall (%i) = (0) to (64) step (8) {
    %t = memref.alloca() : memref<8x16xf32>
    %sx = memref.subview %y[%i, 0] [8, 16] [1, 1] : memref<64x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
    %sy = memref.subview %z[%i, 0] [8, 16] [1, 1] : memref<64x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
    memref.copy %sx, %t : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<8x16xf32>
    memref.copy %t, %sy : memref<8x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
  }
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %k = %c0 to %c4 step %c1 {
    scf.forall (%i) = (2) to (64) step (31) {
      memref.store %s, %z[%i, %k] : memref<64x16xf32>
    }
  }
  return
}

// -----

// A view at a loop's step (dynamic offset, as a recurrent layer's step
// slices) cannot cross the bare-pointer convention: the call passes its base
// buffer and offset, and the kernel rebuilds the view. The loop carrying a
// value stays; the parallel loop inside it becomes a launcher of a kernel.
// CHECK-LABEL: func.func @steps(
// CHECK-SAME:    %[[SEQ:.+]]: memref<4x6x8xf32>, %[[OUT:.+]]: memref<4x8xf32>)
// CHECK:         scf.for %[[T:[a-z0-9_]+]] = 
// CHECK:           %[[V:.+]] = memref.subview %[[SEQ]][0, %[[T]], 0] [4, 1, 8] [1, 1, 1]
// CHECK:           %[[BASE:.+]], %[[OFF:.+]], %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %[[V]]
// CHECK:           call @__nnc_parallel_0(%[[BASE]], %[[OFF]], %[[OUT]]) : (memref<f32>, index, memref<4x8xf32>) -> ()
// CHECK-LABEL: func.func private @__nnc_kernel_0(
// CHECK-SAME:    %[[I:.+]]: index, %[[B:.+]]: memref<f32>, %[[O:.+]]: index, %[[D:.+]]: memref<4x8xf32>)
// CHECK:         memref.reinterpret_cast %[[B]] to offset: [%[[O]]], sizes: [4, 8], strides: [48, 1] : memref<f32> to memref<4x8xf32, strided<[48, 1], offset: ?>>
// CHECK-LABEL: func.func private @__nnc_parallel_0(
// CHECK-SAME:    memref<f32>, index, memref<4x8xf32>)
// CHECK-SAME:    nn.parallel_body = @__nnc_kernel_0, nn.parallel_chunks = 2 : i64
func.func @steps(%seq: memref<4x6x8xf32>, %out: memref<4x8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c6 = arith.constant 6 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %t = %c0 to %c6 step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.subview %seq[0, %t, 0] [4, 1, 8] [1, 1, 1] : memref<4x6x8xf32> to memref<4x8xf32, strided<[48, 1], offset: ?>>
    scf.forall (%i) = (0) to (4) step (2) {
      %row = memref.load %v[%i, %c0] : memref<4x8xf32, strided<[48, 1], offset: ?>>
      memref.store %row, %out[%i, %c0] : memref<4x8xf32>
    }
    %x = memref.load %out[%c0, %c0] : memref<4x8xf32>
    %s = arith.addf %acc, %x : f32
    scf.yield %s : f32
  }
  return %r : f32
}

// -----

// Two nests over slots of an arena at different static offsets (the layers
// of a `repeat`) share one kernel: it takes each slot's base buffer and its
// offset, and its subviews and reshapes of the slot follow with a dynamic
// offset. A view that another view op takes (here a transpose) stays a
// memref of its own.

// CHECK-LABEL: func.func @slots(
// CHECK-SAME:    %[[ARENA:[^:]+]]: memref<64xf32>, %[[OUT:[^:]+]]: memref<4x2xf32>)
// CHECK:         %[[V1:.+]] = memref.reinterpret_cast %[[ARENA]] to offset: [8]
// CHECK:         %[[B1:[^,]+]], %{{.+}} = memref.extract_strided_metadata %[[V1]]
// CHECK:         %[[C8:.+]] = arith.constant 8 : index
// CHECK:         call @__nnc_kernel_0(%[[B1]], %[[C8]], %[[OUT]])
// CHECK:         %[[V2:.+]] = memref.reinterpret_cast %[[ARENA]] to offset: [24]
// CHECK:         %[[B2:[^,]+]], %{{.+}} = memref.extract_strided_metadata %[[V2]]
// CHECK:         %[[C24:.+]] = arith.constant 24 : index
// CHECK:         call @__nnc_kernel_0(%[[B2]], %[[C24]], %[[OUT]])
// CHECK:         %[[V3:.+]] = memref.reinterpret_cast %[[ARENA]] to offset: [40]
// CHECK:         call @__nnc_kernel_1(%[[V3]])
// CHECK-LABEL: func.func private @__nnc_kernel_0(
// CHECK-SAME:    %[[BASE:[^:]+]]: memref<f32>, %[[OFF:[^:]+]]: index, %{{.+}}: memref<4x2xf32>)
// CHECK:         %[[SLOT:.+]] = memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [8], strides: [1] : memref<f32> to memref<8xf32, strided<[1], offset: ?>>
// CHECK:         memref.expand_shape %[[SLOT]] {{.+}} : memref<8xf32, strided<[1], offset: ?>> into memref<4x2xf32, strided<[2, 1], offset: ?>>
// CHECK:         memref.subview {{.+}} to memref<2xf32, strided<[1], offset: ?>>
// CHECK-LABEL: func.func private @__nnc_kernel_1(
// CHECK-SAME:    memref<8xf32, strided<[1], offset: 40>>
func.func @slots(%arena: memref<64xf32>, %out: memref<4x2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.reinterpret_cast %arena to offset: [8], sizes: [8], strides: [1] : memref<64xf32> to memref<8xf32, strided<[1], offset: 8>>
  scf.for %i = %c0 to %c4 step %c1 {
    %e = memref.expand_shape %a [[0, 1]] output_shape [4, 2] : memref<8xf32, strided<[1], offset: 8>> into memref<4x2xf32, strided<[2, 1], offset: 8>>
    %row = memref.subview %e[%i, 0] [1, 2] [1, 1] : memref<4x2xf32, strided<[2, 1], offset: 8>> to memref<2xf32, strided<[1], offset: ?>>
    %v = memref.load %row[%c0] : memref<2xf32, strided<[1], offset: ?>>
    memref.store %v, %out[%i, %c0] : memref<4x2xf32>
  }
  %b = memref.reinterpret_cast %arena to offset: [24], sizes: [8], strides: [1] : memref<64xf32> to memref<8xf32, strided<[1], offset: 24>>
  scf.for %i = %c0 to %c4 step %c1 {
    %e = memref.expand_shape %b [[0, 1]] output_shape [4, 2] : memref<8xf32, strided<[1], offset: 24>> into memref<4x2xf32, strided<[2, 1], offset: 24>>
    %row = memref.subview %e[%i, 0] [1, 2] [1, 1] : memref<4x2xf32, strided<[2, 1], offset: 24>> to memref<2xf32, strided<[1], offset: ?>>
    %v = memref.load %row[%c0] : memref<2xf32, strided<[1], offset: ?>>
    memref.store %v, %out[%i, %c0] : memref<4x2xf32>
  }
  %t = memref.reinterpret_cast %arena to offset: [40], sizes: [8], strides: [1] : memref<64xf32> to memref<8xf32, strided<[1], offset: 40>>
  scf.for %i = %c0 to %c4 step %c1 {
    %e = memref.expand_shape %t [[0, 1]] output_shape [4, 2] : memref<8xf32, strided<[1], offset: 40>> into memref<4x2xf32, strided<[2, 1], offset: 40>>
    %tr = memref.transpose %e (d0, d1) -> (d1, d0) : memref<4x2xf32, strided<[2, 1], offset: 40>> to memref<2x4xf32, strided<[1, 2], offset: 40>>
    %v = memref.load %tr[%c0, %i] : memref<2x4xf32, strided<[1, 2], offset: 40>>
    memref.store %v, %t[%i] : memref<8xf32, strided<[1], offset: 40>>
  }
  return
}
