// RUN: nnc-opt %s -nn-plan-buffers=argument -split-input-file -verify-diagnostics | FileCheck %s
// --target cuda (`argument`): the workspace is the caller's (device) memory,
// a new last argument, not a global.

// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @device(
// CHECK-SAME: %{{.+}}: memref<1024xf32>, %{{.+}}: memref<1024xf32>, %[[WS:.+]]: memref<8192xi8>)
// CHECK-SAME: attributes {nn.workspace_bytes = 8192 : i64}
// CHECK-NOT: memref.alloc
// CHECK: %[[A:.+]] = memref.view %[[WS]][%[[OA:.+]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.view %[[WS]][%{{.+}}][] : memref<8192xi8> to memref<1024xf32>
// CHECK: memref.view %[[WS]][%[[OA]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @device(%in: memref<1024xf32>, %out: memref<1024xf32>) {
  %a = memref.alloc() : memref<1024xf32>
  %b = memref.alloc() : memref<1024xf32>
  %c = memref.alloc() : memref<1024xf32>
  linalg.copy ins(%in : memref<1024xf32>) outs(%a : memref<1024xf32>)
  linalg.copy ins(%a : memref<1024xf32>) outs(%b : memref<1024xf32>)
  memref.dealloc %a : memref<1024xf32>
  linalg.copy ins(%b : memref<1024xf32>) outs(%c : memref<1024xf32>)
  memref.dealloc %b : memref<1024xf32>
  linalg.copy ins(%c : memref<1024xf32>) outs(%out : memref<1024xf32>)
  memref.dealloc %c : memref<1024xf32>
  return
}

// -----

// A buffer of dynamic shape is left to nn-gpu-device-allocations.
// CHECK-LABEL: func.func @dynamic(
// CHECK: memref.alloc(%{{.+}}) : memref<?xf32>
func.func @dynamic(%n: index) {
  %t = memref.alloc() : memref<8xf32>
  %d = memref.alloc(%n) : memref<?xf32>
  %c0 = arith.constant 0 : index
  %x = memref.load %d[%c0] : memref<?xf32>
  memref.store %x, %t[%c0] : memref<8xf32>
  return
}

// -----

// A function with a workspace argument cannot be called.
func.func @caller(%in: memref<16xf32>) {
  call @callee(%in) : (memref<16xf32>) -> ()
  return
}
// expected-error @+1 {{'func.func' op is called, so cannot take its workspace as an argument (inline it first)}}
func.func private @callee(%in: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  linalg.copy ins(%in : memref<16xf32>) outs(%a : memref<16xf32>)
  return
}
