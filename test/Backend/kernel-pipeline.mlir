// nnc's -O2 LLVM pipeline (kKernelPipeline in backend/Backend.cpp): a
// kernel argument that every call passes alike (the workspace's address)
// becomes the global itself and the argument goes (ipsccp, deadargelim);
// with the workspace then known apart from the other pointers (globals-aa),
// the copy loop into it needs no run-time alias checks and becomes a memcpy.
// -O0 keeps the argument and the loop.
// RUN: nnc-translate %s --emit=llvm -O2 | FileCheck %s
// RUN: nnc-translate %s --emit=llvm -O0 | FileCheck %s --check-prefix=O0

// CHECK-LABEL: define void @entry(ptr
// CHECK: call {{.*}}void @kernel(ptr {{[^,]*}}, i64 0)
// CHECK: call {{.*}}void @kernel(ptr {{[^,]*}}, i64 14)
// CHECK-LABEL: define internal {{.*}}void @kernel(ptr {{[^,]*}}, i64 {{[^,]*}})
// CHECK: getelementptr {{.*}}@workspace
// CHECK: call void @llvm.memcpy
// O0-LABEL: define internal {{.*}}void @kernel(ptr {{[^,]*}}, ptr {{[^,]*}}, i64
// O0-NOT: memcpy

llvm.mlir.global internal @workspace(dense<0.0> : tensor<28xf32>) : !llvm.array<28 x f32>

llvm.func @entry(%in: !llvm.ptr) {
  %ws = llvm.mlir.addressof @workspace : !llvm.ptr
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c14 = llvm.mlir.constant(14 : i64) : i64
  llvm.call @kernel(%in, %ws, %c0) : (!llvm.ptr, !llvm.ptr, i64) -> ()
  llvm.call @kernel(%in, %ws, %c14) : (!llvm.ptr, !llvm.ptr, i64) -> ()
  llvm.return
}

// out[off + i] = in[i], i < 14
llvm.func internal @kernel(%in: !llvm.ptr, %out: !llvm.ptr, %off: i64)
    attributes {no_inline} {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c1 = llvm.mlir.constant(1 : i64) : i64
  %c14 = llvm.mlir.constant(14 : i64) : i64
  llvm.br ^loop(%c0 : i64)
^loop(%i: i64):
  %more = llvm.icmp "slt" %i, %c14 : i64
  llvm.cond_br %more, ^body, ^done
^body:
  %src = llvm.getelementptr %in[%i] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  %x = llvm.load %src : !llvm.ptr -> f32
  %j = llvm.add %off, %i : i64
  %dst = llvm.getelementptr %out[%j] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %x, %dst : f32, !llvm.ptr
  %next = llvm.add %i, %c1 : i64
  llvm.br ^loop(%next : i64)
^done:
  llvm.return
}
