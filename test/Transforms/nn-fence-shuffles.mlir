// RUN: nnc-opt %s -split-input-file -nn-fence-shuffles | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-fence-shuffles | mlir-opt -split-input-file -convert-func-to-llvm | mlir-translate --split-input-file --mlir-to-llvmir | FileCheck %s --check-prefix=LLVM

// Two stages of a transpose network: each stage's result goes through a
// fence, and the next stage (and the store) reads the fence.
// CHECK-LABEL: func.func @two_stages(
// CHECK-SAME: %[[A:.*]]: vector<4xf32>, %[[B:.*]]: vector<4xf32>
// CHECK: %[[S0:.*]] = llvm.shufflevector %[[A]], %[[B]] [0, 4, 1, 5] : vector<4xf32>
// CHECK: %[[F0:.*]] = llvm.call_intrinsic "llvm.arithmetic.fence"(%[[S0]]) : (vector<4xf32>) -> vector<4xf32>
// CHECK: %[[S1:.*]] = llvm.shufflevector %[[A]], %[[B]] [2, 6, 3, 7] : vector<4xf32>
// CHECK: %[[F1:.*]] = llvm.call_intrinsic "llvm.arithmetic.fence"(%[[S1]])
// CHECK: %[[T:.*]] = llvm.shufflevector %[[F0]], %[[F1]] [0, 1, 4, 5] : vector<4xf32>
// CHECK: %[[FT:.*]] = llvm.call_intrinsic "llvm.arithmetic.fence"(%[[T]])
// CHECK: llvm.store %[[FT]]
// CHECK: llvm.store %[[F1]]
// LLVM-LABEL: define void @two_stages(
// LLVM: %[[S:.*]] = shufflevector <4 x float> %0, <4 x float> %1, <4 x i32> <i32 0, i32 4, i32 1, i32 5>
// LLVM: call <4 x float> @llvm.arithmetic.fence.v4f32(<4 x float> %[[S]])
func.func @two_stages(%a: vector<4xf32>, %b: vector<4xf32>, %p: !llvm.ptr) {
  %s0 = llvm.shufflevector %a, %b [0, 4, 1, 5] : vector<4xf32>
  %s1 = llvm.shufflevector %a, %b [2, 6, 3, 7] : vector<4xf32>
  %t = llvm.shufflevector %s0, %s1 [0, 1, 4, 5] : vector<4xf32>
  llvm.store %t, %p : vector<4xf32>, !llvm.ptr
  llvm.store %s1, %p : vector<4xf32>, !llvm.ptr
  return
}

// -----

// Not stages: a lone shuffle (nothing to search), a shuffle with a poison
// or constant operand (a widening, a blend with zeros), one of a value
// with itself, one that changes the number of lanes, integer shuffles.
// CHECK-LABEL: func.func @not_stages(
// CHECK-NOT: llvm.arithmetic.fence
// CHECK: return
func.func @not_stages(%a: vector<4xf32>, %b: vector<4xf32>, %i: vector<4xi32>, %j: vector<4xi32>, %p: !llvm.ptr) {
  %lone = llvm.shufflevector %a, %b [0, 4, 1, 5] : vector<4xf32>
  llvm.store %lone, %p : vector<4xf32>, !llvm.ptr
  %poison = llvm.mlir.poison : vector<4xf32>
  %w = llvm.shufflevector %a, %poison [3, 2, 1, 0] : vector<4xf32>
  %zero = llvm.mlir.zero : vector<4xf32>
  %z = llvm.shufflevector %w, %zero [0, 4, 1, 5] : vector<4xf32>
  %self = llvm.shufflevector %z, %z [1, 0, 3, 2] : vector<4xf32>
  %narrow = llvm.shufflevector %self, %b [0, 4] : vector<4xf32>
  %n2 = llvm.shufflevector %narrow, %narrow [1, 0] : vector<2xf32>
  llvm.store %n2, %p : vector<2xf32>, !llvm.ptr
  %k = llvm.shufflevector %i, %j [0, 4, 1, 5] : vector<4xi32>
  %k2 = llvm.shufflevector %k, %j [0, 4, 1, 5] : vector<4xi32>
  llvm.store %k2, %p : vector<4xi32>, !llvm.ptr
  return
}
