// RUN: nnc-opt %s -nn-gpu-kernel-buffer-bases -split-input-file -verify-diagnostics | FileCheck %s
// --target cuda: kernels take buffers as bare pointers, which carry no
// offset. A view at a run-time offset (a time step's row, an embedding's
// row at a token id) used in a launch goes in as its base buffer and its
// offset, and is rebuilt inside; views with static layouts (the whole
// buffer, a slice at a constant offset) go in as they are.

// CHECK-LABEL: func.func @rows(
// CHECK-SAME: %[[BUF:.+]]: memref<8x32xf32>, %[[T:.+]]: index)
// CHECK: %[[ROW:.+]] = memref.subview %[[BUF]][%[[T]], 0] [1, 32] [1, 1]
// CHECK: %[[FIXED:.+]] = memref.subview %[[BUF]][2, 0] [1, 32] [1, 1]
// CHECK: %[[BASE:.+]], %[[OFF:.+]], %{{.+}}, %{{.+}} = memref.extract_strided_metadata %[[ROW]]
// CHECK: gpu.launch
// CHECK-NEXT: %[[IN:.+]] = memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [32], strides: [1] : memref<f32> to memref<32xf32, strided<[1], offset: ?>>
// CHECK-NEXT: memref.load %[[IN]][%{{.+}}] : memref<32xf32, strided<[1], offset: ?>>
// CHECK-NEXT: memref.store %{{.+}}, %[[FIXED]][%{{.+}}] : memref<32xf32, strided<[1], offset: 64>>
// CHECK-NEXT: gpu.terminator
// CHECK-NOT: memref.extract_strided_metadata
func.func @rows(%buf: memref<8x32xf32>, %t: index) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %row = memref.subview %buf[%t, 0] [1, 32] [1, 1] : memref<8x32xf32> to memref<32xf32, strided<[1], offset: ?>>
  %fixed = memref.subview %buf[2, 0] [1, 32] [1, 1] : memref<8x32xf32> to memref<32xf32, strided<[1], offset: 64>>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c32, %v = %c1, %w = %c1) {
    %value = memref.load %row[%tx] : memref<32xf32, strided<[1], offset: ?>>
    memref.store %value, %fixed[%tx] : memref<32xf32, strided<[1], offset: 64>>
    gpu.terminator
  }
  return
}

// -----

// Dynamic strides travel as scalars too: a column of a matrix whose row
// length is known only at run time.
// CHECK-LABEL: func.func @column(
// CHECK: %[[BASE:.+]], %[[OFF:.+]], %{{.+}}, %[[STRIDE:.+]] = memref.extract_strided_metadata
// CHECK: gpu.launch
// CHECK-NEXT: memref.reinterpret_cast %[[BASE]] to offset: [%[[OFF]]], sizes: [4], strides: [%[[STRIDE]]]
func.func @column(%col: memref<4xf32, strided<[?], offset: ?>>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %value = memref.load %col[%tx] : memref<4xf32, strided<[?], offset: ?>>
    memref.store %value, %col[%tx] : memref<4xf32, strided<[?], offset: ?>>
    gpu.terminator
  }
  return
}

// -----

// A constant global (host memory) is read through the kernel's own
// get_global: outlining copies the global into the kernel's module.
memref.global "private" constant @eps : memref<f32> = dense<1.0e-05>
// CHECK-LABEL: func.func @constant(
// CHECK-NEXT: %[[C1:.+]] = arith.constant 1 : index
// CHECK-NEXT: memref.get_global @eps
// CHECK-NEXT: gpu.launch
// CHECK-NEXT: %[[OWN:.+]] = memref.get_global @eps : memref<f32>
// CHECK-NEXT: memref.load %[[OWN]][] : memref<f32>
func.func @constant(%out: memref<f32>) {
  %c1 = arith.constant 1 : index
  %eps = memref.get_global @eps : memref<f32>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %value = memref.load %eps[] : memref<f32>
    memref.store %value, %out[] : memref<f32>
    gpu.terminator
  }
  return
}

// -----

memref.global "private" @counter : memref<f32> = dense<0.0>
func.func @mutable(%out: memref<f32>) {
  %c1 = arith.constant 1 : index
  %g = memref.get_global @counter : memref<f32>
  // expected-error @+1 {{uses the mutable global @counter, which a kernel cannot reach}}
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %value = memref.load %g[] : memref<f32>
    memref.store %value, %out[] : memref<f32>
    gpu.terminator
  }
  return
}

// -----

func.func @dynamic(%buf: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{uses a buffer of dynamic shape ('memref<?xf32>'), which a kernel cannot take}}
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %value = memref.load %buf[%tx] : memref<?xf32>
    gpu.terminator
  }
  return
}
