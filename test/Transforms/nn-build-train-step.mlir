// RUN: nnc-opt %s -split-input-file -nn-autodiff -nn-build-train-step | FileCheck %s

// AdamW (Adam with decoupled weight decay; defaults are elided): two states per parameter, the schedule's learning rate, one update
// per parameter; results are new params, new states, loss, predictions, lr.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.+]]: tensor<3x2xf32> {nn.param = "w"}, %[[B:.+]]: tensor<3xf32> {nn.param = "b"}, %[[M1:.+]]: tensor<3x2xf32>, %[[M2:.+]]: tensor<3xf32>, %[[V1:.+]]: tensor<3x2xf32>, %[[V2:.+]]: tensor<3xf32>, %[[X:.+]]: tensor<4x2xf32>, %[[Y:.+]]: tensor<4xi32>, %[[MASK:.+]]: tensor<4xf32>, %[[STEP:.+]]: tensor<i64>, %[[SPE:.+]]: tensor<i64>, %[[FACTOR:.+]]: tensor<f32>)
// CHECK-SAME: -> (tensor<3x2xf32>, tensor<3xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<f32>, tensor<4x3xf32>, tensor<f32>)
// CHECK-SAME: nn.states = ["exp_avg", "exp_avg_sq"], nn.train_step
// CHECK: %[[SCHED:.+]] = nn.lr_schedule %[[STEP]], %[[SPE]] {base_lr = 2.000000e-03 : f64, epochs = 5 : i64, kind = 3 : i32, min_lr = 1.000000e-05 : f64, warmup = 1.000000e+00 : f64}
// The runtime's --lr override scales the schedule.
// CHECK: %[[LR:.+]] = nn.mul %[[SCHED]], %[[FACTOR]] : tensor<f32>
// CHECK: nn.adam_update %[[W]], %{{.+}}, %[[M1]], %[[V1]], %[[LR]], %[[STEP]] {decoupled, weight_decay = 0.00999999977 : f32} : tensor<3x2xf32>
// CHECK: nn.adam_update %[[B]], %{{.+}}, %[[M2]], %[[V2]], %[[LR]], %[[STEP]]
module attributes {nn.optimizer = {kind = "adamw", lr = 2.0e-3 : f64, schedule = {kind = 3 : i64, epochs = 5 : i64, warmup = 1.0 : f64, min_lr = 1.0e-5 : f64}}} {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %b: tensor<3xf32> {nn.param = "b"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w, %b : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
}

// -----

// Plain SGD keeps no state: a zero buffer stands in and no state is returned.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.+]]: tensor<1x1xf32> {nn.param = "w"}, %[[X:.+]]: tensor<4x1xf32>, %{{.+}}: tensor<4x1xf32>, %{{.+}}: tensor<4xf32>, %[[STEP:.+]]: tensor<i64>, %{{.+}}: tensor<i64>, %[[FACTOR:.+]]: tensor<f32>)
// CHECK-SAME: -> (tensor<1x1xf32>, tensor<f32>, tensor<4x1xf32>, tensor<f32>)
// CHECK: %[[SCHED:.+]] = nn.lr_schedule {{.+}} {base_lr = 1.000000e-02 : f64, epochs = 1 : i64, kind = 0 : i32}
// CHECK: %[[LR:.+]] = nn.mul %[[SCHED]], %[[FACTOR]]
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<1x1xf32>
// CHECK: nn.sgd_update %[[W]], %{{.+}}, %[[ZERO]], %[[LR]], %[[STEP]] : tensor<1x1xf32>
module attributes {nn.optimizer = {kind = "sgd", lr = 0.01 : f64}} {
  func.func @loss(%w: tensor<1x1xf32> {nn.param = "w"}, %x: tensor<4x1xf32>, %t: tensor<4x1xf32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x1xf32>) attributes {nn.loss} {
    %p = nn.dense %x, %w : (tensor<4x1xf32>, tensor<1x1xf32>) -> tensor<4x1xf32>
    %l = nn.mse_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
    return %l, %p : tensor<f32>, tensor<4x1xf32>
  }
}
