// RUN: nnc-opt %s -split-input-file -nn-merge-kernels | FileCheck %s

// Two repeated layers' kernels, equal but for the offsets of their views
// into the arena (%w) and the workspace (%x): the offsets move to the calls
// (the smallest of each argument's, so the kernel keeps the difference) and
// the second kernel goes. The parallel tasks that call them now add
// different offsets, so they and their launchers stay two.
// CHECK-LABEL: llvm.func @__nnc_kernel_0(
// CHECK-SAME:    %[[I:[^:]+]]: i64, %[[W:[^:]+]]: !llvm.ptr, %[[X:[^:]+]]: !llvm.ptr)
// CHECK-NOT:     llvm.getelementptr %[[W]]
// CHECK:         llvm.load %[[W]] : !llvm.ptr -> f32
// CHECK:         %[[X32:.+]] = llvm.getelementptr %[[X]][32] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         llvm.load %[[X]] : !llvm.ptr -> f32
// CHECK:         llvm.store %{{.+}}, %[[X32]] : f32, !llvm.ptr
// CHECK-NOT:   llvm.func @__nnc_kernel_1(
// CHECK-LABEL: llvm.func internal @__nnc_parallel_0_task(
// CHECK-SAME:    %[[C:[^:]+]]: !llvm.ptr, %[[J:[^:]+]]: i64)
// CHECK:         %[[A:.+]] = llvm.load %{{.+}} : !llvm.ptr -> !llvm.ptr
// CHECK:         %[[WA:.+]] = llvm.getelementptr %[[A]][100] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         %[[XA:.+]] = llvm.getelementptr %[[A]][1000] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         llvm.call @__nnc_kernel_0(%[[J]], %[[WA]], %[[XA]])
// CHECK-LABEL: llvm.func internal @__nnc_parallel_1_task(
// CHECK:         %[[B:.+]] = llvm.load %{{.+}} : !llvm.ptr -> !llvm.ptr
// CHECK:         %[[WB:.+]] = llvm.getelementptr %[[B]][300] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         %[[XB:.+]] = llvm.getelementptr %[[B]][2000] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         llvm.call @__nnc_kernel_0(%{{.+}}, %[[WB]], %[[XB]])
// CHECK-LABEL: llvm.func internal @__nnc_parallel_0(
// CHECK:         llvm.mlir.addressof @__nnc_parallel_0_task
// CHECK-LABEL: llvm.func internal @__nnc_parallel_1(
// CHECK:         llvm.mlir.addressof @__nnc_parallel_1_task
// CHECK-LABEL: llvm.func @nnc_train(
// CHECK:         llvm.call @__nnc_kernel_0(%{{.+}}, %{{.+}}, %{{.+}})
// CHECK:         llvm.call @__nnc_kernel_0(%{{.+}}, %{{.+}}, %{{.+}})
// CHECK-NOT:     @__nnc_kernel_1
llvm.func @__nnc_kernel_0(%i: i64, %w: !llvm.ptr, %x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %w0 = llvm.getelementptr %w[100] : (!llvm.ptr) -> !llvm.ptr, f32
  %v = llvm.load %w0 : !llvm.ptr -> f32
  %x0 = llvm.getelementptr %x[1000] : (!llvm.ptr) -> !llvm.ptr, f32
  %x1 = llvm.getelementptr %x[1032] : (!llvm.ptr) -> !llvm.ptr, f32
  %u = llvm.load %x0 : !llvm.ptr -> f32
  %s = llvm.fadd %u, %v : f32
  llvm.store %s, %x1 : f32, !llvm.ptr
  llvm.return
}
llvm.func @__nnc_kernel_1(%i: i64, %w: !llvm.ptr, %x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %w0 = llvm.getelementptr %w[300] : (!llvm.ptr) -> !llvm.ptr, f32
  %v = llvm.load %w0 : !llvm.ptr -> f32
  %x0 = llvm.getelementptr %x[2000] : (!llvm.ptr) -> !llvm.ptr, f32
  %x1 = llvm.getelementptr %x[2032] : (!llvm.ptr) -> !llvm.ptr, f32
  %u = llvm.load %x0 : !llvm.ptr -> f32
  %s = llvm.fadd %u, %v : f32
  llvm.store %s, %x1 : f32, !llvm.ptr
  llvm.return
}
llvm.func internal @__nnc_parallel_0_task(%ctx: !llvm.ptr, %j: i64) {
  %a = llvm.load %ctx : !llvm.ptr -> !llvm.ptr
  llvm.call @__nnc_kernel_0(%j, %a, %a) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.return
}
llvm.func internal @__nnc_parallel_1_task(%ctx: !llvm.ptr, %j: i64) {
  %a = llvm.load %ctx : !llvm.ptr -> !llvm.ptr
  llvm.call @__nnc_kernel_1(%j, %a, %a) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.return
}
llvm.func internal @__nnc_parallel_0(%a: !llvm.ptr) {
  %n = llvm.mlir.constant(8 : i64) : i64
  %t = llvm.mlir.addressof @__nnc_parallel_0_task : !llvm.ptr
  %one = llvm.mlir.constant(1 : i64) : i64
  %ctx = llvm.alloca %one x !llvm.struct<(ptr)> : (i64) -> !llvm.ptr
  llvm.store %a, %ctx : !llvm.ptr, !llvm.ptr
  llvm.call @nnrt_parallel_for(%n, %t, %ctx) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.return
}
llvm.func internal @__nnc_parallel_1(%a: !llvm.ptr) {
  %n = llvm.mlir.constant(8 : i64) : i64
  %t = llvm.mlir.addressof @__nnc_parallel_1_task : !llvm.ptr
  %one = llvm.mlir.constant(1 : i64) : i64
  %ctx = llvm.alloca %one x !llvm.struct<(ptr)> : (i64) -> !llvm.ptr
  llvm.store %a, %ctx : !llvm.ptr, !llvm.ptr
  llvm.call @nnrt_parallel_for(%n, %t, %ctx) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.return
}
llvm.func @nnrt_parallel_for(i64, !llvm.ptr, !llvm.ptr)
llvm.func @nnc_train(%arena: !llvm.ptr) {
  %z = llvm.mlir.constant(0 : i64) : i64
  llvm.call @__nnc_parallel_0(%arena) : (!llvm.ptr) -> ()
  llvm.call @__nnc_parallel_1(%arena) : (!llvm.ptr) -> ()
  llvm.call @__nnc_kernel_0(%z, %arena, %arena) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.call @__nnc_kernel_1(%z, %arena, %arena) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.return
}

// -----

// Not rebased: an argument used other than by a constant gep (%x loaded
// directly), or through geps of two element types (%y); a kernel whose
// address is taken (@__nnc_kernel_3). The two kernels still differ, so both
// stay.
// CHECK-LABEL: llvm.func @__nnc_kernel_2(
// CHECK-SAME:    %[[X:[^:]+]]: !llvm.ptr, %[[Y:[^:]+]]: !llvm.ptr)
// CHECK:         llvm.getelementptr %[[X]][8] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         llvm.load %[[X]] : !llvm.ptr -> f32
// CHECK:         llvm.getelementptr %[[Y]][8] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         llvm.getelementptr %[[Y]][8] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK-LABEL: llvm.func @__nnc_kernel_3(
// CHECK-SAME:    %[[Z:[^:]+]]: !llvm.ptr)
// CHECK:         llvm.getelementptr %[[Z]][16] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK:         llvm.getelementptr %[[Z]][20] : (!llvm.ptr) -> !llvm.ptr, f32
// CHECK-LABEL: llvm.func @g(
// CHECK-SAME:    %[[P:[^:]+]]: !llvm.ptr)
// CHECK-NEXT:    llvm.mlir.addressof @__nnc_kernel_3
// CHECK-NEXT:    llvm.call @__nnc_kernel_2(%[[P]], %[[P]])
// CHECK-NEXT:    llvm.call @__nnc_kernel_3(%[[P]])
llvm.func @__nnc_kernel_2(%x: !llvm.ptr, %y: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %x0 = llvm.getelementptr %x[8] : (!llvm.ptr) -> !llvm.ptr, f32
  %a = llvm.load %x0 : !llvm.ptr -> f32
  %b = llvm.load %x : !llvm.ptr -> f32
  %y0 = llvm.getelementptr %y[8] : (!llvm.ptr) -> !llvm.ptr, f32
  %y1 = llvm.getelementptr %y[8] : (!llvm.ptr) -> !llvm.ptr, i8
  %s = llvm.fadd %a, %b : f32
  llvm.store %s, %y0 : f32, !llvm.ptr
  llvm.store %s, %y1 : f32, !llvm.ptr
  llvm.return
}
llvm.func @__nnc_kernel_3(%z: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %z0 = llvm.getelementptr %z[16] : (!llvm.ptr) -> !llvm.ptr, f32
  %z1 = llvm.getelementptr %z[20] : (!llvm.ptr) -> !llvm.ptr, f32
  %a = llvm.load %z0 : !llvm.ptr -> f32
  llvm.store %a, %z1 : f32, !llvm.ptr
  llvm.return
}
llvm.func @g(%p: !llvm.ptr) {
  %f = llvm.mlir.addressof @__nnc_kernel_3 : !llvm.ptr
  llvm.call @__nnc_kernel_2(%p, %p) : (!llvm.ptr, !llvm.ptr) -> ()
  llvm.call @__nnc_kernel_3(%p) : (!llvm.ptr) -> ()
  llvm.return
}

// -----

// Merging cascades: once the kernels are one, the tasks calling them are
// equal, and then the launchers taking the tasks' addresses.
// CHECK-LABEL: llvm.func @__nnc_kernel_4(
// CHECK-NOT:   @__nnc_kernel_5
// CHECK-LABEL: llvm.func internal @__nnc_parallel_4_task(
// CHECK:         llvm.call @__nnc_kernel_4(
// CHECK-NOT:   @__nnc_parallel_5_task
// CHECK-LABEL: llvm.func internal @__nnc_parallel_4(
// CHECK:         llvm.mlir.addressof @__nnc_parallel_4_task
// CHECK-NOT:   @__nnc_parallel_5
// CHECK-LABEL: llvm.func @h(
// CHECK-NEXT:    llvm.call @__nnc_parallel_4(%{{.+}})
// CHECK-NEXT:    llvm.call @__nnc_parallel_4(%{{.+}})
llvm.func @__nnc_kernel_4(%i: i64, %x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %v = llvm.load %x : !llvm.ptr -> f32
  %s = llvm.fadd %v, %v : f32
  llvm.store %s, %x : f32, !llvm.ptr
  llvm.return
}
llvm.func @__nnc_kernel_5(%i: i64, %x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %v = llvm.load %x : !llvm.ptr -> f32
  %s = llvm.fadd %v, %v : f32
  llvm.store %s, %x : f32, !llvm.ptr
  llvm.return
}
llvm.func internal @__nnc_parallel_4_task(%ctx: !llvm.ptr, %j: i64) {
  %a = llvm.load %ctx : !llvm.ptr -> !llvm.ptr
  llvm.call @__nnc_kernel_4(%j, %a) : (i64, !llvm.ptr) -> ()
  llvm.return
}
llvm.func internal @__nnc_parallel_5_task(%ctx: !llvm.ptr, %j: i64) {
  %a = llvm.load %ctx : !llvm.ptr -> !llvm.ptr
  llvm.call @__nnc_kernel_5(%j, %a) : (i64, !llvm.ptr) -> ()
  llvm.return
}
llvm.func internal @__nnc_parallel_4(%a: !llvm.ptr) {
  %n = llvm.mlir.constant(8 : i64) : i64
  %t = llvm.mlir.addressof @__nnc_parallel_4_task : !llvm.ptr
  llvm.call @nnrt_parallel_for(%n, %t, %a) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.return
}
llvm.func internal @__nnc_parallel_5(%a: !llvm.ptr) {
  %n = llvm.mlir.constant(8 : i64) : i64
  %t = llvm.mlir.addressof @__nnc_parallel_5_task : !llvm.ptr
  llvm.call @nnrt_parallel_for(%n, %t, %a) : (i64, !llvm.ptr, !llvm.ptr) -> ()
  llvm.return
}
llvm.func @nnrt_parallel_for(i64, !llvm.ptr, !llvm.ptr)
llvm.func @h(%p: !llvm.ptr) {
  llvm.call @__nnc_parallel_4(%p) : (!llvm.ptr) -> ()
  llvm.call @__nnc_parallel_5(%p) : (!llvm.ptr) -> ()
  llvm.return
}

// -----

// Constants hoisted in another order (one kernel had them cloned in, the
// other created them) are sorted first, so these two are one.
// CHECK-LABEL: llvm.func @__nnc_kernel_6(
// CHECK-NOT:   llvm.func @__nnc_kernel_7(
// CHECK-LABEL: llvm.func @k(
// CHECK-NEXT:    llvm.call @__nnc_kernel_6(%{{.+}})
// CHECK-NEXT:    llvm.call @__nnc_kernel_6(%{{.+}})
llvm.func @__nnc_kernel_6(%x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %a = llvm.mlir.constant(2.0 : f32) : f32
  %b = llvm.mlir.constant(3 : i64) : i64
  %p = llvm.getelementptr %x[%b] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %a, %p : f32, !llvm.ptr
  llvm.return
}
llvm.func @__nnc_kernel_7(%x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %b = llvm.mlir.constant(3 : i64) : i64
  %a = llvm.mlir.constant(2.0 : f32) : f32
  %p = llvm.getelementptr %x[%b] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %a, %p : f32, !llvm.ptr
  llvm.return
}
llvm.func @k(%p: !llvm.ptr) {
  llvm.call @__nnc_kernel_6(%p) : (!llvm.ptr) -> ()
  llvm.call @__nnc_kernel_7(%p) : (!llvm.ptr) -> ()
  llvm.return
}

// -----

// Kernels equal but for i64 constants that bound loops or scale indices
// (layers of other sizes) become one, which takes the constants that
// differ from its callers: one argument per distinct list of values at a
// use (the bound, 8 and 12, and the stride, 8 and 16: the 8 that
// @__nnc_kernel_8 uses twice is two uses). Constants equal in both (0, 1)
// stay. A divisor (@__nnc_kernel_10 and 11) never becomes an argument, so
// those two stay apart.
// CHECK-LABEL: llvm.func @__nnc_kernel_8(
// CHECK-SAME:    %[[X:[^:]+]]: !llvm.ptr, %[[N:[^:]+]]: i64, %[[S:[^:]+]]: i64)
// CHECK-NOT:     llvm.mlir.constant(8 : i64)
// CHECK:         llvm.icmp "slt" %{{.+}}, %[[N]] : i64
// CHECK:         llvm.mul %{{.+}}, %[[S]] : i64
// CHECK-NOT:   llvm.func @__nnc_kernel_9(
// CHECK-LABEL: llvm.func @__nnc_kernel_10(
// CHECK:         llvm.mlir.constant(3 : i64)
// CHECK-LABEL: llvm.func @__nnc_kernel_11(
// CHECK:         llvm.mlir.constant(5 : i64)
// CHECK-LABEL: llvm.func @m(
// CHECK-SAME:    %[[P:[^:]+]]: !llvm.ptr, %[[I:[^:]+]]: i64)
// CHECK-NEXT:    %[[A8:.+]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT:    %[[B8:.+]] = llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT:    llvm.call @__nnc_kernel_8(%[[P]], %[[A8]], %[[B8]])
// CHECK-NEXT:    %[[A12:.+]] = llvm.mlir.constant(12 : i64) : i64
// CHECK-NEXT:    %[[B16:.+]] = llvm.mlir.constant(16 : i64) : i64
// CHECK-NEXT:    llvm.call @__nnc_kernel_8(%[[P]], %[[A12]], %[[B16]])
// CHECK-NEXT:    llvm.call @__nnc_kernel_10(%[[P]], %[[I]])
// CHECK-NEXT:    llvm.call @__nnc_kernel_11(%[[P]], %[[I]])
llvm.func @__nnc_kernel_8(%x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c1 = llvm.mlir.constant(1 : i64) : i64
  %n = llvm.mlir.constant(8 : i64) : i64
  %f = llvm.mlir.constant(1.0 : f32) : f32
  llvm.br ^bb1(%c0 : i64)
^bb1(%i: i64):
  %c = llvm.icmp "slt" %i, %n : i64
  llvm.cond_br %c, ^bb2, ^bb3
^bb2:
  %o = llvm.mul %i, %n : i64
  %p = llvm.getelementptr %x[%o] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %f, %p : f32, !llvm.ptr
  %j = llvm.add %i, %c1 : i64
  llvm.br ^bb1(%j : i64)
^bb3:
  llvm.return
}
llvm.func @__nnc_kernel_9(%x: !llvm.ptr) attributes {no_inline, sym_visibility = "private"} {
  %c0 = llvm.mlir.constant(0 : i64) : i64
  %c1 = llvm.mlir.constant(1 : i64) : i64
  %n = llvm.mlir.constant(12 : i64) : i64
  %s = llvm.mlir.constant(16 : i64) : i64
  %f = llvm.mlir.constant(1.0 : f32) : f32
  llvm.br ^bb1(%c0 : i64)
^bb1(%i: i64):
  %c = llvm.icmp "slt" %i, %n : i64
  llvm.cond_br %c, ^bb2, ^bb3
^bb2:
  %o = llvm.mul %i, %s : i64
  %p = llvm.getelementptr %x[%o] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %f, %p : f32, !llvm.ptr
  %j = llvm.add %i, %c1 : i64
  llvm.br ^bb1(%j : i64)
^bb3:
  llvm.return
}
llvm.func @__nnc_kernel_10(%x: !llvm.ptr, %i: i64) attributes {no_inline, sym_visibility = "private"} {
  %d = llvm.mlir.constant(3 : i64) : i64
  %f = llvm.mlir.constant(1.0 : f32) : f32
  %q = llvm.udiv %i, %d : i64
  %p = llvm.getelementptr %x[%q] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %f, %p : f32, !llvm.ptr
  llvm.return
}
llvm.func @__nnc_kernel_11(%x: !llvm.ptr, %i: i64) attributes {no_inline, sym_visibility = "private"} {
  %d = llvm.mlir.constant(5 : i64) : i64
  %f = llvm.mlir.constant(1.0 : f32) : f32
  %q = llvm.udiv %i, %d : i64
  %p = llvm.getelementptr %x[%q] : (!llvm.ptr, i64) -> !llvm.ptr, f32
  llvm.store %f, %p : f32, !llvm.ptr
  llvm.return
}
llvm.func @m(%p: !llvm.ptr, %i: i64) {
  llvm.call @__nnc_kernel_8(%p) : (!llvm.ptr) -> ()
  llvm.call @__nnc_kernel_9(%p) : (!llvm.ptr) -> ()
  llvm.call @__nnc_kernel_10(%p, %i) : (!llvm.ptr, i64) -> ()
  llvm.call @__nnc_kernel_11(%p, %i) : (!llvm.ptr, i64) -> ()
  llvm.return
}
