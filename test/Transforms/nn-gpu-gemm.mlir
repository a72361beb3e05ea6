// RUN: nnc-opt %s -nn-gpu-gemm -canonicalize -cse | FileCheck %s
// --target cuda: f32 contractions on buffers become tiled tensor-core
// kernels. A block per 64 x 64 tile of C (grid x over n, y over m, z over
// the batch), 128 threads = 4 warps of 32 x 32; per step of 16 along k each
// thread copies 8 elements of A and 8 of B into the padded workgroup tiles
// (64 x 20, 16 x 72), guarded at the edges (zeros outside) and rounded to
// tf32 (+0x1000, & ~0x1fff; NaNs kept); between two barriers each warp runs
// 4 x 2 x 4 mma.sync m16n8k4 tf32 on accumulators carried by the k loop;
// the epilogue adds each accumulator element to C where it is inside C.

// CHECK-LABEL: func.func @edges(
// CHECK-SAME: %[[A:.+]]: memref<100x40xf32>, %[[B:.+]]: memref<40x70xf32>, %[[C:.+]]: memref<100x70xf32>)
// CHECK-NOT: linalg.matmul
// CHECK: gpu.launch blocks(%[[BX:.+]], %[[BY:.+]], %{{.+}}) in (%{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c1{{(_[0-9]+)?}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c128{{(_[0-9]+)?}}, %{{.+}} = %c1{{(_[0-9]+)?}}, %{{.+}} = %c1{{(_[0-9]+)?}})
// CHECK-SAME: workgroup(%[[SA:.+]] : memref<64x20xf32, #gpu.address_space<workgroup>>, %[[SB:.+]] : memref<16x72xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[ACCS:.+]]:8 = scf.for %[[K0:.+]] = %c0{{.*}} to %c40{{.*}} step %c16{{.*}} iter_args({{.*}}) -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>)
// A's rows: consecutive threads along k (A's innermost dimension).
// CHECK: %[[R:.+]] = arith.divui %[[TX]], %c16
// CHECK: %[[CK:.+]] = arith.remui %[[TX]], %c16
// CHECK: %[[GK:.+]] = arith.addi %[[K0]], %[[CK]]
// CHECK: %[[INK:.+]] = arith.cmpi ult, %[[GK]], %c40
// CHECK: %[[V:.+]] = scf.if %{{.+}} -> (f32) {
// CHECK-NEXT: %[[L:.+]] = memref.load %[[A]][%{{.+}}, %[[GK]]] : memref<100x40xf32>
// CHECK-NEXT: scf.yield %[[L]] : f32
// CHECK-NEXT: } else {
// CHECK-NEXT: scf.yield %cst{{.*}} : f32
// CHECK: %[[BITS:.+]] = arith.bitcast %[[V]] : f32 to i32
// CHECK: %[[UP:.+]] = arith.addi %[[BITS]], %c4096_i32 : i32
// CHECK: %[[TF:.+]] = arith.andi %[[UP]], %c-8192_i32 : i32
// CHECK: %[[NAN:.+]] = arith.cmpf uno, %[[V]], %[[V]] : f32
// CHECK: %[[TFF:.+]] = arith.bitcast %[[TF]] : i32 to f32
// CHECK: %[[S:.+]] = arith.select %[[NAN]], %[[V]], %[[TFF]] : f32
// CHECK: memref.store %[[S]], %[[SA]][%[[R]], %[[CK]]] : memref<64x20xf32, #gpu.address_space<workgroup>>
// CHECK-COUNT-7: memref.store %{{.+}}, %[[SA]]
// CHECK: memref.load %[[B]][%{{.+}}, %{{.+}}] : memref<40x70xf32>
// CHECK-COUNT-8: memref.store %{{.+}}, %[[SB]]
// CHECK-NEXT: gpu.barrier
// CHECK: memref.load %[[SA]]
// CHECK: vector.insert %{{.+}}, %{{.+}} [1, 0] : f32 into vector<2x1xf32>
// CHECK: memref.load %[[SB]]
// CHECK: nvgpu.mma.sync(%{{.+}}, %{{.+}}, %{{.+}}) {mmaShape = [16, 8, 4], tf32Enabled} : (vector<2x1xf32>, vector<1x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-COUNT-31: nvgpu.mma.sync
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.yield
// The epilogue: 8 accumulators x 4 elements, each added to C if inside.
// CHECK: %[[E:.+]] = vector.extract %[[ACCS]]#0[0, 0] : f32 from vector<2x2xf32>
// CHECK-NEXT: scf.if %{{.+}} {
// CHECK-NEXT: %[[OLD:.+]] = memref.load %[[C]][%{{.+}}, %{{.+}}] : memref<100x70xf32>
// CHECK-NEXT: %[[NEW:.+]] = arith.addf %[[OLD]], %[[E]] : f32
// CHECK-NEXT: memref.store %[[NEW]], %[[C]][%{{.+}}, %{{.+}}] : memref<100x70xf32>
// CHECK-COUNT-31: memref.store %{{.+}}, %[[C]]
// CHECK: gpu.terminator
func.func @edges(%a: memref<100x40xf32>, %b: memref<40x70xf32>, %c: memref<100x70xf32>) {
  linalg.matmul ins(%a, %b : memref<100x40xf32>, memref<40x70xf32>) outs(%c : memref<100x70xf32>)
  return
}

// dense's forward (x W^T): B read through its map as W[n, k]; its tile is
// copied with consecutive threads along k, W's innermost dimension.
// CHECK-LABEL: func.func @transposed(
// CHECK-SAME: %[[X:.+]]: memref<64x784xf32>, %[[W:.+]]: memref<128x784xf32>, %[[Y:.+]]: memref<64x128xf32>)
// CHECK: gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c2{{(_[0-9]+)?}}, %{{.+}} = %c1{{(_[0-9]+)?}}, %{{.+}} = %c1{{(_[0-9]+)?}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c128
// CHECK: %[[N0:.+]] = arith.muli %[[BX]], %c64
// CHECK: scf.for %[[K0:.+]] = %c0{{.*}} to %c784{{.*}} step %c16
// CHECK: %[[COL:.+]] = arith.divui %[[TX]], %c16
// CHECK: %[[ROW:.+]] = arith.remui %[[TX]], %c16
// CHECK: %[[GK:.+]] = arith.addi %[[K0]], %[[ROW]]
// CHECK: memref.load %[[X]][%{{.+}}, %[[GK]]] : memref<64x784xf32>
// CHECK: %[[GN:.+]] = arith.addi %[[N0]], %[[COL]]
// CHECK: memref.load %[[W]][%[[GN]], %[[GK]]] : memref<128x784xf32>
// CHECK: memref.store %{{.+}}, %{{.+}}[%[[ROW]], %[[COL]]] : memref<16x72xf32, #gpu.address_space<workgroup>>
// CHECK-COUNT-32: nvgpu.mma.sync
func.func @transposed(%x: memref<64x784xf32>, %w: memref<128x784xf32>, %y: memref<64x128xf32>) {
  linalg.matmul_transpose_b ins(%x, %w : memref<64x784xf32>, memref<128x784xf32>) outs(%y : memref<64x128xf32>)
  return
}

// A batch dimension: one block per batch index (grid z), which indexes
// every operand.
// CHECK-LABEL: func.func @batched(
// CHECK-SAME: %[[A:.+]]: memref<6x32x16xf32>, %[[B:.+]]: memref<6x16x32xf32>, %[[C:.+]]: memref<6x32x32xf32>)
// CHECK: gpu.launch blocks(%{{.+}}, %{{.+}}, %[[BZ:.+]]) in (%{{.+}} = %c1{{(_[0-9]+)?}}, %{{.+}} = %c1{{(_[0-9]+)?}}, %{{.+}} = %c6{{(_[0-9]+)?}})
// CHECK: memref.load %[[A]][%[[BZ]], %{{.+}}, %{{.+}}] : memref<6x32x16xf32>
// CHECK: memref.load %[[B]][%[[BZ]], %{{.+}}, %{{.+}}] : memref<6x16x32xf32>
// CHECK-COUNT-32: nvgpu.mma.sync
// CHECK: memref.load %[[C]][%[[BZ]], %{{.+}}, %{{.+}}] : memref<6x32x32xf32>
func.func @batched(%a: memref<6x32x16xf32>, %b: memref<6x16x32xf32>, %c: memref<6x32x32xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<6x32x16xf32>, memref<6x16x32xf32>) outs(%c : memref<6x32x32xf32>)
  return
}

// Not f32, or not one m, n and k: left to nn-gpu-map-loops.
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : memref<8x8xf64>, memref<8x8xf64>)
// CHECK: linalg.generic
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @left_alone(%a: memref<8x8xf64>, %b: memref<8x8xf64>, %c: memref<8x8xf64>,
                      %x: memref<4x5x6xf32>, %y: memref<6x7xf32>, %z: memref<4x5x7xf32>) {
  linalg.matmul ins(%a, %b : memref<8x8xf64>, memref<8x8xf64>) outs(%c : memref<8x8xf64>)
  linalg.generic {indexing_maps = [affine_map<(i, j, n, k) -> (i, j, k)>, affine_map<(i, j, n, k) -> (k, n)>, affine_map<(i, j, n, k) -> (i, j, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %y : memref<4x5x6xf32>, memref<6x7xf32>) outs(%z : memref<4x5x7xf32>) {
  ^bb0(%p: f32, %q: f32, %r: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %r, %m : f32
    linalg.yield %s : f32
  }
  return
}

// precision = bf16 (the contraction marked nn.bf16_operands: its operands
// are bf16 values): bf16 tiles (A rows padded to 24), operands narrowed by
// arith.truncf (exact on bf16 values) and not rounded to tf32, one
// m16n8k16 bf16 mma.sync per warp tile per step of 16, as PTX inline
// assembly (LLVM 19's nvgpu/nvvm ops cannot lower it) on bf16 pairs packed
// in i32 registers. The fragments, lane = 4 g + t: a[i] = A[g + 8 (i % 2)]
// [2 t + 8 (i / 2) + {0, 1}], b[i] = B[2 t + 8 i + {0, 1}][g].
// CHECK-LABEL: func.func @bf16(
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[SA:.+]] : memref<64x24xbf16, #gpu.address_space<workgroup>>, %[[SB:.+]] : memref<16x72xbf16, #gpu.address_space<workgroup>>)
// CHECK: %[[LANE:.+]] = arith.remui %{{.+}}, %c32
// CHECK: %[[G:.+]] = arith.divui %[[LANE]], %c4
// CHECK: %[[T:.+]] = arith.remui %[[LANE]], %c4
// CHECK: scf.for
// CHECK-NOT: arith.bitcast
// CHECK: %[[NARROW:.+]] = arith.truncf %{{.+}} : f32 to bf16
// CHECK-NEXT: memref.store %[[NARROW]], %[[SA]]
// CHECK: gpu.barrier
// CHECK: %[[T2:.+]] = arith.muli %[[T]], %c2
// CHECK: %[[ROW:.+]] = arith.addi %{{.+}}, %[[G]]
// CHECK: %[[T21:.+]] = arith.addi %[[T2]], %c1
// CHECK: %[[LO:.+]] = memref.load %[[SA]][%[[ROW]], %[[T2]]]
// CHECK: %[[HI:.+]] = memref.load %[[SA]][%[[ROW]], %[[T21]]]
// CHECK: %[[P0:.+]] = vector.insert %[[LO]], %{{.+}} [0] : bf16 into vector<2xbf16>
// CHECK: %[[P:.+]] = vector.insert %[[HI]], %[[P0]] [1] : bf16 into vector<2xbf16>
// CHECK: %[[W:.+]] = vector.bitcast %[[P]] : vector<2xbf16> to vector<1xi32>
// CHECK: %[[A0:.+]] = vector.extract %[[W]][0] : i32 from vector<1xi32>
// CHECK: %[[ROW8:.+]] = arith.addi %[[ROW]], %c8
// CHECK: memref.load %[[SA]][%[[ROW8]], %[[T2]]]
// CHECK: %[[A1:.+]] = vector.extract %{{.+}}[0] : i32 from vector<1xi32>
// CHECK: %[[T28:.+]] = arith.addi %[[T2]], %c8
// CHECK: memref.load %[[SA]][%[[ROW]], %[[T28]]]
// CHECK: %[[A2:.+]] = vector.extract %{{.+}}[0] : i32 from vector<1xi32>
// CHECK: memref.load %[[SA]][%[[ROW8]], %[[T28]]]
// CHECK: %[[A3:.+]] = vector.extract %{{.+}}[0] : i32 from vector<1xi32>
// The warp's second row of tiles, then its four columns.
// CHECK-COUNT-4: vector.extract %{{.+}}[0] : i32 from vector<1xi32>
// CHECK: %[[COL:.+]] = arith.addi %{{.+}}, %[[G]]
// CHECK: memref.load %[[SB]][%[[T2]], %[[COL]]]
// CHECK: memref.load %[[SB]][%[[T21]], %[[COL]]]
// CHECK: %[[B0:.+]] = vector.extract %{{.+}}[0] : i32 from vector<1xi32>
// CHECK: memref.load %[[SB]][%[[T28]], %[[COL]]]
// CHECK: %[[B1:.+]] = vector.extract %{{.+}}[0] : i32 from vector<1xi32>
// CHECK: %[[C0:.+]] = vector.extract %[[ACC:.+]][0, 0] : f32 from vector<2x2xf32>
// CHECK: %[[D:.+]] = llvm.inline_asm "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, {$10, $11, $12, $13};", "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f" %[[A0]], %[[A1]], %[[A2]], %[[A3]], %[[B0]], %[[B1]], %[[C0]], %{{.+}}, %{{.+}}, %{{.+}} : (i32, i32, i32, i32, i32, i32, f32, f32, f32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: %[[D3:.+]] = llvm.extractvalue %[[D]][3]
// CHECK: vector.insert %[[D3]], %{{.+}} [1, 1] : f32 into vector<2x2xf32>
// CHECK-COUNT-7: llvm.inline_asm
// CHECK: gpu.barrier
// CHECK-NEXT: scf.yield
// CHECK: gpu.terminator
func.func @bf16(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  linalg.matmul {nn.bf16_operands} ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}
