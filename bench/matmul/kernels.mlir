// Kernels timed by bench/matmul/run.sh (GFLOP/s of the generated code).
#map = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// 512^3 matmul + bias + relu.
func.func @mm512_bias_relu(%a: tensor<512x512xf32>, %b: tensor<512x512xf32>,
                           %bias: tensor<512xf32>) -> tensor<512x512xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<512x512xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<512x512xf32>) -> tensor<512x512xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<512x512xf32>, tensor<512x512xf32>)
                      outs(%acc : tensor<512x512xf32>) -> tensor<512x512xf32>
  %y = linalg.generic {indexing_maps = [#map, #col, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<512x512xf32>, tensor<512xf32>) outs(%e : tensor<512x512xf32>) {
  ^bb0(%m: f32, %bb: f32, %o: f32):
    %s = arith.addf %m, %bb : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<512x512xf32>
  return %y : tensor<512x512xf32>
}

// MLP 784-128 at batch 64, forward: y = x w.
func.func @mlp_fwd(%x: tensor<64x784xf32>, %w: tensor<784x128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %y = linalg.matmul ins(%x, %w : tensor<64x784xf32>, tensor<784x128xf32>)
                     outs(%acc : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// Backward, weight gradient: dw = x^T dy.
func.func @mlp_dw(%x: tensor<64x784xf32>, %dy: tensor<64x128xf32>) -> tensor<784x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<784x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<784x128xf32>) -> tensor<784x128xf32>
  %y = linalg.matmul_transpose_a ins(%x, %dy : tensor<64x784xf32>, tensor<64x128xf32>)
                                 outs(%acc : tensor<784x128xf32>) -> tensor<784x128xf32>
  return %y : tensor<784x128xf32>
}

// Backward, input gradient: dx = dy w^T.
func.func @mlp_dx(%dy: tensor<64x128xf32>, %w: tensor<784x128xf32>) -> tensor<64x784xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x784xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<64x784xf32>) -> tensor<64x784xf32>
  %y = linalg.matmul_transpose_b ins(%dy, %w : tensor<64x128xf32>, tensor<784x128xf32>)
                                 outs(%acc : tensor<64x784xf32>) -> tensor<64x784xf32>
  return %y : tensor<64x784xf32>
}
