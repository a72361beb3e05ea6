// RUN: nnc-opt %s -split-input-file | FileCheck %s
// RUN: nnc-opt %s -split-input-file | nnc-opt -split-input-file | FileCheck %s
// The optimizer and schedule attributes print back in their order, whatever
// the order given, without the parameters equal to their defaults
// (torch.optim's), every value as the shortest decimal of its exact f64.

// CHECK: module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, momentum = 0.9, nesterov = true, schedule = <kind = step, every = 3.0, gamma = 0.5>>}
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, nesterov = true, lr = 0.1, dampening = 0.0, momentum = 0.9, schedule = #nn.schedule<kind = step, gamma = 0.5, every = 3.0>>} {
}

// -----

// CHECK: module attributes {nn.optimizer = #nn.optimizer<kind = adamw, lr = 0.30000000000000004, weight_decay = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1.0e-06, clip_grad_norm = 1.0, schedule = <kind = cosine, warmup = 1.5, min_lr = 1.0e-05>>}
module attributes {nn.optimizer = #nn.optimizer<kind = adamw, lr = 0.30000000000000004, weight_decay = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1.0e-6, clip_grad_norm = 1.0, schedule = <kind = cosine, warmup = 1.5, min_lr = 1.0e-5>>} {
}

// -----

// CHECK: module attributes {nn.optimizer = #nn.optimizer<kind = rmsprop, lr = 0.01, momentum = 0.5, alpha = 0.9, schedule = <kind = linear, end_lr = 0.001>>}
module attributes {nn.optimizer = #nn.optimizer<kind = rmsprop, lr = 0.01, momentum = 0.5, alpha = 0.9, eps = 1.0e-8, schedule = <kind = linear, end_lr = 1.0e-3>>} {
}
