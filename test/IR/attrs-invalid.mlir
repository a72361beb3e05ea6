// RUN: nnc-opt %s -split-input-file -verify-diagnostics
// The optimizer and schedule attributes reject unknown kinds, missing
// required parameters and a step schedule without a period.

// expected-error @+2 {{expected ::nnc::nn::OptimizerKind to be one of: sgd, adam, adamw, rmsprop}}
// expected-error @+1 {{failed to parse NN_OptimizerAttr parameter 'kind'}}
module attributes {nn.optimizer = #nn.optimizer<kind = lamb, lr = 0.1, schedule = <kind = constant>>} {
}

// -----

// expected-error @+1 {{struct is missing required parameter: lr}}
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, schedule = <kind = constant>>} {
}

// -----

// expected-error @+2 {{a step schedule needs every > 0}}
// expected-error @+1 {{failed to parse NN_OptimizerAttr parameter 'schedule'}}
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, schedule = <kind = step>>} {
}

// -----

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse NN_OptimizerAttr parameter 'nesterov'}}
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, nesterov = 1, schedule = <kind = constant>>} {
}
