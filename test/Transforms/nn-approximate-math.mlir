// RUN: nnc-opt %s -split-input-file -nn-approximate-math | FileCheck %s

// exp (softmax, sigmoid, gelu's gradient): the argument clamped, a polynomial
// in fma, and the 2^n scale built from the exponent bits.
// CHECK-LABEL: func.func @exp(
// CHECK-SAME:    %[[X:.+]]: f32) -> f32
// CHECK-NOT:     math.exp
// CHECK:         arith.cmpf uge, %[[X]]
// CHECK:         math.fma
// CHECK:         arith.shli
// CHECK:         %[[P:.+]] = arith.bitcast %{{.+}} : i32 to f32
// CHECK:         %[[R:.+]] = arith.mulf %{{.+}}, %[[P]] : f32
// CHECK-NOT:     math.exp
// CHECK:         return %[[R]] : f32
func.func @exp(%x: f32) -> f32 {
  %y = math.exp %x : f32
  return %y : f32
}

// -----

// The same on vectors (what the vectorized kernels carry): fma on vectors.
// CHECK-LABEL: func.func @exp_vector(
// CHECK-NOT:     math.exp
// CHECK:         math.fma {{.*}} : vector<8xf32>
// CHECK:         arith.bitcast {{.*}} : vector<8xi32> to vector<8xf32>
// CHECK-NOT:     math.exp
// CHECK:         return {{.*}} : vector<8xf32>
func.func @exp_vector(%x: vector<8xf32>) -> vector<8xf32> {
  %y = math.exp %x : vector<8xf32>
  return %y : vector<8xf32>
}

// -----

// log (cross_entropy, binary_cross_entropy): mantissa and exponent split
// through the bits, then a polynomial.
// CHECK-LABEL: func.func @log(
// CHECK-SAME:    %[[X:.+]]: f32) -> f32
// CHECK-NOT:     math.log
// CHECK:         arith.bitcast %{{.+}} : f32 to i32
// CHECK:         math.fma
// CHECK-NOT:     math.log
// CHECK:         return
func.func @log(%x: f32) -> f32 {
  %y = math.log %x : f32
  return %y : f32
}

// -----

// CHECK-LABEL: func.func @log2(
// CHECK-NOT:     math.log2
// CHECK:         math.fma
// CHECK-NOT:     math.log2
// CHECK:         return
func.func @log2(%x: f32) -> f32 {
  %y = math.log2 %x : f32
  return %y : f32
}

// -----

// log1p (the softplus form of binary_cross_entropy): through log's
// approximation, so no log of any kind is left.
// CHECK-LABEL: func.func @log1p(
// CHECK-NOT:     math.log
// CHECK:         math.fma
// CHECK-NOT:     math.log
// CHECK:         return
func.func @log1p(%x: f32) -> f32 {
  %y = math.log1p %x : f32
  return %y : f32
}

// -----

// erf (gelu and its gradient): a polynomial in fma, no libm call.
// CHECK-LABEL: func.func @erf(
// CHECK-NOT:     math.erf
// CHECK:         math.fma
// CHECK-NOT:     math.erf
// CHECK:         return
func.func @erf(%x: f32) -> f32 {
  %y = math.erf %x : f32
  return %y : f32
}

// -----

// tanh: a rational function (fma polynomials and one division) of the
// clamped argument; tiny arguments return themselves.
// CHECK-LABEL: func.func @tanh(
// CHECK-SAME:    %[[X:.+]]: f32) -> f32
// CHECK-NOT:     math.tanh
// CHECK:         math.absf %[[X]]
// CHECK:         math.fma
// CHECK:         arith.divf
// CHECK:         %[[R:.+]] = arith.select
// CHECK-NOT:     math.tanh
// CHECK:         return %[[R]] : f32
func.func @tanh(%x: f32) -> f32 {
  %y = math.tanh %x : f32
  return %y : f32
}

// -----

// The approximations are f32: an f16 op is computed in f32 and truncated.
// CHECK-LABEL: func.func @tanh_f16(
// CHECK-SAME:    %[[X:.+]]: f16) -> f16
// CHECK:         arith.extf %[[X]] : f16 to f32
// CHECK-NOT:     math.tanh
// CHECK:         math.fma {{.*}} : f32
// CHECK:         %[[R:.+]] = arith.truncf %{{.+}} : f32 to f16
// CHECK:         return %[[R]] : f16
func.func @tanh_f16(%x: f16) -> f16 {
  %y = math.tanh %x : f16
  return %y : f16
}

// -----

// CHECK-LABEL: func.func @expm1(
// CHECK-NOT:     math.expm1
// CHECK-NOT:     math.exp
// CHECK:         math.fma
// CHECK-NOT:     math.exp
// CHECK:         return
func.func @expm1(%x: f32) -> f32 {
  %y = math.expm1 %x : f32
  return %y : f32
}

// -----

// powf expands to exp(y log x), and both of those are approximated.
// CHECK-LABEL: func.func @powf(
// CHECK-NOT:     math.powf
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.log
// CHECK:         math.fma
// CHECK-NOT:     math.powf
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.log
// CHECK:         return
func.func @powf(%x: f32, %y: f32) -> f32 {
  %r = math.powf %x, %y : f32
  return %r : f32
}

// -----

// f64 powf (Adam's bias corrections, the step and exponential schedules):
// expanded to f64 exp and log, which have no approximation and stay.
// CHECK-LABEL: func.func @powf_f64(
// CHECK-NOT:     math.powf
// CHECK:         math.log %{{.+}} : f64
// CHECK:         math.exp %{{.+}} : f64
// CHECK-NOT:     math.fma
// CHECK-NOT:     math.powf
// CHECK:         return
func.func @powf_f64(%x: f64, %y: f64) -> f64 {
  %r = math.powf %x, %y : f64
  return %r : f64
}

// -----

// fpowi with a constant exponent: repeated multiplication.
// CHECK-LABEL: func.func @fpowi_3(
// CHECK-SAME:    %[[X:.+]]: f32) -> f32
// CHECK-NOT:     math.fpowi
// CHECK:         %[[X2:.+]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK:         arith.mulf
// CHECK-NOT:     math.fpowi
// CHECK:         return
func.func @fpowi_3(%x: f32) -> f32 {
  %n = arith.constant 3 : i32
  %r = math.fpowi %x, %n : f32, i32
  return %r : f32
}

// -----

// sinh and cosh expand to exps, then approximated.
// CHECK-LABEL: func.func @sinh_cosh(
// CHECK-NOT:     math.sinh
// CHECK-NOT:     math.cosh
// CHECK-NOT:     math.exp
// CHECK:         math.fma
// CHECK-NOT:     math.sinh
// CHECK-NOT:     math.cosh
// CHECK-NOT:     math.exp
// CHECK:         return
func.func @sinh_cosh(%x: f32) -> (f32, f32) {
  %s = math.sinh %x : f32
  %c = math.cosh %x : f32
  return %s, %c : f32, f32
}

// -----

// exp2 becomes exp(x ln 2), approximated.
// CHECK-LABEL: func.func @exp2(
// CHECK-NOT:     math.exp
// CHECK:         math.fma
// CHECK-NOT:     math.exp
// CHECK:         return
func.func @exp2(%x: f32) -> f32 {
  %y = math.exp2 %x : f32
  return %y : f32
}

// -----

// rsqrt (batchnorm, layernorm) becomes 1 / sqrt: sqrt is a machine
// instruction and stays.
// CHECK-LABEL: func.func @rsqrt(
// CHECK-SAME:    %[[X:.+]]: f32) -> f32
// CHECK-NOT:     math.rsqrt
// CHECK:         %[[S:.+]] = math.sqrt %[[X]] : f32
// CHECK:         %[[R:.+]] = arith.divf %{{.+}}, %[[S]] : f32
// CHECK-NOT:     math.rsqrt
// CHECK:         return %[[R]] : f32
func.func @rsqrt(%x: f32) -> f32 {
  %y = math.rsqrt %x : f32
  return %y : f32
}

// -----

// The trigonometric family: approximated too (no libm call is left).
// CHECK-LABEL: func.func @trig(
// CHECK-NOT:     math.sin
// CHECK-NOT:     math.cos
// CHECK-NOT:     math.atan
// CHECK-NOT:     math.asin
// CHECK-NOT:     math.acos
// CHECK-NOT:     math.cbrt
// CHECK:         math.fma
// CHECK-NOT:     math.sin
// CHECK-NOT:     math.cos
// CHECK-NOT:     math.atan
// CHECK-NOT:     math.asin
// CHECK-NOT:     math.acos
// CHECK-NOT:     math.cbrt
// CHECK:         return
func.func @trig(%x: f32, %y: f32) -> (f32, f32, f32, f32, f32, f32, f32) {
  %0 = math.sin %x : f32
  %1 = math.cos %x : f32
  %2 = math.atan %x : f32
  %3 = math.atan2 %x, %y : f32
  %4 = math.asin %x : f32
  %5 = math.acos %x : f32
  %6 = math.cbrt %x : f32
  return %0, %1, %2, %3, %4, %5, %6 : f32, f32, f32, f32, f32, f32, f32
}

// -----

// Where the pass runs in the pipeline: inside the scalar loops that
// convert-linalg-to-loops leaves (gelu's body here).
// CHECK-LABEL: func.func @erf_in_loop(
// CHECK:         scf.for
// CHECK-NOT:       math.erf
// CHECK:           math.fma
// CHECK-NOT:       math.erf
// CHECK:           memref.store
func.func @erf_in_loop(%a: memref<16xf32>, %b: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %x = memref.load %a[%i] : memref<16xf32>
    %e = math.erf %x : f32
    memref.store %e, %b[%i] : memref<16xf32>
  }
  return
}

// -----

// Left alone: sqrt (a machine instruction), absf, and f64 exp (the
// approximations are for f32, f16 and bf16 only).
// CHECK-LABEL: func.func @untouched(
// CHECK-SAME:    %[[X:.+]]: f32, %[[D:.+]]: f64)
// CHECK:         %[[S:.+]] = math.sqrt %[[X]] : f32
// CHECK:         %[[A:.+]] = math.absf %[[S]] : f32
// CHECK:         %[[E:.+]] = math.exp %[[D]] : f64
// CHECK-NOT:     math.fma
// CHECK:         return %[[A]], %[[E]] : f32, f64
func.func @untouched(%x: f32, %d: f64) -> (f32, f64) {
  %s = math.sqrt %x : f32
  %a = math.absf %s : f32
  %e = math.exp %d : f64
  return %a, %e : f32, f64
}
