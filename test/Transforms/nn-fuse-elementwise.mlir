// RUN: nnc-opt %s -split-input-file -nn-fuse-elementwise | FileCheck %s

// A convolution's GEMM result [F, N*P] copied to NCHW in two halves of
// channels (gemmResultTo), then a relu over the assembled tensor: the relu
// moves into each half's copy (one pass over the activations, not two).
// CHECK-LABEL: func.func @relu_of_halves(
// CHECK-SAME:    %[[Z0:.+]]: tensor<2x3x4xf32>, %[[Z1:.+]]: tensor<2x3x4xf32>
// CHECK:         %[[H0:.+]] = linalg.generic {{.*}} ins(%[[Z0]] : tensor<2x3x4xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[R0:.+]] = tensor.insert_slice %[[H0]] into %{{.+}}[0, 0, 0] [3, 2, 4]
// CHECK:         %[[H1:.+]] = linalg.generic {{.*}} ins(%[[Z1]] : tensor<2x3x4xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[R1:.+]] = tensor.insert_slice %[[H1]] into %[[R0]][0, 2, 0] [3, 2, 4]
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[R1]]
#swap = affine_map<(d0, d1, d2) -> (d1, d0, d2)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @relu_of_halves(%z0: tensor<2x3x4xf32>, %z1: tensor<2x3x4xf32>) -> tensor<3x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x4x4xf32>
  %p = tensor.empty() : tensor<3x2x4xf32>
  %h0 = linalg.generic {indexing_maps = [#swap, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%z0 : tensor<2x3x4xf32>) outs(%p : tensor<3x2x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<3x2x4xf32>
  %r0 = tensor.insert_slice %h0 into %e[0, 0, 0] [3, 2, 4] [1, 1, 1] : tensor<3x2x4xf32> into tensor<3x4x4xf32>
  %h1 = linalg.generic {indexing_maps = [#swap, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%z1 : tensor<2x3x4xf32>) outs(%p : tensor<3x2x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<3x2x4xf32>
  %r1 = tensor.insert_slice %h1 into %r0[0, 2, 0] [3, 2, 4] [1, 1, 1] : tensor<3x2x4xf32> into tensor<3x4x4xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r1 : tensor<3x4x4xf32>) outs(%e : tensor<3x4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<3x4x4xf32>
  return %relu : tensor<3x4x4xf32>
}

// -----

// Left alone: the assembled tensor is also used elsewhere (the relu would
// then be computed twice over), and a single insertion (nothing to split).
// CHECK-LABEL: func.func @shared(
// CHECK:         tensor.insert_slice
// CHECK:         tensor.insert_slice
// CHECK:         linalg.generic
// CHECK:         arith.maximumf
// CHECK-LABEL: func.func @single(
// CHECK:         tensor.insert_slice
// CHECK:         linalg.generic
// CHECK:         arith.maximumf
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @shared(%a: tensor<2x4xf32>, %b: tensor<2x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %r0 = tensor.insert_slice %a into %e[0, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %r1 = tensor.insert_slice %b into %r0[2, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%r1 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  return %relu, %r1 : tensor<4x4xf32>, tensor<4x4xf32>
}
func.func @single(%a: tensor<2x4xf32>) -> tensor<4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %r0 = tensor.insert_slice %a into %e[0, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<4x4xf32>
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%r0 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x4xf32>
  return %relu : tensor<4x4xf32>
}

// -----

// A relu of a convolution that goes a few samples at a time: each
// iteration of the scf.forall assembles its part from two halves (bias
// added) and inserts it into a tensor.empty. The relu moves into the loop,
// onto each iteration's part, then into the halves, where it fuses with the
// bias: one pass over each half while it is in cache, none over the whole
// result.
// CHECK-LABEL: func.func @relu_of_forall(
// CHECK:         %[[R:.+]] = scf.forall (%{{.+}}) in (4)
// CHECK:           linalg.generic
// CHECK:             arith.addf
// CHECK-NEXT:        arith.maximumf
// CHECK:           linalg.generic
// CHECK:             arith.addf
// CHECK-NEXT:        arith.maximumf
// CHECK:           scf.forall.in_parallel
// CHECK:         return %[[R]] : tensor<8x4xf32>
// CHECK-NOT:     linalg.generic
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @relu_of_forall(%a: tensor<8x4xf32>, %bias: f32) -> tensor<8x4xf32> {
  %zero = arith.constant 0.0 : f32
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %e = tensor.empty() : tensor<8x4xf32>
  %y = scf.forall (%i) in (4) shared_outs(%out = %e) -> (tensor<8x4xf32>) {
    %row = arith.muli %i, %c2 : index
    %pe = tensor.empty() : tensor<2x4xf32>
    %h = tensor.empty() : tensor<1x4xf32>
    %a0 = tensor.extract_slice %a[%row, 0] [1, 4] [1, 1] : tensor<8x4xf32> to tensor<1x4xf32>
    %b0 = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%a0 : tensor<1x4xf32>) outs(%h : tensor<1x4xf32>) {
    ^bb0(%x: f32, %o: f32):
      %s = arith.addf %x, %bias : f32
      linalg.yield %s : f32
    } -> tensor<1x4xf32>
    %p0 = tensor.insert_slice %b0 into %pe[0, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<2x4xf32>
    %row1 = arith.addi %row, %c1 : index
    %a1 = tensor.extract_slice %a[%row1, 0] [1, 4] [1, 1] : tensor<8x4xf32> to tensor<1x4xf32>
    %b1 = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%a1 : tensor<1x4xf32>) outs(%h : tensor<1x4xf32>) {
    ^bb0(%x: f32, %o: f32):
      %s = arith.addf %x, %bias : f32
      linalg.yield %s : f32
    } -> tensor<1x4xf32>
    %p1 = tensor.insert_slice %b1 into %p0[1, 0] [1, 4] [1, 1] : tensor<1x4xf32> into tensor<2x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %p1 into %out[%row, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<8x4xf32>
    }
  }
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<8x4xf32>) outs(%e : tensor<8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<8x4xf32>
  return %relu : tensor<8x4xf32>
}

// -----

// Left alone: the loop's result is also returned (the relu would replace
// the value another use reads).
// CHECK-LABEL: func.func @forall_shared(
// CHECK:         scf.forall.in_parallel
// CHECK:         linalg.generic
// CHECK:           arith.maximumf
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @forall_shared(%a: tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %c2 = arith.constant 2 : index
  %e = tensor.empty() : tensor<8x4xf32>
  %y = scf.forall (%i) in (4) shared_outs(%out = %e) -> (tensor<8x4xf32>) {
    %row = arith.muli %i, %c2 : index
    %p = tensor.extract_slice %a[%row, 0] [2, 4] [1, 1] : tensor<8x4xf32> to tensor<2x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %p into %out[%row, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<8x4xf32>
    }
  }
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<8x4xf32>) outs(%e : tensor<8x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<8x4xf32>
  return %relu, %y : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// The two sums of a batchnorm's gradient over the same incoming gradient
// (per channel: sum(dy), sum(dy * x)): one op with both results, one pass
// over dy. A third reduction that reads the first one's result (a
// variance after its mean) stays apart.
// CHECK-LABEL: func.func @sibling_sums(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<4x3x8xf32>, %[[X:[^:]+]]: tensor<4x3x8xf32>
// CHECK:         %[[S:.+]]:2 = linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel", "reduction"]
// CHECK-SAME:      ins(%[[DY]], %[[DY]], %[[X]] : tensor<4x3x8xf32>, tensor<4x3x8xf32>, tensor<4x3x8xf32>)
// CHECK:           arith.addf
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:           linalg.yield %{{.+}}, %{{.+}} : f32, f32
// CHECK:         } -> (tensor<3xf32>, tensor<3xf32>)
// CHECK:         %[[V:.+]] = linalg.generic {{.*}} ins(%[[X]], %[[S]]#0 :
// CHECK:         return %[[S]]#0, %[[S]]#1, %[[V]]
#x3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#c3 = affine_map<(d0, d1, d2) -> (d1)>
func.func @sibling_sums(%dy: tensor<4x3x8xf32>, %x: tensor<4x3x8xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<3xf32>) -> tensor<3xf32>
  %sum = linalg.generic {indexing_maps = [#x3, #c3], iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%dy : tensor<4x3x8xf32>) outs(%z : tensor<3xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  %dot = linalg.generic {indexing_maps = [#x3, #x3, #c3], iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%dy, %x : tensor<4x3x8xf32>, tensor<4x3x8xf32>) outs(%z : tensor<3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  %var = linalg.generic {indexing_maps = [#x3, #c3, #c3], iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%x, %sum : tensor<4x3x8xf32>, tensor<3xf32>) outs(%z : tensor<3xf32>) {
  ^bb0(%a: f32, %m: f32, %acc: f32):
    %d = arith.subf %a, %m : f32
    %q = arith.mulf %d, %d : f32
    %s = arith.addf %acc, %q : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  return %sum, %dot, %var : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// A batchnorm's normalization and relu read only through the four strided
// windows of a 2x2 max pool: computed on the windows of its operands (the
// channel parameters sliced alongside) and fused into the pool, so the
// activations between them are never written.
// CHECK-LABEL: func.func @pool_of_relu(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<2x3x4x4xf32>, %[[G:[^:]+]]: tensor<3xf32>
// CHECK-DAG:     %[[W0:.+]] = tensor.extract_slice %[[X]][0, 0, 0, 0] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK-DAG:     %[[W1:.+]] = tensor.extract_slice %[[X]][0, 0, 0, 1] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK-DAG:     %[[W2:.+]] = tensor.extract_slice %[[X]][0, 0, 1, 0] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK-DAG:     %[[W3:.+]] = tensor.extract_slice %[[X]][0, 0, 1, 1] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK:         %[[P:.+]] = linalg.generic
// CHECK-SAME:      ins(%[[W0]], %[[G]], %[[W1]], %[[W2]], %[[W3]] :
// CHECK-COUNT-7:   arith.maximumf
// CHECK:           linalg.yield
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[P]]
#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#c4 = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @pool_of_relu(%x: tensor<2x3x4x4xf32>, %g: tensor<3xf32>) -> tensor<2x3x2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x4x4xf32>
  %r = linalg.generic {indexing_maps = [#x4, #c4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %g : tensor<2x3x4x4xf32>, tensor<3xf32>) outs(%e : tensor<2x3x4x4xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %m = arith.mulf %a, %s : f32
    %y = arith.maximumf %m, %zero : f32
    linalg.yield %y : f32
  } -> tensor<2x3x4x4xf32>
  %w0 = tensor.extract_slice %r[0, 0, 0, 0] [2, 3, 2, 2] [1, 1, 2, 2] : tensor<2x3x4x4xf32> to tensor<2x3x2x2xf32>
  %w1 = tensor.extract_slice %r[0, 0, 0, 1] [2, 3, 2, 2] [1, 1, 2, 2] : tensor<2x3x4x4xf32> to tensor<2x3x2x2xf32>
  %w2 = tensor.extract_slice %r[0, 0, 1, 0] [2, 3, 2, 2] [1, 1, 2, 2] : tensor<2x3x4x4xf32> to tensor<2x3x2x2xf32>
  %w3 = tensor.extract_slice %r[0, 0, 1, 1] [2, 3, 2, 2] [1, 1, 2, 2] : tensor<2x3x4x4xf32> to tensor<2x3x2x2xf32>
  %pe = tensor.empty() : tensor<2x3x2x2xf32>
  %p = linalg.generic {indexing_maps = [#x4, #x4, #x4, #x4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w0, %w1, %w2, %w3 : tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>) outs(%pe : tensor<2x3x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %d: f32, %o: f32):
    %m0 = arith.maximumf %a, %b : f32
    %m1 = arith.maximumf %m0, %c : f32
    %m2 = arith.maximumf %m1, %d : f32
    linalg.yield %m2 : f32
  } -> tensor<2x3x2x2xf32>
  return %p : tensor<2x3x2x2xf32>
}

// -----

// The same activations also read whole (kept for a gradient): they are
// written once, and the pool reads its windows of them.
// CHECK-LABEL: func.func @relu_also_whole(
// CHECK:         %[[R:.+]] = linalg.generic
// CHECK:         tensor.extract_slice %[[R]][0, 0, 0, 0] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK:         tensor.extract_slice %[[R]][0, 0, 1, 1] [2, 3, 2, 2] [1, 1, 2, 2]
// CHECK:         %[[P:.+]] = linalg.generic
// CHECK:         return %[[P]], %[[R]]
#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @relu_also_whole(%x: tensor<2x3x4x4xf32>) -> (tensor<2x3x2x2xf32>, tensor<2x3x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x4x4xf32>
  %r = linalg.generic {indexing_maps = [#x4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x4x4xf32>) outs(%e : tensor<2x3x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = arith.maximumf %a, %zero : f32
    linalg.yield %y : f32
  } -> tensor<2x3x4x4xf32>
  %w0 = tensor.extract_slice %r[0, 0, 0, 0] [2, 3, 2, 2] [1, 1, 2, 2] : tensor<2x3x4x4xf32> to tensor<2x3x2x2xf32>
  %w3 = tensor.extract_slice %r[0, 0, 1, 1] [2, 3, 2, 2] [1, 1, 2, 2] : tensor<2x3x4x4xf32> to tensor<2x3x2x2xf32>
  %pe = tensor.empty() : tensor<2x3x2x2xf32>
  %p = linalg.generic {indexing_maps = [#x4, #x4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%w0, %w3 : tensor<2x3x2x2xf32>, tensor<2x3x2x2xf32>) outs(%pe : tensor<2x3x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m0 = arith.maximumf %a, %b : f32
    linalg.yield %m0 : f32
  } -> (tensor<2x3x2x2xf32>)
  return %p, %r : tensor<2x3x2x2xf32>, tensor<2x3x4x4xf32>
}

// -----

// A first convolution's batchnorm input gradient (here dy * x, 4 MiB),
// read whole by the bias gradient (a reduction) and per sample through a
// slice by the weight gradient's channels-last transpose: recomputed by
// both from dy and x, never written. The named consumers become generics.
// CHECK-LABEL: func.func @recompute_big(
// CHECK-SAME:    %[[DY:[^:]+]]: tensor<64x16x32x32xf32>, %[[X:[^:]+]]: tensor<64x16x32x32xf32>
// CHECK-NOT:     -> tensor<64x16x32x32xf32>
// CHECK:         %[[B:.+]] = linalg.generic
// CHECK-SAME:      iterator_types = ["reduction", "parallel", "reduction", "reduction"]
// CHECK-SAME:      ins(%[[DY]], %[[X]] :
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         scf.for
// CHECK-DAG:       %[[DS:.+]] = tensor.extract_slice %[[DY]][%{{.+}}, 0, 0, 0] [1, 16, 32, 32]
// CHECK-DAG:       %[[XS:.+]] = tensor.extract_slice %[[X]][%{{.+}}, 0, 0, 0] [1, 16, 32, 32]
// CHECK:           linalg.generic {{.*}} ins(%[[DS]], %[[XS]] :
// CHECK:             arith.mulf
// CHECK:           } -> tensor<1x32x32x16xf32>
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     linalg.reduce
#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @recompute_big(%dy: tensor<64x16x32x32xf32>, %x: tensor<64x16x32x32xf32>, %acc: tensor<16xf32>, %t: tensor<1x32x32x16xf32>) -> (tensor<16xf32>, tensor<1x32x32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %e = tensor.empty() : tensor<64x16x32x32xf32>
  %g = linalg.generic {indexing_maps = [#x4, #x4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%dy, %x : tensor<64x16x32x32xf32>, tensor<64x16x32x32xf32>) outs(%e : tensor<64x16x32x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<64x16x32x32xf32>
  %bias = linalg.reduce ins(%g : tensor<64x16x32x32xf32>) outs(%acc : tensor<16xf32>) dimensions = [0, 2, 3]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  %last = scf.for %i = %c0 to %c64 step %c1 iter_args(%prev = %t) -> (tensor<1x32x32x16xf32>) {
    %sample = tensor.extract_slice %g[%i, 0, 0, 0] [1, 16, 32, 32] [1, 1, 1, 1] : tensor<64x16x32x32xf32> to tensor<1x16x32x32xf32>
    %nhwc = linalg.transpose ins(%sample : tensor<1x16x32x32xf32>) outs(%prev : tensor<1x32x32x16xf32>) permutation = [0, 2, 3, 1]
    scf.yield %nhwc : tensor<1x32x32x16xf32>
  }
  return %bias, %last : tensor<16xf32>, tensor<1x32x32x16xf32>
}

// -----

// The same below 4 MiB (its write stays in cache): written once, read by
// both.
// CHECK-LABEL: func.func @keep_small(
// CHECK:         %[[G:.+]] = linalg.generic
// CHECK:         } -> tensor<64x16x16x16xf32>
// CHECK:         linalg.reduce ins(%[[G]]
// CHECK:         tensor.extract_slice %[[G]]
// CHECK:         linalg.transpose
#y4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @keep_small(%dy: tensor<64x16x16x16xf32>, %x: tensor<64x16x16x16xf32>, %acc: tensor<16xf32>, %t: tensor<1x16x16x16xf32>) -> (tensor<16xf32>, tensor<1x16x16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %e = tensor.empty() : tensor<64x16x16x16xf32>
  %g = linalg.generic {indexing_maps = [#y4, #y4, #y4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%dy, %x : tensor<64x16x16x16xf32>, tensor<64x16x16x16xf32>) outs(%e : tensor<64x16x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<64x16x16x16xf32>
  %bias = linalg.reduce ins(%g : tensor<64x16x16x16xf32>) outs(%acc : tensor<16xf32>) dimensions = [0, 2, 3]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  %last = scf.for %i = %c0 to %c64 step %c1 iter_args(%prev = %t) -> (tensor<1x16x16x16xf32>) {
    %sample = tensor.extract_slice %g[%i, 0, 0, 0] [1, 16, 16, 16] [1, 1, 1, 1] : tensor<64x16x16x16xf32> to tensor<1x16x16x16xf32>
    %nhwc = linalg.transpose ins(%sample : tensor<1x16x16x16xf32>) outs(%prev : tensor<1x16x16x16xf32>) permutation = [0, 2, 3, 1]
    scf.yield %nhwc : tensor<1x16x16x16xf32>
  }
  return %bias, %last : tensor<16xf32>, tensor<1x16x16x16xf32>
}

// -----

// Three full-size operands read by each of three readers (9 tensors)
// would move more than writing the result once and reading it three times
// (3 + 2 + 3): kept.
// CHECK-LABEL: func.func @keep_many_reads(
// CHECK:         %[[G:.+]] = linalg.generic
// CHECK-COUNT-3: linalg.reduce ins(%[[G]]
#z4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @keep_many_reads(%a: tensor<64x16x32x32xf32>, %b: tensor<64x16x32x32xf32>, %c: tensor<64x16x32x32xf32>, %acc: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) {
  %e = tensor.empty() : tensor<64x16x32x32xf32>
  %g = linalg.generic {indexing_maps = [#z4, #z4, #z4, #z4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a, %b, %c : tensor<64x16x32x32xf32>, tensor<64x16x32x32xf32>, tensor<64x16x32x32xf32>) outs(%e : tensor<64x16x32x32xf32>) {
  ^bb0(%p: f32, %q: f32, %r: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %m, %r : f32
    linalg.yield %s : f32
  } -> tensor<64x16x32x32xf32>
  %s0 = linalg.reduce ins(%g : tensor<64x16x32x32xf32>) outs(%acc : tensor<16xf32>) dimensions = [0, 2, 3]
    (%in: f32, %init: f32) {
      %t = arith.addf %in, %init : f32
      linalg.yield %t : f32
    }
  %s1 = linalg.reduce ins(%g : tensor<64x16x32x32xf32>) outs(%acc : tensor<16xf32>) dimensions = [0, 2, 3]
    (%in: f32, %init: f32) {
      %t = arith.maximumf %in, %init : f32
      linalg.yield %t : f32
    }
  %s2 = linalg.reduce ins(%g : tensor<64x16x32x32xf32>) outs(%acc : tensor<16xf32>) dimensions = [0, 2, 3]
    (%in: f32, %init: f32) {
      %t = arith.minimumf %in, %init : f32
      linalg.yield %t : f32
    }
  return %s0, %s1, %s2 : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
}

// -----

// Read whole by a transpose (a whole-batch NHWC copy) as well: kept, a
// transpose reading both operands instead of the result is not cheaper.
// CHECK-LABEL: func.func @keep_whole_transpose(
// CHECK:         %[[G:.+]] = linalg.generic
// CHECK:         linalg.reduce ins(%[[G]]
// CHECK:         linalg.transpose ins(%[[G]]
#w4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @keep_whole_transpose(%dy: tensor<64x16x32x32xf32>, %x: tensor<64x16x32x32xf32>, %acc: tensor<16xf32>, %t: tensor<64x32x32x16xf32>) -> (tensor<16xf32>, tensor<64x32x32x16xf32>) {
  %e = tensor.empty() : tensor<64x16x32x32xf32>
  %g = linalg.generic {indexing_maps = [#w4, #w4, #w4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%dy, %x : tensor<64x16x32x32xf32>, tensor<64x16x32x32xf32>) outs(%e : tensor<64x16x32x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<64x16x32x32xf32>
  %bias = linalg.reduce ins(%g : tensor<64x16x32x32xf32>) outs(%acc : tensor<16xf32>) dimensions = [0, 2, 3]
    (%in: f32, %init: f32) {
      %s = arith.addf %in, %init : f32
      linalg.yield %s : f32
    }
  %nhwc = linalg.transpose ins(%g : tensor<64x16x32x32xf32>) outs(%t : tensor<64x32x32x16xf32>) permutation = [0, 2, 3, 1]
  return %bias, %nhwc : tensor<16xf32>, tensor<64x32x32x16xf32>
}

// -----

// A per-channel producer (batchnorm's 1 / sqrt(var + eps)) that an op over
// [N, C, H, W] broadcasts is not fused into it, though it has one use: it
// would be computed again for every element. A same-shape producer is.
// CHECK-LABEL: func.func @broadcast_producer(
// CHECK:         %[[ISTD:.+]] = linalg.generic {{.*}} iterator_types = ["parallel"]
// CHECK:           math.sqrt
// CHECK:         linalg.generic {{.*}} ins(%{{.+}}, %[[ISTD]] : tensor<2x3x4x4xf32>, tensor<3xf32>)
// CHECK-NOT:       math.sqrt
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK-NOT:     linalg.generic
// CHECK:         return
#c1 = affine_map<(d0) -> (d0)>
#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @broadcast_producer(%x: tensor<2x3x4x4xf32>, %var: tensor<3xf32>) -> tensor<2x3x4x4xf32> {
  %c = tensor.empty() : tensor<3xf32>
  %istd = linalg.generic {indexing_maps = [#c1, #c1], iterator_types = ["parallel"]}
      ins(%var : tensor<3xf32>) outs(%c : tensor<3xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = math.sqrt %v : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  %e = tensor.empty() : tensor<2x3x4x4xf32>
  %shifted = linalg.generic {indexing_maps = [#x4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x4x4xf32>) outs(%e : tensor<2x3x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %d = arith.subf %a, %one : f32
    linalg.yield %d : f32
  } -> tensor<2x3x4x4xf32>
  %y = linalg.generic {indexing_maps = [#x4, #ch4, #x4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%shifted, %istd : tensor<2x3x4x4xf32>, tensor<3xf32>) outs(%e : tensor<2x3x4x4xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %m = arith.mulf %a, %s : f32
    linalg.yield %m : f32
  } -> tensor<2x3x4x4xf32>
  return %y : tensor<2x3x4x4xf32>
}
