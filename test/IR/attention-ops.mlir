// RUN: nnc-opt %s -split-input-file | FileCheck %s
// RUN: nnc-opt %s -split-input-file | nnc-opt -split-input-file | FileCheck %s
// nn.attention and nn.attention_grad parse, verify and print back, with
// and without the dropout seed.

// CHECK-LABEL: func @attention
func.func @attention(%qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>, %do: tensor<2x5x8xf32>, %s: tensor<i64>)
    -> (tensor<2x5x8xf32>, tensor<2x5x24xf32>, tensor<2x5x8xf32>, tensor<2x5x24xf32>) {
  // CHECK: nn.attention %{{.+}}, %{{.+}} {causal = true, heads = 2 : i64} : (tensor<2x5x24xf32>, tensor<2x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  %o, %l = nn.attention %qkv, %m {heads = 2 : i64, causal = true} : (tensor<2x5x24xf32>, tensor<2x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  // CHECK: nn.attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {causal = true, heads = 2 : i64} : (tensor<2x5x8xf32>, tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<2x5x8xf32>, tensor<2x2x5xf32>) -> tensor<2x5x24xf32>
  %d = nn.attention_grad %do, %qkv, %m, %o, %l {heads = 2 : i64, causal = true} : (tensor<2x5x8xf32>, tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<2x5x8xf32>, tensor<2x2x5xf32>) -> tensor<2x5x24xf32>
  // CHECK: nn.attention %{{.+}}, %{{.+}}, %{{.+}} {heads = 2 : i64, p = 1.000000e-01 : f32, stream = 4 : i64} : (tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<i64>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  %o2, %l2 = nn.attention %qkv, %m, %s {heads = 2 : i64, p = 0.1 : f32, stream = 4 : i64} : (tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<i64>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  // CHECK: nn.attention_grad %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {heads = 2 : i64, p = 1.000000e-01 : f32, stream = 4 : i64}
  %d2 = nn.attention_grad %do, %qkv, %m, %o2, %l2, %s {heads = 2 : i64, p = 0.1 : f32, stream = 4 : i64} : (tensor<2x5x8xf32>, tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<2x5x8xf32>, tensor<2x2x5xf32>, tensor<i64>) -> tensor<2x5x24xf32>
  return %o, %d, %o2, %d2 : tensor<2x5x8xf32>, tensor<2x5x24xf32>, tensor<2x5x8xf32>, tensor<2x5x24xf32>
}
