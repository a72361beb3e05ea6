// RUN: nnc-opt %s -split-input-file -nn-outline-kernels=segment-ops=8 | FileCheck %s

// A function of more than segment-ops operations: its allocations and views
// move to its start, the rest becomes calls of segments of at most 8
// operations (loop nests are kernel calls by then), each taking the values
// it uses (constants cloned) and returning the non-memref values later
// segments use. The kernel takes the arena slot as its base buffer (a view
// of the prologue) and its offset.

// CHECK-LABEL: func.func @big(
// CHECK-SAME:    %[[ARENA:[^:]+]]: memref<64xf32>, %[[X:[^:]+]]: f32)
// CHECK:         %[[A:.+]] = memref.alloca() : memref<4xf32>
// CHECK-NEXT:    %[[V:.+]] = memref.reinterpret_cast %[[ARENA]] to offset: [8]
// CHECK-NEXT:    %[[BASE:[^,]+]], %{{.+}} = memref.extract_strided_metadata %[[V]]
// CHECK-NEXT:    arith.constant 8 : index
// CHECK-NEXT:    %[[B:.+]] = memref.alloca() : memref<4xf32>
// CHECK-NEXT:    %[[S:.+]]:2 = call @__nnc_segment_0(%[[X]], %[[A]], %[[BASE]])
// CHECK-NEXT:    call @__nnc_segment_1(%[[V]], %[[S]]#1, %[[S]]#0, %[[B]])
// CHECK-NEXT:    return
// CHECK-LABEL: func.func private @__nnc_segment_0(
// CHECK-SAME:    %{{.+}}: f32, %{{.+}}: memref<4xf32>, %{{.+}}: memref<f32>) -> (f32, f32)
// CHECK-SAME:    attributes {no_inline}
// CHECK:         arith.constant 0 : index
// CHECK:         %[[OFFSET:.+]] = arith.constant 8 : index
// CHECK:         call @__nnc_kernel_0(%{{.+}}, %{{.+}}, %[[OFFSET]])
// CHECK:         return %{{.+}}, %{{.+}} : f32, f32
// CHECK-LABEL: func.func private @__nnc_segment_1(
// CHECK-SAME:    %{{.+}}: memref<4xf32, strided<[1], offset: 8>>, %{{.+}}: f32, %{{.+}}: f32, %{{.+}}: memref<4xf32>)
// CHECK:         memref.load
// CHECK:         memref.store
// CHECK-LABEL: func.func private @__nnc_kernel_0(
func.func @big(%arena: memref<64xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloca() : memref<4xf32>
  %x1 = arith.addf %x, %x : f32
  %x2 = arith.mulf %x1, %x1 : f32
  %x3 = arith.addf %x2, %x : f32
  memref.store %x3, %a[%c0] : memref<4xf32>
  %x4 = arith.mulf %x3, %x3 : f32
  %x5 = arith.addf %x4, %x : f32
  %x6 = arith.mulf %x5, %x5 : f32
  %v = memref.reinterpret_cast %arena to offset: [8], sizes: [4], strides: [1] : memref<64xf32> to memref<4xf32, strided<[1], offset: 8>>
  scf.for %i = %c0 to %c4 step %c1 {
    %e = memref.load %a[%i] : memref<4xf32>
    memref.store %e, %v[%i] : memref<4xf32, strided<[1], offset: 8>>
  }
  %y = memref.load %v[%c1] : memref<4xf32, strided<[1], offset: 8>>
  %y1 = arith.addf %y, %x6 : f32
  %b = memref.alloca() : memref<4xf32>
  %y2 = arith.mulf %y1, %x2 : f32
  memref.store %y2, %b[%c0] : memref<4xf32>
  return
}

// -----

// A function below the limit, and one that computes a memref (here a loop
// result) outside the prologue, stay as they are.

// CHECK-LABEL: func.func @small(
// CHECK-NOT:     call
// CHECK:         return
// CHECK-LABEL: func.func @loop_memref(
// CHECK-NOT:     call
// CHECK:         return
// CHECK-NOT:     __nnc_segment
func.func @small(%x: f32, %m: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %x1 = arith.addf %x, %x : f32
  memref.store %x1, %m[%c0] : memref<4xf32>
  return
}
func.func @loop_memref(%x: f32, %m: memref<4xf32>, %n: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%cur = %m) -> memref<4xf32> {
    scf.yield %n : memref<4xf32>
  }
  %x1 = arith.addf %x, %x : f32
  %x2 = arith.mulf %x1, %x1 : f32
  %x3 = arith.addf %x2, %x : f32
  %x4 = arith.mulf %x3, %x3 : f32
  %x5 = arith.addf %x4, %x : f32
  %x6 = arith.mulf %x5, %x5 : f32
  %x7 = arith.addf %x6, %x : f32
  memref.store %x7, %r[%c0] : memref<4xf32>
  return
}
