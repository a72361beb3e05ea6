// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg | nnc-opt -split-input-file -pass-pipeline='builtin.module(func.func(nn-tile-and-vectorize{parallel-chunks=8}))' | FileCheck %s

// The tile matmuls of the fused attention (64 x 64 x 32 here) run as
// register-tiled vector FMAs, not scalar loops, and the chunks of its
// forall over (sample, head) stay whole: no forall nested in it, no linalg
// op left inside.
// CHECK-LABEL: func @attention
// CHECK:       scf.forall (%{{.+}}) in (8)
// CHECK-NOT:   scf.forall
// CHECK-NOT:   linalg.
// CHECK:       vector.contract {{.*}} into vector<8x32xf32>
// CHECK-NOT:   scf.forall
// CHECK-NOT:   linalg.
// CHECK:       scf.forall.in_parallel
func.func @attention(%qkv: tensor<2x128x384xf32>, %m: tensor<2x128xf32>) -> (tensor<2x128x128xf32>, tensor<2x4x128xf32>) {
  %o, %l = nn.attention %qkv, %m {heads = 4 : i64, causal = true} : (tensor<2x128x384xf32>, tensor<2x128xf32>) -> (tensor<2x128x128xf32>, tensor<2x4x128xf32>)
  return %o, %l : tensor<2x128x128xf32>, tensor<2x4x128xf32>
}

// -----

// CHECK-LABEL: func @attention_grad
// CHECK:       scf.forall (%{{.+}}) in (8)
// CHECK-NOT:   scf.forall
// CHECK-NOT:   linalg.
// CHECK:       vector.contract {{.*}} into vector<8x32xf32>
// CHECK-NOT:   scf.forall
// CHECK-NOT:   linalg.
// CHECK:       scf.forall.in_parallel
func.func @attention_grad(%do: tensor<2x128x128xf32>, %qkv: tensor<2x128x384xf32>, %m: tensor<2x128xf32>, %o: tensor<2x128x128xf32>, %l: tensor<2x4x128xf32>) -> tensor<2x128x384xf32> {
  %d = nn.attention_grad %do, %qkv, %m, %o, %l {heads = 4 : i64} : (tensor<2x128x128xf32>, tensor<2x128x384xf32>, tensor<2x128xf32>, tensor<2x128x128xf32>, tensor<2x4x128xf32>) -> tensor<2x128x384xf32>
  return %d : tensor<2x128x384xf32>
}
