// RUN: nnc-opt %s -split-input-file | FileCheck %s
// RUN: nnc-opt %s -split-input-file | nnc-opt -split-input-file | FileCheck %s
// The ops of NNNormOps.td parse, verify and print back.

// CHECK-LABEL: func @norm
func.func @norm(%x: tensor<4x3x2x2xf32>, %w: tensor<3xf32>, %b: tensor<3xf32>, %m: tensor<4xf32>, %dy: tensor<4x3x2x2xf32>) {
  // CHECK: %{{.+}}, %[[MEAN:.+]], %[[VAR:.+]], %[[ISTD:.+]] = nn.batchnorm %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {eps = 1.000000e-03 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  %y, %mean, %var, %istd = nn.batchnorm %x, %w, %b, %m {eps = 1.0e-3 : f32} : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  // CHECK: nn.batchnorm_grad %{{.+}}, %{{.+}}, %{{.+}}, %[[MEAN]], %[[ISTD]], %{{.+}} : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  %dx, %dw, %db = nn.batchnorm_grad %dy, %x, %w, %mean, %istd, %m : tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<4xf32>
  // CHECK: nn.running_average %{{.+}}, %[[MEAN]] {momentum = 2.000000e-01 : f32} : tensor<3xf32>
  %rm = nn.running_average %w, %mean {momentum = 0.2 : f32} : tensor<3xf32>
  // CHECK: nn.batchnorm_inference %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[VAR]] : tensor<4x3x2x2xf32>, tensor<3xf32>
  %e = nn.batchnorm_inference %x, %w, %b, %rm, %var : tensor<4x3x2x2xf32>, tensor<3xf32>
  return
}

// -----

// CHECK-LABEL: func @layernorm_dropout_concat
func.func @layernorm_dropout_concat(%x: tensor<4x5xf32>, %w: tensor<5xf32>, %s: tensor<i64>, %a: tensor<4x2xf32>) {
  // CHECK: nn.layernorm %{{.+}}, %{{.+}}, %{{.+}} : tensor<4x5xf32>, tensor<5xf32>
  %y = nn.layernorm %x, %w, %w : tensor<4x5xf32>, tensor<5xf32>
  // CHECK: nn.layernorm_grad %{{.+}}, %{{.+}}, %{{.+}} : tensor<4x5xf32>, tensor<5xf32>
  %dx, %dw, %db = nn.layernorm_grad %y, %x, %w : tensor<4x5xf32>, tensor<5xf32>
  // CHECK: nn.dropout %{{.+}}, %{{.+}} {p = 2.500000e-01 : f32, stream = 3 : i64} : tensor<4x5xf32>
  %d = nn.dropout %x, %s {p = 0.25 : f32, stream = 3 : i64} : tensor<4x5xf32>
  // CHECK: nn.concat %{{.+}}, %{{.+}} : (tensor<4x5xf32>, tensor<4x2xf32>) -> tensor<4x7xf32>
  %c = nn.concat %x, %a : (tensor<4x5xf32>, tensor<4x2xf32>) -> tensor<4x7xf32>
  // CHECK: nn.slice %{{.+}} {offsets = array<i64: 0, 5>} : tensor<4x7xf32> to tensor<4x2xf32>
  %sl = nn.slice %c {offsets = array<i64: 0, 5>} : tensor<4x7xf32> to tensor<4x2xf32>
  return
}
