// RUN: nnc-opt %s -nn-plan-buffers -split-input-file | FileCheck %s

// Three temporaries in a chain: %a dies when %c is born, so %c reuses %a's
// bytes; %b overlaps both and gets its own place. 4 KiB + 4 KiB = 8 KiB.
// CHECK: memref.global "private" @chain_workspace : memref<8192xi8> = uninitialized {alignment = 64 : i64}
// CHECK-LABEL: func.func @chain(
// CHECK-SAME: attributes {nn.workspace_bytes = 8192 : i64}
// CHECK: %[[WS:.+]] = memref.get_global @chain_workspace : memref<8192xi8>
// CHECK-NOT: memref.alloc
// CHECK: %[[A:.+]] = memref.view %[[WS]][%[[OA:.+]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[B:.+]] = memref.view %[[WS]][%[[OB:.+]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: %[[C:.+]] = memref.view %[[WS]][%[[OA]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @chain(%in: memref<1024xf32>, %out: memref<1024xf32>) {
  %a = memref.alloc() : memref<1024xf32>
  %b = memref.alloc() : memref<1024xf32>
  %c = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%in : memref<1024xf32>) outs(%a : memref<1024xf32>)
  linalg.copy ins(%a : memref<1024xf32>) outs(%b : memref<1024xf32>)
  linalg.copy ins(%b : memref<1024xf32>) outs(%c : memref<1024xf32>)
  linalg.copy ins(%c : memref<1024xf32>) outs(%out : memref<1024xf32>)
  return
}

// -----

// A use through a view and inside a loop keeps the buffer alive until the
// loop: %t (used by the loop through a subview) and %u (written in the loop)
// never share bytes. Offsets are 64-byte aligned (100 floats = 400 bytes).
// CHECK: memref.global "private" @nested_workspace : memref<896xi8>
// CHECK-LABEL: func.func @nested(
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C448:.+]] = arith.constant 448 : index
// CHECK-DAG: memref.view %{{.+}}[%[[C0]]][] : memref<896xi8> to memref<100xf32>
// CHECK-DAG: memref.view %{{.+}}[%[[C448]]][] : memref<896xi8> to memref<100xf32>
func.func @nested(%in: memref<100xf32>, %out: memref<100xf32>) {
  %t = memref.alloc() : memref<100xf32>
  %u = memref.alloc() : memref<100xf32>
  linalg.copy ins(%in : memref<100xf32>) outs(%t : memref<100xf32>)
  %v = memref.subview %t[0] [50] [1] : memref<100xf32> to memref<50xf32, strided<[1]>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c50 = arith.constant 50 : index
  scf.for %i = %c0 to %c50 step %c1 {
    %x = memref.load %v[%i] : memref<50xf32, strided<[1]>>
    memref.store %x, %u[%i] : memref<100xf32>
  }
  linalg.copy ins(%u : memref<100xf32>) outs(%out : memref<100xf32>)
  return
}

// -----

// Returned buffers, dynamic shapes and non-identity layouts stay allocations.
// CHECK-LABEL: func.func @escapes(
// CHECK-NOT: nn.workspace_bytes
// CHECK: %[[R:.+]] = memref.alloc() : memref<8xf32>
// CHECK: memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: return %[[R]]
func.func @escapes(%n: index) -> memref<8xf32> {
  %r = memref.alloc() : memref<8xf32>
  %d = memref.alloc(%n) : memref<?xf32>
  %c0 = arith.constant 0 : index
  %x = memref.load %d[%c0] : memref<?xf32>
  memref.store %x, %r[%c0] : memref<8xf32>
  return %r : memref<8xf32>
}
