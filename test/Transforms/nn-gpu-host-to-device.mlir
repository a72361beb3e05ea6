// RUN: nnc-opt %s -nn-gpu-host-to-device | FileCheck %s
// --target cuda: what the host still reads or writes after the loops became
// kernels goes into kernels of one thread. Here: a sum into a scalar buffer
// and the scalar scaled by an argument (one run), a kernel using the scaled
// value, and the entry point storing it into `out` (another run). The
// scaled value crosses kernels through a new one-element buffer: stored at
// the end of the kernel that computes it, loaded at the start of each user.
// Host-only work stays on the host: the allocation, constants, a product of
// arguments (captured by the kernel that uses it), the deallocation.

// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[X:.+]]: memref<64xf32>, %[[LR:.+]]: f32, %[[OUT:.+]]: memref<2xf32>)
// CHECK: %[[N:.+]] = arith.constant 8 : i64
// CHECK-NEXT: %[[RAW:.+]] = call @nnrt_cuda_scratch(%[[N]]) : (i64) -> memref<1xi8>
// CHECK-NEXT: %[[SCRATCH:.+]] = memref.reinterpret_cast %[[RAW]] to offset: [0], sizes: [8], strides: [1] : memref<1xi8> to memref<8xi8>
// CHECK-NEXT: %[[AT:.+]] = arith.constant 0 : index
// CHECK-NEXT: %[[SLOT:.+]] = memref.view %[[SCRATCH]][%[[AT]]][] : memref<8xi8> to memref<f32>
// CHECK: %[[SUM:.+]] = memref.alloc() : memref<f32>
// CHECK: %[[ONE:.+]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %[[ONE]], {{.+}} = %[[ONE]], {{.+}} = %[[ONE]]) threads({{.+}}) in ({{.+}} = %[[ONE]], {{.+}} = %[[ONE]], {{.+}} = %[[ONE]]) {
// CHECK-NEXT: memref.store %{{.+}}, %[[SUM]][] : memref<f32>
// CHECK-NEXT: scf.for
// CHECK: arith.addf
// CHECK-NEXT: memref.store
// CHECK-NEXT: }
// CHECK-NEXT: %[[TOTAL:.+]] = memref.load %[[SUM]][] : memref<f32>
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %[[TOTAL]], %[[LR]] : f32
// CHECK-NEXT: memref.store %[[SCALED]], %[[SLOT]][] : memref<f32>
// CHECK-NEXT: gpu.terminator
// CHECK: %[[LR2:.+]] = arith.mulf %[[LR]], %[[LR]] : f32
// CHECK-NEXT: gpu.launch
// CHECK-NEXT: %[[S1:.+]] = memref.load %[[SLOT]][] : memref<f32>
// CHECK-NEXT: %[[V:.+]] = memref.load %[[X]]
// CHECK-NEXT: %[[D:.+]] = arith.subf %[[V]], %[[S1]] : f32
// CHECK-NEXT: arith.mulf %[[D]], %[[LR2]] : f32
// CHECK: gpu.terminator
// CHECK: gpu.launch blocks({{.+}}) in ({{.+}} = %[[ONE2:.+]], {{.+}}) threads
// CHECK-NEXT: %[[S2:.+]] = memref.load %[[SLOT]][] : memref<f32>
// CHECK-NEXT: memref.store %[[S2]], %[[OUT]][%{{.+}}] : memref<2xf32>
// CHECK-NEXT: memref.store %[[LR]], %[[OUT]][%{{.+}}] : memref<2xf32>
// CHECK-NEXT: gpu.terminator
// CHECK: memref.dealloc %[[SUM]] : memref<f32>
// CHECK-NEXT: return
func.func @step(%x: memref<64xf32>, %lr: f32, %out: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %sum = memref.alloc() : memref<f32>
  memref.store %zero, %sum[] : memref<f32>
  scf.for %i = %c0 to %c64 step %c1 {
    %v = memref.load %x[%i] : memref<64xf32>
    %s = memref.load %sum[] : memref<f32>
    %n = arith.addf %s, %v : f32
    memref.store %n, %sum[] : memref<f32>
  }
  %total = memref.load %sum[] : memref<f32>
  %scaled = arith.mulf %total, %lr : f32
  %lr2 = arith.mulf %lr, %lr : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<64xf32>
    %d = arith.subf %v, %scaled : f32
    %e = arith.mulf %d, %lr2 : f32
    memref.store %e, %x[%tx] : memref<64xf32>
    gpu.terminator
  }
  memref.store %scaled, %out[%c0] : memref<2xf32>
  memref.store %lr, %out[%c1] : memref<2xf32>
  memref.dealloc %sum : memref<f32>
  return
}

// An embedding's row at a token id read on the device: the id crosses as an
// i64 (a buffer of index has no byte size to plan), and the subview it
// places moves into the kernel that reads it.
// CHECK-LABEL: func.func @embed(
// CHECK-SAME: %[[IDS:.+]]: memref<4xi32>, %[[TABLE:.+]]: memref<100x8xf32>, %[[OUT:.+]]: memref<8xf32>)
// CHECK: call @nnrt_cuda_scratch
// CHECK: %[[SLOT:.+]] = memref.view %{{.+}}[%{{.+}}][] : memref<8xi8> to memref<i64>
// CHECK-NOT: memref.subview
// CHECK: gpu.launch
// CHECK-NEXT: %[[ID:.+]] = memref.load %[[IDS]]
// CHECK-NEXT: %[[ROW:.+]] = arith.index_cast %[[ID]] : i32 to index
// CHECK-NEXT: %[[WIDE:.+]] = arith.index_cast %[[ROW]] : index to i64
// CHECK-NEXT: memref.store %[[WIDE]], %[[SLOT]][] : memref<i64>
// CHECK-NEXT: gpu.terminator
// CHECK: gpu.launch
// CHECK-NEXT: %[[L:.+]] = memref.load %[[SLOT]][] : memref<i64>
// CHECK-NEXT: %[[R:.+]] = arith.index_cast %[[L]] : i64 to index
// CHECK-NEXT: %[[VIEW:.+]] = memref.subview %[[TABLE]][%[[R]], 0] [1, 8] [1, 1]
// CHECK-NEXT: memref.load %[[VIEW]]
func.func @embed(%ids: memref<4xi32>, %table: memref<100x8xf32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %id = memref.load %ids[%c0] : memref<4xi32>
  %row = arith.index_cast %id : i32 to index
  %view = memref.subview %table[%row, 0] [1, 8] [1, 1] : memref<100x8xf32> to memref<8xf32, strided<[1], offset: ?>>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %v = memref.load %view[%tx] : memref<8xf32, strided<[1], offset: ?>>
    memref.store %v, %out[%tx] : memref<8xf32>
    gpu.terminator
  }
  return
}
