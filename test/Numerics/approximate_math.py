#!/usr/bin/python3
"""Accuracy of nn-approximate-math's polynomial approximations.

The f32 math ops that nnc's lowering emits (exp, log, log1p, erf, tanh,
rsqrt) and powf, each applied to a few thousand fixed-seed f32 inputs over
the ranges that training meets, plus special values (0, +-inf, NaN,
denormals, overflow). The module is rewritten with `nnc-opt
-nn-approximate-math` (no transcendental math op may be left: nothing that
would call libm), lowered to LLVM by mlir-opt and run with mlir-cpu-runner;
results are printed as their f32 bit patterns (printMemrefI32 of a bitcast),
so nothing is lost to decimal printing. Each op runs on scalars and on
vector<8xf32> (what the vectorized kernels carry): both must give the same
bits.

Every result is compared with the float64 reference: the error is measured
in units of the last place (ulp) of the reference rounded to f32, and
non-finite results (inf, NaN) must be the reference's. The bounds are the
measured maxima rounded up (the "few ulp" that Passes.td documents), so a
change to the approximations shows; powf, an expansion into exp and log, is
looser (see CASES). Known, accepted deviations are left out and documented
in CASES: exp flushes results below the smallest normal f32 to zero, log
reads denormal inputs as the smallest normal, powf over- and underflows
where x * x does.

Usage: approximate_math.py [--nnc-opt PATH] [--keep DIR]
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

LLVM_BIN = "/usr/lib/llvm-19/bin"
LLVM_LIB = "/usr/lib/llvm-19/lib"
LOWERING = [
    "--convert-vector-to-scf", "--convert-scf-to-cf", "--expand-strided-metadata",
    "--lower-affine", "--convert-vector-to-llvm", "--convert-math-to-llvm",
    "--finalize-memref-to-llvm", "--convert-to-llvm", "--reconcile-unrealized-casts",
]
# What may be left after the pass: single machine instructions, no libm call.
ALLOWED_MATH = {"fma", "floor", "absf", "sqrt", "copysign"}

INF, NAN = float("inf"), float("nan")
SPECIAL = [0.0, -0.0, INF, -INF, NAN, 1e-45, -1e-45, 1e-40, 1.17549435e-38, 1.0, -1.0,
           0.5, 2.0, 88.0, 88.7, 89.0, 100.0, -87.0, -88.0, -103.0, -104.0, -200.0,
           1e30, -1e30, 3.4028235e38]


def f64_ref(fn):
    return lambda x: np.array([fn(float(v)) for v in x], dtype=np.float64)


def exp_ref(v):
    if math.isnan(v):
        return NAN
    if v > 709:
        return INF
    return math.exp(v)


def log_ref(v):
    if math.isnan(v) or v < 0:
        return NAN
    if v == 0:
        return -INF
    if v == INF:
        return INF
    return math.log(v)


def log1p_ref(v):
    if math.isnan(v) or v < -1:
        return NAN
    if v == -1:
        return -INF
    if v == INF:
        return INF
    return math.log1p(v)


def tanh_ref(v):
    return NAN if math.isnan(v) else math.tanh(v)


def erf_ref(v):
    return NAN if math.isnan(v) else math.erf(v)


def rsqrt_ref(v):
    if math.isnan(v) or v < 0:
        return NAN
    if v == 0:
        return INF if math.copysign(1, v) > 0 else -INF
    if v == INF:
        return 0.0
    return 1 / math.sqrt(v)


def inputs(seed, *ranges, log_ranges=(), special=True, denormals=True, n=2048):
    """n random f32 values per (lo, hi) range and per log-uniform range
    (lo_exp, hi_exp, signed), plus SPECIAL (without the denormals if not
    `denormals`); padded to a multiple of 8."""
    r = np.random.default_rng(seed)
    parts = [r.uniform(lo, hi, n) for lo, hi in ranges]
    for lo, hi, signed in log_ranges:
        v = 10.0 ** r.uniform(lo, hi, n)
        if signed:
            v *= r.choice([-1.0, 1.0], n)
        parts.append(v)
    if special:
        parts.append(np.array([v for v in SPECIAL if denormals or not
                               0 < abs(v) < 1.17549435e-38]))
    x = np.concatenate(parts).astype(np.float32)
    pad = (-len(x)) % 8
    return np.concatenate([x, np.full(pad, 1.0, np.float32)])


# name: (mlir body on %x (and %p = 1.5 for powf), reference, inputs, max ulp,
#        absolute floor)
FLT_MIN = 1.17549435e-38
CASES = {
    # Results below the smallest normal f32 (x < -87.3) flush to zero: the
    # absolute floor FLT_MIN.
    "exp": ("math.exp %x : T", exp_ref,
            inputs(1, (-87.0, 88.0), (-1.0, 1.0), (-20.0, 20.0)), 4, FLT_MIN),
    # Denormal inputs are read as the smallest normal (log(1e-45) gives
    # -87.3, not -103.3): left out.
    "log": ("math.log %x : T", log_ref,
            inputs(2, (0.5, 2.0), (0.0, 10.0), log_ranges=[(-37, 38, False)],
                   denormals=False), 1, 0.0),
    "log1p": ("math.log1p %x : T", log1p_ref,
              inputs(3, (-0.999, 1.0), (-1.0, 100.0),
                     log_ranges=[(-10, -1, True), (0, 30, False)]), 2, 0.0),
    "erf": ("math.erf %x : T", erf_ref,
            inputs(4, (-4.0, 4.0), (-1.0, 1.0), log_ranges=[(-10, 0, True)]), 4, 0.0),
    # |x| > 7.99 gives +-1 (4 ulp from tanh(8)).
    "tanh": ("math.tanh %x : T", tanh_ref,
             inputs(5, (-10.0, 10.0), (-1.0, 1.0), log_ranges=[(-10, 0, True)]), 4, 0.0),
    "rsqrt": ("math.rsqrt %x : T", rsqrt_ref,
              inputs(6, (0.0, 4.0), log_ranges=[(-37, 38, False)]), 2, 0.0),
    # powf(x, 1.5) = exp(0.75 log(x * x)): the error of log and exp scaled
    # by |0.75 log(x * x)| (up to ~21 for x in [1e-6, 1e6]): 24 ulp measured,
    # more than a few. x * x must stay a normal f32: for x > 1.8e19 the result is
    # inf and for x < 1.1e-19 it is wrong (x * x flushes), so such inputs
    # are left out. nnc emits powf only on f64 (Adam's bias corrections,
    # schedules), which has no approximation.
    "powf": ("math.powf %x, %p : T", lambda v: (NAN if math.isnan(v) or v < 0 else
                                              0.0 if v == 0 else
                                              INF if v == INF else v ** 1.5),
             inputs(7, (0.0, 10.0), log_ranges=[(-6, 6, False)], special=False), 32, 0.0),
}


def mlir_constant(a):
    return f'dense<"0x{a.astype("<f4").tobytes().hex().upper()}">'


def build_module():
    out = ["func.func private @printMemrefI32(memref<*xi32>)"]
    main = ["func.func @main() {", "  %c0 = arith.constant 0 : index",
            "  %c1 = arith.constant 1 : index", "  %c8 = arith.constant 8 : index"]
    for name, (body, _, x, _, _) in CASES.items():
        n = len(x)
        out.append(f'memref.global "private" constant @in_{name} : memref<{n}xf32> = '
                   f"{mlir_constant(x)}")
        for kind, step, t in (("s", "%c1", "f32"), ("v", "%c8", "vector<8xf32>")):
            ibits = "i32" if t == "f32" else "vector<8xi32>"
            load = (f"memref.load %a[%i] : memref<{n}xf32>" if t == "f32" else
                    f"vector.load %a[%i] : memref<{n}xf32>, vector<8xf32>")
            store = (f"memref.store %b, %o[%i] : memref<{n}xi32>" if t == "f32" else
                     f"vector.store %b, %o[%i] : memref<{n}xi32>, vector<8xi32>")
            pconst = ("arith.constant 1.5 : f32" if t == "f32" else
                      "arith.constant dense<1.5> : vector<8xf32>")
            out.append(f"""func.func @{name}_{kind}(%a: memref<{n}xf32>, %o: memref<{n}xi32>) {{
  %c0 = arith.constant 0 : index
  %cs = arith.constant {step[2:]} : index
  %n = arith.constant {n} : index
  %p = {pconst}
  scf.for %i = %c0 to %n step %cs {{
    %x = {load}
    %y = {body.replace("T", t)}
    %b = arith.bitcast %y : {t} to {ibits}
    {store}
  }}
  return
}}""")
            main += [f"  %a_{name}_{kind} = memref.get_global @in_{name} : memref<{n}xf32>",
                     f"  %o_{name}_{kind} = memref.alloc() : memref<{n}xi32>",
                     f"  func.call @{name}_{kind}(%a_{name}_{kind}, %o_{name}_{kind}) : "
                     f"(memref<{n}xf32>, memref<{n}xi32>) -> ()",
                     f"  %u_{name}_{kind} = memref.cast %o_{name}_{kind} : "
                     f"memref<{n}xi32> to memref<*xi32>",
                     f"  func.call @printMemrefI32(%u_{name}_{kind}) : (memref<*xi32>) -> ()",
                     f"  memref.dealloc %o_{name}_{kind} : memref<{n}xi32>"]
    main.append("  return\n}")
    return "\n\n".join(out + ["\n".join(main)]) + "\n"


def step(cmd, what, stdin=None):
    p = subprocess.run(cmd, capture_output=True, text=True, input=stdin)
    if p.returncode != 0:
        sys.exit(f"FAIL: {what} failed ({' '.join(cmd[:3])} ...):\n{p.stderr}")
    return p.stdout


def ulp(ref32):
    """Spacing of f32 at each reference value (at least the smallest normal's)."""
    a = np.abs(ref32.astype(np.float32))
    return np.spacing(np.maximum(a, np.float32(1.17549435e-38))).astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnc-opt", default=shutil.which("nnc-opt") or "nnc-opt")
    ap.add_argument("--keep", default=None, help="keep the generated files in DIR")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="nnc-approx-")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "cases.mlir")
    with open(src, "w") as f:
        f.write(build_module())
    approx = step([args.nnc_opt, src, "-nn-approximate-math"], "nnc-opt -nn-approximate-math")
    with open(os.path.join(work, "approx.mlir"), "w") as f:
        f.write(approx)
    left = sorted(set(re.findall(r"\bmath\.(\w+)", approx)) - ALLOWED_MATH)
    if left:
        sys.exit(f"FAIL: math ops left after -nn-approximate-math: {left}")
    llvm = step([os.path.join(LLVM_BIN, "mlir-opt"), "-"] + LOWERING, "lowering", approx)
    ll = os.path.join(work, "llvm.mlir")
    with open(ll, "w") as f:
        f.write(llvm)
    out = step([os.path.join(LLVM_BIN, "mlir-cpu-runner"), ll, "-e", "main",
                "-entry-point-result=void",
                f"-shared-libs={LLVM_LIB}/libmlir_runner_utils.so",
                f"-shared-libs={LLVM_LIB}/libmlir_c_runner_utils.so"], "mlir-cpu-runner")
    if not args.keep:
        shutil.rmtree(work)
    results = []
    for chunk in out.split("Unranked Memref")[1:]:
        data = chunk.split("data =", 1)[1]
        bits = np.array([int(v) for v in re.findall(r"-?\d+", data)], dtype=np.int64)
        results.append(bits.astype(np.int32).view(np.float32))
    if len(results) != 2 * len(CASES):
        sys.exit(f"FAIL: expected {2 * len(CASES)} printed results, got {len(results)}")

    failed = 0
    for k, (name, (_, ref_fn, x, max_ulp, floor)) in enumerate(CASES.items()):
        scalar, vector = results[2 * k], results[2 * k + 1]
        if not np.array_equal(scalar.view(np.int32), vector.view(np.int32)):
            i = int(np.nonzero(scalar.view(np.int32) != vector.view(np.int32))[0][0])
            print(f"FAIL {name}: scalar and vector<8xf32> results differ, e.g. at "
                  f"x = {x[i]!r}: {scalar[i]!r} vs {vector[i]!r}")
            failed += 1
            continue
        ref = f64_ref(ref_fn)(x)
        got = scalar.astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            ref32 = ref.astype(np.float32).astype(np.float64)
        nan_bad = np.isnan(got) != np.isnan(ref32)
        inf_bad = (np.isinf(ref32) | np.isinf(got)) & ~(got == ref32) & ~np.isnan(ref32)
        finite = np.isfinite(ref32) & np.isfinite(got)
        err = np.zeros_like(got)
        err[finite] = np.abs(got[finite] - ref[finite])
        budget = max_ulp * ulp(ref32) + floor
        bad = nan_bad | inf_bad | (finite & (err > budget))
        units = np.where(finite, err / ulp(ref32), 0.0)
        normal = finite & (np.abs(ref32) >= FLT_MIN)  # where ulps mean something
        worst = float(units[normal].max()) if normal.any() else 0.0
        if bad.any():
            failed += 1
            print(f"FAIL {name}: {int(bad.sum())}/{len(x)} results beyond {max_ulp} ulp "
                  f"+ {floor:g}")
            for i in np.nonzero(bad)[0][:8]:
                print(f"    x = {x[i]!r:>16}: got {scalar[i]!r:>16}  want {np.float32(ref[i])!r:>16}"
                      f"  ({units[i]:.1f} ulp)")
        else:
            print(f"ok   {name}: {len(x)} inputs, max error {worst:.2f} ulp "
                  f"(bound {max_ulp})")
    if failed:
        print(f"FAILED: {failed} of {len(CASES)} approximations")
        return 1
    print(f"PASSED: {len(CASES)} approximations within bounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
