// RUN: nnc-opt %s -split-input-file -nn-autodiff -nn-build-train-step | FileCheck %s

// AdamW (Adam with decoupled weight decay; defaults are elided): two states per parameter, the schedule's learning rate, one update
// per parameter; results are new params, new states, loss, predictions, lr.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.+]]: tensor<3x2xf32> {nn.param = "w"}, %[[B:.+]]: tensor<3xf32> {nn.param = "b"}, %[[M1:.+]]: tensor<3x2xf32>, %[[M2:.+]]: tensor<3xf32>, %[[V1:.+]]: tensor<3x2xf32>, %[[V2:.+]]: tensor<3xf32>, %[[X:.+]]: tensor<4x2xf32>, %[[Y:.+]]: tensor<4xi32>, %[[MASK:.+]]: tensor<4xf32>, %[[STEP:.+]]: tensor<i64>, %[[SPE:.+]]: tensor<i64>, %[[EPOCHS:.+]]: tensor<i64>, %{{.+}}: tensor<i64>, %[[FACTOR:.+]]: tensor<f32>)
// CHECK-SAME: -> (tensor<3x2xf32>, tensor<3xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<f32>, tensor<4x3xf32>, tensor<f32>)
// CHECK-SAME: nn.states = ["exp_avg", "exp_avg_sq"], nn.train_step
// The schedule's length is the run's epochs, an argument (--epochs).
// CHECK: %[[SCHED:.+]] = nn.lr_schedule %[[STEP]], %[[SPE]], %[[EPOCHS]] {base_lr = 2.000000e-03 : f64, schedule = #nn.schedule<kind = cosine, warmup = 1.0, min_lr = 1.0e-05>}
// The runtime's --lr override scales the schedule.
// CHECK: %[[LR:.+]] = nn.mul %[[SCHED]], %[[FACTOR]] : tensor<f32>
// CHECK: nn.adam_update %[[W]], %{{.+}}, %[[M1]], %[[V1]], %[[LR]], %[[STEP]] {decoupled, weight_decay = 0.00999999977 : f32} : tensor<3x2xf32>
// CHECK: nn.adam_update %[[B]], %{{.+}}, %[[M2]], %[[V2]], %[[LR]], %[[STEP]]
module attributes {nn.optimizer = #nn.optimizer<kind = adamw, lr = 2.0e-3, weight_decay = 0.01, schedule = <kind = cosine, warmup = 1.0, min_lr = 1.0e-5>>} {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %b: tensor<3xf32> {nn.param = "b"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w, %b : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
}

// -----

// Plain SGD keeps no state: a zero buffer stands in and no state is returned.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.+]]: tensor<1x1xf32> {nn.param = "w"}, %[[X:.+]]: tensor<4x1xf32>, %{{.+}}: tensor<4x1xf32>, %{{.+}}: tensor<4xf32>, %[[STEP:.+]]: tensor<i64>, %{{.+}}: tensor<i64>, %{{.+}}: tensor<i64>, %{{.+}}: tensor<i64>, %[[FACTOR:.+]]: tensor<f32>)
// CHECK-SAME: -> (tensor<1x1xf32>, tensor<f32>, tensor<4x1xf32>, tensor<f32>)
// CHECK: %[[SCHED:.+]] = nn.lr_schedule {{.+}} {base_lr = 1.000000e-02 : f64, schedule = #nn.schedule<kind = constant>}
// CHECK: %[[LR:.+]] = nn.mul %[[SCHED]], %[[FACTOR]]
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<1x1xf32>
// CHECK: nn.sgd_update %[[W]], %{{.+}}, %[[ZERO]], %[[LR]], %[[STEP]] : tensor<1x1xf32>
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.01, schedule = <kind = constant>>} {
  func.func @loss(%w: tensor<1x1xf32> {nn.param = "w"}, %x: tensor<4x1xf32>, %t: tensor<4x1xf32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x1xf32>) attributes {nn.loss} {
    %p = nn.dense %x, %w : (tensor<4x1xf32>, tensor<1x1xf32>) -> tensor<4x1xf32>
    %l = nn.mse_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
    return %l, %p : tensor<f32>, tensor<4x1xf32>
  }
}

// -----

// Buffers (batchnorm running statistics) follow the parameters in and out:
// train_step(params, buffers, states, data, step, spe, epochs, seed,
// lr_factor) returns new params, new buffers (the loss's
// `nn.buffer_results`), new states, loss, predictions, lr. The loss's dropout
// seed is derived from the run's seed (an argument: --seed) and the step.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.+]]: tensor<3x2xf32> {nn.param = "w"}, %[[G:.+]]: tensor<3xf32> {nn.param = "bn.weight"}, %[[B:.+]]: tensor<3xf32> {nn.param = "bn.bias"}, %[[RM:.+]]: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %[[RV:.+]]: tensor<3xf32> {nn.buffer = "bn.running_var"}, %[[N:.+]]: tensor<f32> {nn.buffer = "bn.num_batches_tracked"}, %[[MW:.+]]: tensor<3x2xf32>, %[[MG:.+]]: tensor<3xf32>, %[[MB:.+]]: tensor<3xf32>, %[[X:.+]]: tensor<4x2xf32>, %[[Y:.+]]: tensor<4xi32>, %[[MASK:.+]]: tensor<4xf32>, %[[STEP:.+]]: tensor<i64>, %{{.+}}: tensor<i64>, %{{.+}}: tensor<i64>, %[[RUNSEED:.+]]: tensor<i64>, %{{.+}}: tensor<f32>)
// CHECK-SAME: -> (tensor<3x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<3x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<4x3xf32>, tensor<f32>)
// CHECK-SAME: nn.states = ["momentum_buffer"], nn.train_step
// CHECK: %[[S:.+]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK: %[[K:.+]] = arith.constant -6884282663029611473 : i64
// CHECK: %[[SK:.+]] = arith.muli %[[S]], %[[K]] : i64
// CHECK: %[[R:.+]] = tensor.extract %[[RUNSEED]][] : tensor<i64>
// CHECK: %[[RK:.+]] = arith.constant -2960836687051489901 : i64
// CHECK: %[[RS:.+]] = arith.muli %[[R]], %[[RK]] : i64
// CHECK: %[[SEEDV:.+]] = arith.addi %[[SK]], %[[RS]] : i64
// CHECK: %[[SEED:.+]] = tensor.from_elements %[[SEEDV]] : tensor<i64>
// CHECK: %[[Y0:.+]], %[[MEAN:.+]], %[[VAR:.+]], %{{.+}} = nn.batchnorm %{{.+}}, %[[G]], %[[B]], %[[MASK]]
// CHECK: nn.dropout %[[Y0]], %[[SEED]]
// CHECK: %[[RM2:.+]] = nn.running_average %[[RM]], %[[MEAN]]
// CHECK: %[[RV2:.+]] = nn.running_average %[[RV]], %[[VAR]]
// CHECK: %[[N2:.+]] = nn.add %[[N]]
// CHECK: nn.dropout %{{.+}}, %[[SEED]]
// CHECK: nn.batchnorm_grad
// CHECK: %[[W2:.+]], %[[MW2:.+]] = nn.sgd_update %[[W]], %{{.+}}, %[[MW]]
// CHECK: %[[G2:.+]], %[[MG2:.+]] = nn.sgd_update %[[G]], %{{.+}}, %[[MG]]
// CHECK: %[[B2:.+]], %[[MB2:.+]] = nn.sgd_update %[[B]], %{{.+}}, %[[MB]]
// CHECK: return %[[W2]], %[[G2]], %[[B2]], %[[RM2]], %[[RV2]], %[[N2]], %[[MW2]], %[[MG2]], %[[MB2]], %{{.+}}, %{{.+}}, %{{.+}} :
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, momentum = 0.9, schedule = <kind = constant>>} {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %g: tensor<3xf32> {nn.param = "bn.weight"}, %b: tensor<3xf32> {nn.param = "bn.bias"}, %rm: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %rv: tensor<3xf32> {nn.buffer = "bn.running_var"}, %n: tensor<f32> {nn.buffer = "bn.num_batches_tracked"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>, %seed: tensor<i64> {nn.seed}) -> (tensor<f32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>) attributes {nn.loss, nn.buffer_results = ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]} {
    %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %h, %mean, %var, %istd = nn.batchnorm %z, %g, %b, %m : tensor<4x3xf32>, tensor<3xf32>, tensor<4xf32>
    %d = nn.dropout %h, %seed {p = 2.500000e-01 : f32} : tensor<4x3xf32>
    %rm2 = nn.running_average %rm, %mean : tensor<3xf32>
    %rv2 = nn.running_average %rv, %var : tensor<3xf32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %n2 = nn.add %n, %one : tensor<f32>
    %l = nn.cross_entropy_loss %d, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %d, %rm2, %rv2, %n2 : tensor<f32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>
  }
}

// -----

// Magnitude pruning: a parameter naming its mask buffer (`nn.mask`) is
// multiplied by it after its update (pruned weights stay zero); the mask
// passes through unchanged (only nnc_prune rewrites it); an unmasked
// parameter is left alone.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:.+]]: tensor<3x2xf32> {nn.param = "w"}, %[[B:.+]]: tensor<3xf32> {nn.param = "b"}, %[[M:.+]]: tensor<3x2xf32> {nn.buffer = "w_mask"},
// CHECK: %[[NW:.+]], %{{.+}} = nn.sgd_update %[[W]],
// CHECK: %[[NB:.+]], %{{.+}} = nn.sgd_update %[[B]],
// CHECK: %[[PW:.+]] = nn.mul %[[NW]], %[[M]] : tensor<3x2xf32>
// CHECK-NOT: nn.mul
// CHECK: return %[[PW]], %[[NB]], %[[M]],
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, schedule = #nn.schedule<kind = constant>>} {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w", nn.mask = "w_mask"}, %b: tensor<3xf32> {nn.param = "b"}, %mw: tensor<3x2xf32> {nn.buffer = "w_mask"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w, %b : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
}
