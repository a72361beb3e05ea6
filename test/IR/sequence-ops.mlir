// RUN: nnc-opt %s -split-input-file | FileCheck %s
// RUN: nnc-opt %s -split-input-file | nnc-opt -split-input-file | FileCheck %s
// The token and sequence ops parse, verify and print back in their assembly
// formats.

// CHECK-LABEL: func @sequences
func.func @sequences(%ids: tensor<2x5xi32>, %w: tensor<10x3xf32>, %dy: tensor<2x5x3xf32>, %g: tensor<2x3xf32>)
    -> (tensor<2x5xf32>, tensor<2x5x3xf32>, tensor<10x3xf32>, tensor<2x3xf32>, tensor<2x5x3xf32>, tensor<2x3xf32>, tensor<2x5x3xf32>) {
  // CHECK: nn.token_mask %{{.+}} : tensor<2x5xi32> -> tensor<2x5xf32>
  %m = nn.token_mask %ids : tensor<2x5xi32> -> tensor<2x5xf32>
  // CHECK: nn.embedding %{{.+}}, %{{.+}} : (tensor<2x5xi32>, tensor<10x3xf32>) -> tensor<2x5x3xf32>
  %y = nn.embedding %ids, %w : (tensor<2x5xi32>, tensor<10x3xf32>) -> tensor<2x5x3xf32>
  // CHECK: nn.embedding_grad %{{.+}}, %{{.+}} : (tensor<2x5x3xf32>, tensor<2x5xi32>) -> tensor<10x3xf32>
  %dw = nn.embedding_grad %dy, %ids : (tensor<2x5x3xf32>, tensor<2x5xi32>) -> tensor<10x3xf32>
  // CHECK: nn.masked_avgpool %{{.+}}, %{{.+}} : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> tensor<2x3xf32>
  %a = nn.masked_avgpool %y, %m : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> tensor<2x3xf32>
  // CHECK: nn.masked_avgpool_grad %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x5x3xf32>
  %da = nn.masked_avgpool_grad %g, %m : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x5x3xf32>
  // CHECK: nn.masked_maxpool %{{.+}}, %{{.+}} : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xi32>)
  %x, %i = nn.masked_maxpool %y, %m : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xi32>)
  // CHECK: nn.masked_maxpool_grad %{{.+}}, %{{.+}} : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x5x3xf32>
  %dx = nn.masked_maxpool_grad %g, %i : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x5x3xf32>
  return %m, %y, %dw, %a, %da, %x, %dx : tensor<2x5xf32>, tensor<2x5x3xf32>, tensor<10x3xf32>, tensor<2x3xf32>, tensor<2x5x3xf32>, tensor<2x3xf32>, tensor<2x5x3xf32>
}

// -----

// CHECK-LABEL: func @transpose
func.func @transpose(%x: tensor<2x5x3xf32>) -> tensor<2x3x5xf32> {
  // CHECK: nn.transpose %{{.+}} {permutation = array<i64: 0, 2, 1>} : tensor<2x5x3xf32> -> tensor<2x3x5xf32>
  %y = nn.transpose %x {permutation = array<i64: 0, 2, 1>} : tensor<2x5x3xf32> -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}
