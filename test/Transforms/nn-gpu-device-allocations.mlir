// RUN: nnc-opt %s -nn-gpu-device-allocations -split-input-file -verify-diagnostics | FileCheck %s
// --target cuda: the buffers nn-plan-buffers cannot place (a loop's new
// buffer at every iteration) come from the runtime's device allocator and
// go back to it; the deallocation's own lists (index, i1) stay host memory;
// calls passing buffers of dynamic size (its helper) are inlined.

// CHECK-LABEL: func.func @loop(
// CHECK: scf.for
// CHECK: %[[N:.+]] = arith.constant 256 : i64
// CHECK-NEXT: %[[RAW:.+]] = func.call @nnrt_cuda_alloc(%[[N]]) : (i64) -> memref<1xi8>
// CHECK-NEXT: %[[BYTES:.+]] = memref.reinterpret_cast %[[RAW]] to offset: [0], sizes: [256], strides: [1] : memref<1xi8> to memref<256xi8>
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK-NEXT: %[[BUF:.+]] = memref.view %[[BYTES]][%[[ZERO]]][] : memref<256xi8> to memref<8x8xf32>
// CHECK: %[[P:.+]] = memref.extract_aligned_pointer_as_index %{{.+}} : memref<8x8xf32> -> index
// CHECK-NEXT: %[[A:.+]] = arith.index_cast %[[P]] : index to i64
// CHECK-NEXT: func.call @nnrt_cuda_free(%[[A]]) : (i64) -> ()
// CHECK: %[[LIST:.+]] = memref.alloc() : memref<2xindex>
// CHECK-NEXT: %[[DYN:.+]] = memref.cast %[[LIST]]
// CHECK-NOT: call @helper
// CHECK: memref.load %[[DYN]]
// CHECK: memref.dealloc %[[LIST]] : memref<2xindex>
// CHECK-NOT: func.func private @helper
// CHECK: func.func private @nnrt_cuda_alloc(i64) -> memref<1xi8>
// CHECK: func.func private @nnrt_cuda_free(i64)
func.func @loop(%init: memref<8x8xf32>, %out: memref<index>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (memref<8x8xf32>) {
    %next = memref.alloc() : memref<8x8xf32>
    linalg.copy ins(%acc : memref<8x8xf32>) outs(%next : memref<8x8xf32>)
    memref.dealloc %acc : memref<8x8xf32>
    scf.yield %next : memref<8x8xf32>
  }
  %list = memref.alloc() : memref<2xindex>
  %dyn = memref.cast %list : memref<2xindex> to memref<?xindex>
  call @helper(%dyn, %out) : (memref<?xindex>, memref<index>) -> ()
  memref.dealloc %list : memref<2xindex>
  return
}
func.func private @helper(%l: memref<?xindex>, %o: memref<index>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %l[%c0] : memref<?xindex>
  memref.store %v, %o[] : memref<index>
  return
}

// -----

func.func @dynamic(%n: index) {
  // expected-error @+1 {{'memref.alloc' op --target cuda: a buffer of dynamic shape or with a layout; device code cannot allocate it}}
  %d = memref.alloc(%n) : memref<?xf32>
  return
}
