// RUN: nnc-opt %s -split-input-file -nn-generate-launchers | FileCheck %s

// The launcher stores its arguments into a stack struct and hands the
// runtime the chunk count, the trampoline and the struct; the trampoline
// loads them back and calls the kernel for its chunk.

// CHECK-LABEL: llvm.func @__nnc_kernel_0(
// CHECK-LABEL: llvm.func internal @__nnc_parallel_0(
// CHECK-SAME:    %[[P:[^:]+]]: !llvm.ptr, %[[S:[^:]+]]: f32)
// CHECK:         %[[CTX:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, f32)>
// CHECK:         %[[F0:.+]] = llvm.getelementptr %[[CTX]][0, 0]
// CHECK-NEXT:    llvm.store %[[P]], %[[F0]] : !llvm.ptr, !llvm.ptr
// CHECK:         %[[F1:.+]] = llvm.getelementptr %[[CTX]][0, 1]
// CHECK-NEXT:    llvm.store %[[S]], %[[F1]] : f32, !llvm.ptr
// CHECK:         %[[N:.+]] = llvm.mlir.constant(8 : i64) : i64
// CHECK:         %[[FN:.+]] = llvm.mlir.addressof @__nnc_parallel_0_task
// CHECK:         llvm.call @nnrt_parallel_for(%[[N]], %[[FN]], %[[CTX]])
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func internal @__nnc_parallel_0_task(
// CHECK-SAME:    %[[C:[^:]+]]: !llvm.ptr, %[[I:[^:]+]]: i64)
// CHECK:         %[[G0:.+]] = llvm.getelementptr %[[C]][0, 0]
// CHECK-NEXT:    %[[A0:.+]] = llvm.load %[[G0]] : !llvm.ptr -> !llvm.ptr
// CHECK:         %[[G1:.+]] = llvm.getelementptr %[[C]][0, 1]
// CHECK-NEXT:    %[[A1:.+]] = llvm.load %[[G1]] : !llvm.ptr -> f32
// CHECK:         llvm.call @__nnc_kernel_0(%[[I]], %[[A0]], %[[A1]])
// CHECK-LABEL: llvm.func @f(
// CHECK:         llvm.call @__nnc_parallel_0(
// CHECK:       llvm.func @nnrt_parallel_for(i64, !llvm.ptr, !llvm.ptr)
// CHECK-NOT:   nn.parallel
llvm.func @__nnc_kernel_0(%i: i64, %p: !llvm.ptr, %s: f32) attributes {no_inline} {
  llvm.return
}
llvm.func @__nnc_parallel_0(!llvm.ptr, f32) attributes {nn.parallel_body = @__nnc_kernel_0, nn.parallel_chunks = 8 : i64, sym_visibility = "private"}
llvm.func @f(%p: !llvm.ptr) {
  %c = llvm.mlir.constant(1.0 : f32) : f32
  llvm.call @__nnc_parallel_0(%p, %c) : (!llvm.ptr, f32) -> ()
  llvm.return
}

