// RUN: nnc-opt %s -convert-linalg-to-parallel-loops -nn-gpu-map-loops | FileCheck %s --check-prefix=MAP
// RUN: nnc-opt %s -convert-linalg-to-parallel-loops -nn-gpu-map-loops -convert-parallel-loops-to-gpu -canonicalize -cse | FileCheck %s
// --target cuda: every op nn-gpu-gemm leaves is a parallel loop over its
// parallel dimensions; each is collapsed to one dimension, tiled by 256
// (the last tile guarded, bounds constant) and mapped: tiles onto blocks,
// iterations onto threads. Reductions stay loops inside each thread.

// MAP-LABEL: func.func @map(
// MAP: scf.parallel (%[[T:.+]]) = (%{{.+}}) to (%{{.+}}) step (%[[STEP:.+]]) {
// MAP-NEXT: scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%[[STEP]]) step (%{{.+}}) {
// MAP: scf.if
// MAP: memref.load %{{.+}} : memref<10x3x7xf32>
// MAP: } {mapping = [#gpu.loop_dim_map<processor = thread_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}
// MAP: } {mapping = [#gpu.loop_dim_map<processor = block_x, map = (d0) -> (d0), bound = (d0) -> (d0)>]}

// relu over 10 x 3 x 7 = 210 elements: one block of 256 threads, the
// element's indices recovered from the thread's.
// CHECK-LABEL: func.func @map(
// CHECK-SAME: %[[C:.+]]: memref<10x3x7xf32>, %[[S:.+]]: memref<10xf32>, %[[BIG:.+]]: memref<64x784xf32>)
// CHECK: gpu.launch blocks(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c1, %{{.+}} = %c1, %{{.+}} = %c1) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c256, %{{.+}} = %c1, %{{.+}} = %c1)
// CHECK-NEXT: %[[IN:.+]] = arith.cmpi ult, %[[TX]], %c210
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: %[[K:.+]] = arith.remsi %[[TX]], %c7
// CHECK-NEXT: %[[IJ:.+]] = arith.divsi %[[TX]], %c7
// CHECK-NEXT: %[[J:.+]] = arith.remsi %[[IJ]], %c3
// CHECK-NEXT: %[[I:.+]] = arith.divsi %[[IJ]], %c3
// CHECK-NEXT: %[[X:.+]] = memref.load %[[C]][%[[I]], %[[J]], %[[K]]]
// CHECK-NEXT: %[[R:.+]] = arith.maximumf %[[X]]
// CHECK-NEXT: memref.store %[[R]], %[[C]][%[[I]], %[[J]], %[[K]]]
// CHECK: gpu.terminator
// A row sum: a thread per row (10 of 256 busy), the reduction a loop.
// CHECK: gpu.launch blocks({{.+}}) in (%{{.+}} = %c1, %{{.+}} = %c1, %{{.+}} = %c1) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c256, %{{.+}} = %c1, %{{.+}} = %c1)
// CHECK-NEXT: %[[IN:.+]] = arith.cmpi ult, %[[TX]], %c10
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: scf.for
// CHECK-NEXT: scf.for
// CHECK-NEXT: memref.load %[[C]][%[[TX]], %{{.+}}, %{{.+}}]
// CHECK-NEXT: memref.load %[[S]][%[[TX]]]
// CHECK: gpu.terminator
// A fill of 64 x 784 = 50,176 elements: 196 blocks of 256.
// CHECK: gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c196, %{{.+}} = %c1, %{{.+}} = %c1) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c256, %{{.+}} = %c1, %{{.+}} = %c1)
// CHECK-NEXT: %[[B0:.+]] = affine.apply #{{.+}}(%[[BX]])
// CHECK-NEXT: %[[E:.+]] = arith.addi %[[TX]], %[[B0]]
// CHECK-NEXT: %[[IN:.+]] = arith.cmpi ult, %[[E]], %c50176
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK: memref.store %{{.+}}, %[[BIG]]
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @map(%c: memref<10x3x7xf32>, %s: memref<10xf32>, %big: memref<64x784xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%c : memref<10x3x7xf32>) {
  ^bb0(%x: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (i)>], iterator_types = ["parallel", "reduction", "reduction"]} ins(%c : memref<10x3x7xf32>) outs(%s : memref<10xf32>) {
  ^bb0(%x: f32, %a: f32):
    %r = arith.addf %x, %a : f32
    linalg.yield %r : f32
  }
  linalg.fill ins(%zero : f32) outs(%big : memref<64x784xf32>)
  return
}
