// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s
// Normalization.cpp: no nn op is left; the numbers are checked against
// PyTorch in test/Numerics/norm.test.

// Batchnorm: the real-row count from the mask, per-channel masked sums (the
// channel loop parallel, the others reductions), the normalization as
// torch's CPU kernel computes it: alpha = istd w and beta = b - mean alpha
// per channel, then y = x alpha + beta (one multiply and one add an
// element, no division or square root).
// CHECK-LABEL: func @batchnorm
// CHECK: linalg.reduce
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: arith.select
// CHECK: arith.divf
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: math.sqrt
// CHECK: %[[ALPHA:.+]] = linalg.generic {{.+}} iterator_types = ["parallel"]} ins(%[[ISTD:[^,]+]], %arg1 : tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK: %[[BETA:.+]] = linalg.generic {{.+}} iterator_types = ["parallel"]} ins(%arg1, %{{.+}}, %[[ALPHA]] : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT: ^bb0(%[[B:.+]]: f32, %[[MEAN:.+]]: f32, %[[A:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[MA:.+]] = arith.mulf %[[MEAN]], %[[A]]
// CHECK-NEXT: arith.subf %[[B]], %[[MA]]
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0, %[[ALPHA]], %[[BETA]] :
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[A2:.+]]: f32, %[[B2:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[XA:.+]] = arith.mulf %[[X]], %[[A2]]
// CHECK-NEXT: %[[Y:.+]] = arith.addf %[[XA]], %[[B2]]
// CHECK-NEXT: linalg.yield %[[Y]]
// CHECK-NOT: nn.
func.func @batchnorm(%x: tensor<4x3x2x2xf32>, %w: tensor<3xf32>, %m: tensor<4xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) {
  %y, %mean, %var, %istd = nn.batchnorm %x, %w, %w, %m : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  return %y, %mean, %var : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Its gradient as torch's batch_norm_cpu_backward_template, with the
// forward pass's mean and invstd (%arg4, %arg5; torch's save_mean and
// save_invstd): x is read by no statistics pass, only by dotp and dx.
// db = sum dy, dotp = sum dy (x - mean), dw = dotp istd; per channel the
// mean gradient db / M, k = dw istd / M and istd w; then an element is
// (dy - db / M - (x - mean) k) istd w: no division an element.
// CHECK-LABEL: func @batchnorm_grad
// CHECK: linalg.reduce ins(%arg3 : tensor<4xf32>)
// CHECK-NOT: math.sqrt
// CHECK: %[[DB:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%arg0, %arg3 :
// CHECK: %[[DOTP:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%arg0, %arg1, %arg3, %arg4 :
// CHECK-NEXT: ^bb0(%[[DY:.+]]: f32, %[[X:.+]]: f32, %{{.+}}: f32, %[[MEAN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[C:.+]] = arith.subf %[[X]], %[[MEAN]]
// CHECK-NEXT: arith.mulf %[[DY]], %[[C]]
// CHECK: %[[DW:.+]] = linalg.generic {{.+}} ins(%[[DOTP]], %arg5 : tensor<3xf32>, tensor<3xf32>)
// CHECK: %[[GM:.+]] = linalg.generic {{.+}} ins(%[[DB]] : tensor<3xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.divf
// CHECK: %[[K:.+]] = linalg.generic {{.+}} ins(%[[DW]], %arg5 : tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.divf
// CHECK: %[[S:.+]] = linalg.generic {{.+}} ins(%arg5, %arg2 : tensor<3xf32>, tensor<3xf32>)
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg0, %arg1, %arg3, %arg4, %[[GM]], %[[K]], %[[S]] :
// CHECK-NOT: arith.divf
// CHECK: linalg.yield
// CHECK: return %{{.+}}, %[[DW]], %[[DB]]
func.func @batchnorm_grad(%dy: tensor<4x3x2x2xf32>, %x: tensor<4x3x2x2xf32>, %w: tensor<3xf32>, %m: tensor<4xf32>, %mean: tensor<3xf32>, %istd: tensor<3xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) {
  %dx, %dw, %db = nn.batchnorm_grad %dy, %x, %w, %mean, %istd, %m : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  return %dx, %dw, %db : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Synchronized batchnorm (sync_batchnorm = true): the real rows, the
// per-channel sums and the squared deviations are each written into a
// buffer of their own, summed over the data-parallel ranks by the runtime's
// nnrt_allreduce_f32(address, count) in place, and read back; declared once.
// CHECK-LABEL: module
// CHECK: func.func private @nnrt_allreduce_f32(i64, i64)
// CHECK-NOT: func.func private @nnrt_allreduce_f32
// CHECK-LABEL: func @batchnorm_sync
// CHECK: linalg.reduce
// CHECK: %[[ROWS:.+]] = memref.alloc() : memref<f32>
// CHECK: bufferization.materialize_in_destination %{{.+}} in restrict writable %[[ROWS]] : (tensor<f32>, memref<f32>) -> ()
// CHECK: %[[RA:.+]] = memref.extract_aligned_pointer_as_index %[[ROWS]]
// CHECK: %[[RP:.+]] = arith.index_cast %[[RA]] : index to i64
// CHECK: %[[ONE:.+]] = arith.constant 1 : i64
// CHECK: call @nnrt_allreduce_f32(%[[RP]], %[[ONE]]) : (i64, i64) -> ()
// CHECK: bufferization.to_tensor %[[ROWS]] restrict writable : memref<f32>
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: %[[SUM:.+]] = memref.alloc() : memref<3xf32>
// CHECK: %[[THREE:.+]] = arith.constant 3 : i64
// CHECK: call @nnrt_allreduce_f32(%{{.+}}, %[[THREE]])
// CHECK: bufferization.to_tensor %[[SUM]] restrict writable : memref<3xf32>
// CHECK: linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: call @nnrt_allreduce_f32
// CHECK: math.sqrt
// CHECK-NOT: nn.
// The gradient: the real rows summed (its statistics are the forward
// pass's, already every rank's), then dbias' and dweight's sums weighted by
// the rows (all-reduced, over this rank's rows) for dx; the returned dweight
// and dbias stay this rank's.
// CHECK-LABEL: func @batchnorm_grad_sync
// CHECK: call @nnrt_allreduce_f32
// CHECK-NOT: call @nnrt_allreduce_f32
// CHECK: %[[DB:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: %[[DOTP:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK: %[[DW:.+]] = linalg.generic {{.+}} ins(%[[DOTP]], %{{.+}} : tensor<3xf32>, tensor<3xf32>)
// CHECK: linalg.generic {{.+}} ins(%[[DB]] : tensor<3xf32>)
// CHECK: arith.mulf
// CHECK: call @nnrt_allreduce_f32
// CHECK: linalg.generic {{.+}} ins(%[[DW]] : tensor<3xf32>)
// CHECK: call @nnrt_allreduce_f32
// CHECK-NOT: call @nnrt_allreduce_f32
// CHECK: return %{{.+}}, %[[DW]], %[[DB]]
func.func @batchnorm_sync(%x: tensor<4x3x2x2xf32>, %w: tensor<3xf32>, %m: tensor<4xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) {
  %y, %mean, %var, %istd = nn.batchnorm %x, %w, %w, %m {sync} : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  return %y, %mean, %var : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>
}
func.func @batchnorm_grad_sync(%dy: tensor<4x3x2x2xf32>, %x: tensor<4x3x2x2xf32>, %w: tensor<3xf32>, %m: tensor<4xf32>, %mean: tensor<3xf32>, %istd: tensor<3xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>) {
  %dx, %dw, %db = nn.batchnorm_grad %dy, %x, %w, %mean, %istd, %m {sync} : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  return %dx, %dw, %db : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Dropout: the mask from linalg.index and integer hashing of the seed.
// CHECK-LABEL: func @dropout
// CHECK: %[[SEED:.+]] = tensor.extract %{{.+}}[] : tensor<i64>
// CHECK: linalg.generic
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.muli
// CHECK: arith.shrui
// CHECK: arith.xori
// CHECK: arith.uitofp
// CHECK: arith.cmpf oge
// CHECK: arith.select
// CHECK-NOT: nn.
func.func @dropout(%x: tensor<4x5xf32>, %s: tensor<i64>) -> tensor<4x5xf32> {
  %y = nn.dropout %x, %s {p = 0.25 : f32} : tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// Concat: inserts at channel offsets; its gradient's slices: extracts.
// CHECK-LABEL: func @concat
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x5xf32>
// CHECK: %[[I0:.+]] = tensor.insert_slice %{{.+}} into %[[E]][0, 0] [4, 3] [1, 1]
// CHECK: %[[I1:.+]] = tensor.insert_slice %{{.+}} into %[[I0]][0, 3] [4, 2] [1, 1]
// CHECK: tensor.extract_slice %[[I1]][0, 3] [4, 2] [1, 1]
func.func @concat(%a: tensor<4x3xf32>, %b: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %c = nn.concat %a, %b : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<4x5xf32>
  %s = nn.slice %c {offsets = array<i64: 0, 3>} : tensor<4x5xf32> to tensor<4x2xf32>
  return %s : tensor<4x2xf32>
}

// -----

// Layernorm and its gradient, running averages and eval-mode batchnorm:
// every op lowers.
// CHECK-LABEL: func @rest
// CHECK-NOT: nn.
func.func @rest(%x: tensor<4x5xf32>, %w: tensor<5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<4x5xf32>) {
  %y = nn.layernorm %x, %w, %w : tensor<4x5xf32>, tensor<5xf32>
  %dx, %dw, %db = nn.layernorm_grad %y, %x, %w : tensor<4x5xf32>, tensor<5xf32>
  %r = nn.running_average %w, %db : tensor<5xf32>
  %e = nn.batchnorm_inference %x, %w, %w, %w, %r : tensor<4x5xf32>, tensor<5xf32>
  return %y, %dx, %dw, %db, %r, %e : tensor<4x5xf32>, tensor<4x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<4x5xf32>
}
