// RUN: nnc-opt %s -split-input-file -nn-unshare-empty-tensors | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-unshare-empty-tensors -eliminate-empty-tensors -cse | FileCheck %s --check-prefix=ETE
// RUN: nnc-opt %s -split-input-file -eliminate-empty-tensors -cse | FileCheck %s --check-prefix=SHARED

// Two halves of a result, each computed into a tensor.empty (the
// canonicalized extract_slice of an empty destination) and inserted into the
// result, as gemmResultTo and im2col build them; CSE has merged the halves'
// tensor.empty. Unshared, every use has its own tensor.empty, all where the
// original stood and tagged so that CSE keeps them apart; empty-tensor
// elimination then makes each half write straight into its place in the
// result. Left shared, both halves end up written into the slice of the
// first (a temporary and a copy once bufferized).

// CHECK-LABEL: func.func @halves(
// CHECK:         %[[R:.+]] = tensor.empty() {nn.empty_id = 0 : i64} : tensor<4x8xf32>
// CHECK-NEXT:    %[[P1:.+]] = tensor.empty() {nn.empty_id = 1 : i64} : tensor<2x8xf32>
// CHECK-NEXT:    %[[P0:.+]] = tensor.empty() {nn.empty_id = 2 : i64} : tensor<2x8xf32>
// CHECK-NEXT:    %[[H0:.+]] = linalg.generic {{.*}} outs(%[[P0]] :
// CHECK:         %[[R1:.+]] = tensor.insert_slice %[[H0]] into %[[R]][0, 0]
// CHECK-NEXT:    %[[H1:.+]] = linalg.generic {{.*}} outs(%[[P1]] :
// CHECK:         tensor.insert_slice %[[H1]] into %[[R1]][2, 0]

// ETE-LABEL: func.func @halves(
// ETE:         %[[R:.+]] = tensor.empty() {nn.empty_id
// ETE-NOT:     tensor.empty
// ETE:         %[[S0:.+]] = tensor.extract_slice %[[R]][0, 0] [2, 8]
// ETE-NEXT:    %[[H0:.+]] = linalg.generic {{.*}} outs(%[[S0]] :
// ETE:         %[[R1:.+]] = tensor.insert_slice %[[H0]] into %[[R]][0, 0] [2, 8]
// ETE-NEXT:    %[[S1:.+]] = tensor.extract_slice %[[R1]][2, 0] [2, 8]
// ETE-NEXT:    %[[H1:.+]] = linalg.generic {{.*}} outs(%[[S1]] :
// ETE:         tensor.insert_slice %[[H1]] into %[[R1]][2, 0] [2, 8]

// SHARED-LABEL: func.func @halves(
// SHARED:        %[[S0:.+]] = tensor.extract_slice %{{.+}}[0, 0] [2, 8]
// SHARED:        linalg.generic {{.*}} outs(%[[S0]] :
// SHARED:        linalg.generic {{.*}} outs(%[[S0]] :
// SHARED:        tensor.insert_slice %{{.+}} into %{{.+}}[2, 0] [2, 8]

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @halves(%a: tensor<2x8xf32>, %b: tensor<2x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %p = tensor.empty() : tensor<2x8xf32>
  %h0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<2x8xf32>) outs(%p : tensor<2x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<2x8xf32>
  %r0 = tensor.insert_slice %h0 into %e[0, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<4x8xf32>
  %h1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<2x8xf32>) outs(%p : tensor<2x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<2x8xf32>
  %r1 = tensor.insert_slice %h1 into %r0[2, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<4x8xf32>
  return %r1 : tensor<4x8xf32>
}

// -----

// A value computed into a tensor.empty, collapsed and inserted into a
// larger tensor (a max-pooling gradient's [N, C, OH, 2, OW, 2] windows into
// the padded [N, C, H, W] gradient, whose last row and column are filled
// separately): the tensor.empty becomes the expand_shape of the slice it is
// inserted at, so the op writes in place (empty-tensor elimination does not
// look through reshapes).
// CHECK-LABEL: func.func @windows_into_padded(
// CHECK:         %[[D:.+]] = tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 4, 0] [1, 2, 1, 5]
// CHECK:         %[[S:.+]] = tensor.extract_slice %[[D]][0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1]
// CHECK:         %[[E:.+]] = tensor.expand_shape %[[S]] {{\[}}[0], [1], [2, 3], [4, 5]] output_shape [1, 2, 2, 2, 2, 2]
// CHECK:         %[[W:.+]] = linalg.generic {{.*}} outs(%[[E]] : tensor<1x2x2x2x2x2xf32>)
// CHECK:         %[[C:.+]] = tensor.collapse_shape %[[W]]
// CHECK:         tensor.insert_slice %[[C]] into %[[D]][0, 0, 0, 0] [1, 2, 4, 4]
#in6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
#out6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @windows_into_padded(%dy: tensor<1x2x2x2xf32>, %strip: tensor<1x2x1x5xf32>) -> tensor<1x2x5x5xf32> {
  %full = tensor.empty() : tensor<1x2x5x5xf32>
  %d = tensor.insert_slice %strip into %full[0, 0, 4, 0] [1, 2, 1, 5] [1, 1, 1, 1] : tensor<1x2x1x5xf32> into tensor<1x2x5x5xf32>
  %e = tensor.empty() : tensor<1x2x2x2x2x2xf32>
  %w = linalg.generic {indexing_maps = [#in6, #out6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%dy : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2x2x2xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<1x2x2x2x2x2xf32>
  %c = tensor.collapse_shape %w [[0], [1], [2, 3], [4, 5]] : tensor<1x2x2x2x2x2xf32> into tensor<1x2x4x4xf32>
  %r = tensor.insert_slice %c into %d[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x4xf32> into tensor<1x2x5x5xf32>
  return %r : tensor<1x2x5x5xf32>
}

// -----

// A part computed in its slice of a tensor.empty and inserted back at the
// same slice (a matmul split into whole register tiles and a remainder,
// both starting from registers instead of a fill): the extract_slice and
// the insert_slice keep the one tensor.empty, so the part is computed in
// place; another use (the remainder's slice, taken of the insertion's
// result) is unaffected. Were they unshared, the part would be computed
// into a temporary and copied into the result.
// CHECK-LABEL: func.func @part_in_place(
// CHECK:         %[[E:.+]] = tensor.empty() {nn.empty_id = 0 : i64} : tensor<4x8xf32>
// CHECK-NOT:     tensor.empty
// CHECK:         %[[S:.+]] = tensor.extract_slice %[[E]][0, 0] [4, 6] [1, 1]
// CHECK:         %[[H:.+]] = scf.for {{.*}} iter_args(%{{.+}} = %[[S]])
// CHECK:         %[[R:.+]] = tensor.insert_slice %[[H]] into %[[E]][0, 0] [4, 6] [1, 1]
// CHECK:         tensor.extract_slice %[[R]][0, 6] [4, 2] [1, 1]
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @part_in_place(%a: tensor<4x6xf32>, %b: tensor<4x2xf32>) -> tensor<4x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %e = tensor.empty() : tensor<4x8xf32>
  %s = tensor.extract_slice %e[0, 0] [4, 6] [1, 1] : tensor<4x8xf32> to tensor<4x6xf32>
  %h = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %s) -> (tensor<4x6xf32>) {
    %n = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
        ins(%a : tensor<4x6xf32>) outs(%acc : tensor<4x6xf32>) {
    ^bb0(%x: f32, %o: f32):
      %y = arith.addf %x, %o : f32
      linalg.yield %y : f32
    } -> tensor<4x6xf32>
    scf.yield %n : tensor<4x6xf32>
  }
  %r = tensor.insert_slice %h into %e[0, 0] [4, 6] [1, 1] : tensor<4x6xf32> into tensor<4x8xf32>
  %t = tensor.extract_slice %r[0, 6] [4, 2] [1, 1] : tensor<4x8xf32> to tensor<4x2xf32>
  %u = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<4x2xf32>) outs(%t : tensor<4x2xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<4x2xf32>
  %r2 = tensor.insert_slice %u into %r[0, 6] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x8xf32>
  return %r2 : tensor<4x8xf32>
}

// -----

// The same through the loop-carried value of a serial loop (a pooling
// gradient too small to be split into chunks, tiled into scf.for loops):
// the loop starts from the expand_shape of the slice and writes in place.
// CHECK-LABEL: func.func @serial_windows(
// CHECK:         %[[S:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1]
// CHECK:         %[[E:.+]] = tensor.expand_shape %[[S]]
// CHECK:         scf.for {{.*}} iter_args(%{{.+}} = %[[E]])
func.func @serial_windows(%dy: tensor<1x2x2x2x2x2xf32>, %strip: tensor<1x2x1x5xf32>) -> tensor<1x2x5x5xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %full = tensor.empty() : tensor<1x2x5x5xf32>
  %d = tensor.insert_slice %strip into %full[0, 0, 4, 0] [1, 2, 1, 5] [1, 1, 1, 1] : tensor<1x2x1x5xf32> into tensor<1x2x5x5xf32>
  %e = tensor.empty() : tensor<1x2x2x2x2x2xf32>
  %w = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %e) -> (tensor<1x2x2x2x2x2xf32>) {
    %s = tensor.extract_slice %dy[0, %i, 0, 0, 0, 0] [1, 1, 2, 2, 2, 2] [1, 1, 1, 1, 1, 1] : tensor<1x2x2x2x2x2xf32> to tensor<1x1x2x2x2x2xf32>
    %r = tensor.insert_slice %s into %acc[0, %i, 0, 0, 0, 0] [1, 1, 2, 2, 2, 2] [1, 1, 1, 1, 1, 1] : tensor<1x1x2x2x2x2xf32> into tensor<1x2x2x2x2x2xf32>
    scf.yield %r : tensor<1x2x2x2x2x2xf32>
  }
  %c = tensor.collapse_shape %w [[0], [1], [2, 3], [4, 5]] : tensor<1x2x2x2x2x2xf32> into tensor<1x2x4x4xf32>
  %out = tensor.insert_slice %c into %d[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x4xf32> into tensor<1x2x5x5xf32>
  return %out : tensor<1x2x5x5xf32>
}

// -----

// A concatenation built after its parts (an inception block's branches):
// its tensor.empty and the parts inserted before a part move before that
// part's computation, so that empty-tensor elimination computes each part
// in its slice of the concatenation (without it, each part has a buffer of
// its own, copied in: SHARED).
// CHECK-LABEL: func.func @concatenation(
// CHECK:         %[[EA:.+]] = tensor.empty() {{.*}} : tensor<4x2xf32>
// CHECK:         %[[C:.+]] = tensor.empty() {{.*}} : tensor<4x5xf32>
// CHECK:         %[[PA:.+]] = linalg.generic {{.*}} outs(%[[EA]] : tensor<4x2xf32>)
// CHECK:         %[[EB:.+]] = tensor.empty() {{.*}} : tensor<4x3xf32>
// CHECK:         %[[C1:.+]] = tensor.insert_slice %[[PA]] into %[[C]][0, 0] [4, 2] [1, 1]
// CHECK:         %[[PB:.+]] = linalg.generic {{.*}} outs(%[[EB]] : tensor<4x3xf32>)
// CHECK:         tensor.insert_slice %[[PB]] into %[[C1]][0, 2] [4, 3] [1, 1]
// ETE-LABEL: func.func @concatenation(
// ETE:         %[[C:.+]] = tensor.empty() {{.*}} : tensor<4x5xf32>
// ETE-NOT:     tensor.empty
// ETE:         %[[SA:.+]] = tensor.extract_slice %[[C]][0, 0] [4, 2] [1, 1]
// ETE:         %[[PA:.+]] = linalg.generic {{.*}} outs(%[[SA]] : tensor<4x2xf32>)
// ETE:         %[[C1:.+]] = tensor.insert_slice %[[PA]] into %[[C]][0, 0] [4, 2] [1, 1]
// ETE:         %[[SB:.+]] = tensor.extract_slice %[[C1]][0, 2] [4, 3] [1, 1]
// ETE:         %[[PB:.+]] = linalg.generic {{.*}} outs(%[[SB]] : tensor<4x3xf32>)
// ETE:         tensor.insert_slice %[[PB]] into %[[C1]][0, 2] [4, 3] [1, 1]
// SHARED-LABEL: func.func @concatenation(
// SHARED:         tensor.empty() : tensor<4x2xf32>
// SHARED:         tensor.empty() : tensor<4x3xf32>
// SHARED:         tensor.empty() : tensor<4x5xf32>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @concatenation(%a: tensor<4x2xf32>, %b: tensor<4x3xf32>) -> tensor<4x5xf32> {
  %ea = tensor.empty() : tensor<4x2xf32>
  %pa = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x2xf32>) outs(%ea : tensor<4x2xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<4x2xf32>
  %eb = tensor.empty() : tensor<4x3xf32>
  %pb = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<4x3xf32>) outs(%eb : tensor<4x3xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<4x3xf32>
  %c = tensor.empty() : tensor<4x5xf32>
  %c1 = tensor.insert_slice %pa into %c[0, 0] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x5xf32>
  %c2 = tensor.insert_slice %pb into %c1[0, 2] [4, 3] [1, 1] : tensor<4x3xf32> into tensor<4x5xf32>
  return %c2 : tensor<4x5xf32>
}
