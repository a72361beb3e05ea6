// RUN: nnc-opt %s -nn-gpu-stage-arguments | FileCheck %s
// RUN: nnc-opt %s -nn-gpu-stage-arguments -nn-plan-buffers=argument -nn-gpu-workspace-wrappers | FileCheck %s --check-prefix=WRAP
// --target cuda's entry points keep their C ABI. nn-gpu-stage-arguments:
// each argument buffer of a public function gets a device copy used in its
// place, copied in if the function reads it (x, the state) and back if it
// writes it (the state, and `out` through a view), through a helper per
// buffer type that hands the runtime the two addresses and the size.
// Private functions are left alone.

// CHECK-LABEL: func.func @entry(
// CHECK-SAME: %[[STATE:.+]]: memref<10xf32>, %[[X:.+]]: memref<4x2xf32>, %[[OUT:.+]]: memref<3xf32>, %{{.+}}: i64)
// CHECK: %[[DOUT:.+]] = memref.alloc() : memref<3xf32>
// CHECK-NOT: call @nnc_cuda_to_device_{{.+}}(%[[DOUT]]
// CHECK: %[[DX:.+]] = memref.alloc() : memref<4x2xf32>
// CHECK-NEXT: call @nnc_cuda_to_device_1(%[[DX]], %[[X]])
// CHECK-NEXT: %[[DSTATE:.+]] = memref.alloc() : memref<10xf32>
// CHECK-NEXT: call @nnc_cuda_to_device_0(%[[DSTATE]], %[[STATE]])
// CHECK: memref.load %[[DX]]
// CHECK: memref.load %[[DSTATE]]
// CHECK: memref.store %{{.+}}, %[[DSTATE]]
// CHECK: memref.subview %[[DOUT]][1] [2] [1]
// CHECK: call @nnc_cuda_to_host_0(%[[DSTATE]], %[[STATE]])
// CHECK-NOT: call @nnc_cuda_to_host_{{.+}}(%[[DX]]
// CHECK: call @nnc_cuda_to_host_1(%[[DOUT]], %[[OUT]])
// CHECK: return
// CHECK: func.func private @helper(%{{.+}}: memref<8xf32>) {
// CHECK-NEXT: return
// CHECK: func.func private @nnc_cuda_to_device_0(%[[D:.+]]: memref<10xf32>, %[[H:.+]]: memref<10xf32>)
// CHECK: %[[DP:.+]] = memref.extract_aligned_pointer_as_index %[[D]]
// CHECK: %[[DI:.+]] = arith.index_cast %[[DP]] : index to i64
// CHECK: %[[HP:.+]] = memref.extract_aligned_pointer_as_index %[[H]]
// CHECK: %[[HI:.+]] = arith.index_cast %[[HP]] : index to i64
// CHECK: %[[N:.+]] = arith.constant 40 : i64
// CHECK: call @nnrt_cuda_to_device(%[[DI]], %[[HI]], %[[N]]) : (i64, i64, i64) -> ()
// CHECK: func.func private @nnrt_cuda_to_device(i64, i64, i64)
// CHECK: func.func private @nnc_cuda_to_host_0(%[[D:.+]]: memref<10xf32>, %[[H:.+]]: memref<10xf32>)
// CHECK: call @nnrt_cuda_to_host(%{{.+}}, %{{.+}}, %{{.+}}) : (i64, i64, i64) -> ()
// CHECK: func.func private @nnc_cuda_to_host_1(%{{.+}}: memref<3xf32>, %{{.+}}: memref<3xf32>)
// CHECK: arith.constant 12 : i64

// nn-gpu-workspace-wrappers, after the plan: the step, renamed and private,
// takes its workspace; the entry point with the original signature asks the
// runtime for it, tagged by the entry's number: each entry point has its own
// workspace, where its device copies of the runtime's resident buffers (the
// state) stay between calls.
// WRAP-LABEL: func.func @entry(
// WRAP-SAME: %[[A0:[^:]+]]: memref<10xf32>, %[[A1:[^:]+]]: memref<4x2xf32>, %[[A2:[^:]+]]: memref<3xf32>, %[[A3:[^:]+]]: i64) {
// WRAP-NEXT: %[[N:.+]] = arith.constant 192 : i64
// WRAP-NEXT: %[[TAG:.+]] = arith.constant 0 : i64
// WRAP-NEXT: %[[RAW:.+]] = call @nnrt_cuda_workspace(%[[N]], %[[TAG]]) : (i64, i64) -> memref<1xi8>
// WRAP-NEXT: %[[WS:.+]] = memref.reinterpret_cast %[[RAW]] to offset: [0], sizes: [192], strides: [1] : memref<1xi8> to memref<192xi8>
// WRAP-NEXT: call @entry_cuda(%[[A0]], %[[A1]], %[[A2]], %[[A3]], %[[WS]])
// WRAP-NEXT: return
// WRAP: func.func private @entry_cuda(%{{.+}}: memref<10xf32>, %{{.+}}: memref<4x2xf32>, %{{.+}}: memref<3xf32>, %{{.+}}: i64, %{{.+}}: memref<192xi8>) attributes {nn.workspace_bytes = 192 : i64}
// WRAP-NOT: memref.alloc
// WRAP-LABEL: func.func @reader(
// WRAP: %[[TAG1:.+]] = arith.constant 1 : i64
// WRAP-NEXT: call @nnrt_cuda_workspace(%{{.+}}, %[[TAG1]]) : (i64, i64) -> memref<1xi8>
// WRAP: func.func private @nnrt_cuda_workspace(i64, i64) -> memref<1xi8>

func.func @entry(%state: memref<10xf32>, %x: memref<4x2xf32>, %out: memref<3xf32>, %n: i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = memref.load %x[%c0, %c1] : memref<4x2xf32>
  %s = memref.load %state[%c0] : memref<10xf32>
  %sum = arith.addf %v, %s : f32
  memref.store %sum, %state[%c1] : memref<10xf32>
  %view = memref.subview %out[1] [2] [1] : memref<3xf32> to memref<2xf32, strided<[1], offset: 1>>
  memref.store %sum, %view[%c0] : memref<2xf32, strided<[1], offset: 1>>
  return
}
func.func @reader(%state: memref<10xf32>, %out: memref<3xf32>) {
  %c0 = arith.constant 0 : index
  %s = memref.load %state[%c0] : memref<10xf32>
  memref.store %s, %out[%c0] : memref<3xf32>
  return
}
func.func private @helper(%y: memref<8xf32>) {
  return
}
