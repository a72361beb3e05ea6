#!/usr/bin/python3
"""Numerical parity of convert-nn-to-linalg with PyTorch.

Every case is a small function of nn ops. The script puts all cases of a group
into one module whose @main calls each case on fixed-seed inputs (exact
hex-encoded dense constants) and prints every result as the bit patterns of
its f32 elements (printMemrefI32 over an arith.bitcast), so nothing is lost to
decimal printing. The module is lowered with `nnc-opt -convert-nn-to-linalg`,
then with a plain reference lowering by mlir-opt (one-shot bufferization,
the vector ops of Winograd transforms unrolled,
loops, libm, LLVM), run with mlir-cpu-runner, and every result is compared
with PyTorch (torch.autograd for gradients, torch.optim for updates,
torch.optim.lr_scheduler and the documented formulas for schedules).

Usage: parity.py GROUP [--nnc-opt PATH] [--keep DIR]
GROUP: layers | losses | optimizers | schedules | norm | sequences | attention | all
Exits 1 with a diff on any mismatch.
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
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)

LLVM_BIN = "/usr/lib/llvm-19/bin"
LLVM_LIB = "/usr/lib/llvm-19/lib"
REFERENCE_LOWERING = [
    "--one-shot-bufferize=bufferize-function-boundaries allow-return-allocs-from-loops",
    "--scf-forall-to-for",
    "--convert-linalg-to-loops",
    "--convert-vector-to-scf=full-unroll=true target-rank=1",
    "--convert-scf-to-cf",
    "--expand-strided-metadata",
    "--lower-affine",
    "--convert-math-to-libm",
    "--convert-vector-to-llvm",
    "--finalize-memref-to-llvm",
    "--convert-to-llvm",
    "--reconcile-unrealized-casts",
]

RTOL, ATOL = 1e-5, 1e-6


# --------------------------------------------------------------------------
# Building the module
# --------------------------------------------------------------------------

def mlir_type(a):
    a = np.asarray(a)
    elt = {np.dtype("float32"): "f32", np.dtype("int32"): "i32",
           np.dtype("int64"): "i64"}[a.dtype]
    return "tensor<" + "".join(f"{d}x" for d in a.shape) + elt + ">"


def mlir_constant(a):
    a = np.array(a, order="C")  # (ascontiguousarray would make 0-d 1-d)
    little = a.astype(a.dtype.newbyteorder("<"))
    return f'arith.constant dense<"0x{little.tobytes().hex().upper()}"> : {mlir_type(a)}'


def f32(a):
    return np.asarray(a, dtype=np.float32)


def i64(v):
    return np.asarray(v, dtype=np.int64)


class Case:
    """`body` uses %a0.. for the inputs and {t0}.. / {r0}.. for the input and
    result types; `results` names the values returned, `expected` holds the
    reference arrays (float32) in the same order."""

    def __init__(self, name, body, inputs, results, expected, rtol=RTOL,
                 atol=ATOL):
        self.name, self.body, self.inputs = name, body, inputs
        self.results, self.expected = results, [f32(e) for e in expected]
        self.rtol, self.atol = rtol, atol

    def func(self):
        types = {f"t{i}": mlir_type(a) for i, a in enumerate(self.inputs)}
        types.update({f"r{i}": mlir_type(e) for i, e in enumerate(self.expected)})
        args = ", ".join(f"%a{i}: {mlir_type(a)}" for i, a in enumerate(self.inputs))
        rtypes = ", ".join(mlir_type(e) for e in self.expected)
        body = self.body.format(**types)
        rets = ", ".join(self.results)
        return (f"func.func @{self.name}({args}) -> ({rtypes}) {{\n{body}\n"
                f"  return {rets} : {rtypes}\n}}\n")


def build_module(cases, bf16=False):
    """One module of `cases`; `bf16`: the module attribute of `precision =
    bf16` (matrix products on bf16-rounded operands)."""
    out = ["module attributes {nn.bf16} {" if bf16 else "module {",
           "func.func private @printMemrefI32(tensor<*xi32>)\n"]
    main = ["func.func @main() {"]
    n = 0
    for c in cases:
        out.append(c.func())
        names = []
        for a in c.inputs:
            main.append(f"  %v{n} = {mlir_constant(a)}")
            names.append(f"%v{n}")
            n += 1
        ins = ", ".join(mlir_type(a) for a in c.inputs)
        outs = ", ".join(mlir_type(e) for e in c.expected)
        k = len(c.expected)
        main.append(f"  %v{n}:{k} = func.call @{c.name}({', '.join(names)}) : ({ins}) -> ({outs})")
        res = n
        n += 1
        for i, e in enumerate(c.expected):
            rank = e.ndim
            dims = ", ".join(f"d{j}" for j in range(rank))
            amap = f"affine_map<({dims}) -> ({dims})>"
            iters = ", ".join(['"parallel"'] * rank)
            it = mlir_type(e).replace("f32>", "i32>")
            main += [
                f"  %v{n} = tensor.empty() : {it}",
                f"  %v{n + 1} = linalg.generic {{indexing_maps = [{amap}, {amap}], iterator_types = [{iters}]}}"
                f" ins(%v{res}#{i} : {mlir_type(e)}) outs(%v{n} : {it}) {{",
                "  ^bb0(%x: f32, %y: i32):",
                "    %z = arith.bitcast %x : f32 to i32",
                "    linalg.yield %z : i32",
                f"  }} -> {it}",
                f"  %v{n + 2} = tensor.cast %v{n + 1} : {it} to tensor<*xi32>",
                f"  func.call @printMemrefI32(%v{n + 2}) : (tensor<*xi32>) -> ()",
            ]
            n += 3
    main.append("  return\n}\n")
    out.append("\n".join(main))
    out.append("}")
    return "\n".join(out)


def tool(name, override=None):
    if override:
        return override
    found = shutil.which(name)
    return found or os.path.join(LLVM_BIN, name)


def run_module(text, nnc_opt, keep):
    work = keep or tempfile.mkdtemp(prefix="nnc-parity-")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "cases.mlir")
    with open(src, "w") as f:
        f.write(text)

    def step(cmd, what):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(f"error: {what} failed ({' '.join(cmd[:2])} ...):\n{p.stderr}\n")
            sys.exit(1)
        return p.stdout

    linalg = step([nnc_opt, src, "-convert-nn-to-linalg"], "convert-nn-to-linalg")
    # An op is "= nn.x" or "nn.x %"; `nn.bf16` is an attribute.
    if re.search(r"=\s*nn\.|\bnn\.[a-z_]+ %", linalg):
        sys.stderr.write("error: nn ops left after convert-nn-to-linalg\n")
        sys.exit(1)
    lin = os.path.join(work, "linalg.mlir")
    with open(lin, "w") as f:
        f.write(linalg)
    llvm = step([os.path.join(LLVM_BIN, "mlir-opt"), lin] + REFERENCE_LOWERING,
                "reference lowering")
    ll = os.path.join(work, "llvm.mlir")
    with open(ll, "w") as f:
        f.write(llvm)
    out = step([os.path.join(LLVM_BIN, "mlir-cpu-runner"), ll, "-e", "main",
                "-entry-point-result=void",
                f"-shared-libs={LLVM_LIB}/libmlir_runner_utils.so",
                f"-shared-libs={LLVM_LIB}/libmlir_c_runner_utils.so"], "mlir-cpu-runner")
    if not keep:
        shutil.rmtree(work)
    results = []
    for chunk in out.split("Unranked Memref")[1:]:
        meta, data = chunk.split("data =", 1)
        sizes = [int(s) for s in re.search(r"sizes = \[([^\]]*)\]", meta).group(1).replace(",", " ").split()]
        bits = np.array([int(v) for v in re.findall(r"-?\d+", data)], dtype=np.int64)
        results.append(bits.astype(np.int32).view(np.float32).reshape(sizes))
    return results


def compare(cases, results):
    expected_count = sum(len(c.expected) for c in cases)
    if len(results) != expected_count:
        print(f"FAIL: expected {expected_count} printed results, got {len(results)}")
        return False
    ok, i = True, 0
    for c in cases:
        for k, exp in enumerate(c.expected):
            got = results[i]
            i += 1
            label = f"{c.name}[{c.results[k]}]"
            if got.shape != exp.shape:
                print(f"FAIL {label}: shape {got.shape} != {exp.shape}")
                ok = False
                continue
            err = np.abs(got.astype(np.float64) - exp.astype(np.float64))
            bad = ~(err <= c.atol + c.rtol * np.abs(exp.astype(np.float64)))
            bad |= np.isnan(got) != np.isnan(exp)
            maxerr = float(np.nanmax(err)) if err.size else 0.0
            if bad.any():
                ok = False
                print(f"FAIL {label}: {int(bad.sum())}/{exp.size} elements off "
                      f"(rtol {c.rtol}, atol {c.atol}), max abs err {maxerr:.3g}")
                for idx in list(zip(*np.nonzero(bad)))[:8]:
                    print(f"    at {tuple(int(j) for j in idx)}: nnc {got[idx]!r:>16}  torch {exp[idx]!r:>16}")
            else:
                print(f"ok   {label}: max abs err {maxerr:.3g}")
    return ok


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

def rng(seed):
    return np.random.RandomState(seed)


def randn(r, *shape, scale=1.0):
    return f32(r.standard_normal(shape) * scale)


def t(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


def layer_cases():
    r = rng(1)
    cases = []
    x, w, b, dy = randn(r, 5, 7), randn(r, 4, 7), randn(r, 4), randn(r, 5, 4)
    tx, tw, tb = t(x, True), t(w, True), t(b, True)
    y = F.linear(tx, tw, tb)
    dx, dw, db = torch.autograd.grad(y, (tx, tw, tb), t(dy))
    cases.append(Case("dense_bias",
        "  %y = nn.dense %a0, %a1, %a2 : ({t0}, {t1}, {t2}) -> {r0}",
        [x, w, b], ["%y"], [y.detach()]))
    cases.append(Case("dense_nobias",
        "  %y = nn.dense %a0, %a1 : ({t0}, {t1}) -> {r0}",
        [x, w], ["%y"], [F.linear(t(x), t(w))]))
    # The ops the dense gradient rule emits, against torch.autograd.
    cases.append(Case("dense_grad",
        "  %dx = nn.matmul %a0, %a1 : ({t0}, {t1}) -> {r0}\n"
        "  %dw = nn.matmul %a0, %a2 {{transpose_lhs}} : ({t0}, {t2}) -> {r1}\n"
        "  %db = nn.reduce_sum %a0 {{dims = array<i64: 0>}} : {t0} -> {r2}",
        [dy, w, x], ["%dx", "%dw", "%db"], [dx, dw, db]))
    a, bt, at = randn(r, 5, 7), randn(r, 4, 7), randn(r, 7, 5)
    cases.append(Case("matmul_transposes",
        "  %c = nn.matmul %a0, %a1 {{transpose_rhs}} : ({t0}, {t1}) -> {r0}\n"
        "  %d = nn.matmul %a2, %a1 {{transpose_lhs, transpose_rhs}} : ({t2}, {t1}) -> {r1}",
        [a, bt, at], ["%c", "%d"], [t(a) @ t(bt).T, t(at).T @ t(bt).T]))
    x3 = randn(r, 3, 4, 5)
    cases.append(Case("reduce_sum",
        "  %s = nn.reduce_sum %a0 {{dims = array<i64: 0, 2>}} : {t0} -> {r0}\n"
        "  %u = nn.reduce_sum %a0 {{dims = array<i64: 1>}} : {t0} -> {r1}\n"
        "  %v = nn.reduce_sum %a0 {{dims = array<i64: 2, 0, 1>}} : {t0} -> {r2}\n"
        "  %w = nn.reduce_sum %a0 {{dims = array<i64>}} : {t0} -> {r3}",
        [x3], ["%s", "%u", "%v", "%w"],
        [t(x3).sum((0, 2)), t(x3).sum(1), t(x3).sum(), t(x3)]))
    # broadcast, reduce_sum's gradient (a layer's l2 penalty uses both).
    rb = rng(11)
    v4, s0 = randn(rb, 4), f32(1.5)
    cases.append(Case("broadcast",
        "  %b = nn.broadcast %a0 {{dims = array<i64: 0, 2>}} : {t0} -> {r0}\n"
        "  %c = nn.broadcast %a1 {{dims = array<i64: 0, 1>}} : {t1} -> {r1}",
        [v4, s0], ["%b", "%c"],
        [t(v4)[None, :, None].expand(3, 4, 5), torch.full((3, 2), 1.5)]))

    # Activations: forward, and the gradient op against torch.autograd.
    xa, dya = randn(r, 6, 5, scale=2.0), randn(r, 6, 5)
    acts = [
        ("relu", "nn.relu", "nn.relu_grad", "", F.relu, "y", RTOL, ATOL),
        ("leaky_relu", "nn.leaky_relu", "nn.leaky_relu_grad",
         " {{alpha = 0.2 : f32}}", lambda v: F.leaky_relu(v, 0.2), "x", RTOL, ATOL),
        ("sigmoid", "nn.sigmoid", "nn.sigmoid_grad", "", torch.sigmoid, "y", RTOL, ATOL),
        ("tanh", "nn.tanh", "nn.tanh_grad", "", torch.tanh, "y", RTOL, ATOL),
        ("gelu", "nn.gelu", "nn.gelu_grad", "", F.gelu, "x", 2e-5, 2e-6),
        ("softmax", "nn.softmax", "nn.softmax_grad", "",
         lambda v: F.softmax(v, -1), "y", RTOL, ATOL),
    ]
    for name, fwd, bwd, attrs, fn, saved, rt, at_ in acts:
        tx = t(xa, True)
        y = fn(tx)
        (dxa,) = torch.autograd.grad(y, tx, t(dya))
        cases.append(Case(name,
            f"  %y = {fwd} %a0{attrs} : {{t0}}", [xa], ["%y"], [y.detach()], rt, at_))
        s = xa if saved == "x" else y.detach().numpy()
        cases.append(Case(name + "_grad",
            f"  %dx = {bwd} %a0, %a1{attrs} : {{t0}}", [dya, s], ["%dx"], [dxa], rt, at_))
    # softmax over the last dimension of a rank-3 tensor
    x3, dy3 = randn(r, 2, 3, 5, scale=3.0), randn(r, 2, 3, 5)
    tx = t(x3, True)
    y3 = F.softmax(tx, -1)
    (dx3,) = torch.autograd.grad(y3, tx, t(dy3))
    cases.append(Case("softmax_rank3",
        "  %y = nn.softmax %a0 : {t0}\n  %dx = nn.softmax_grad %a1, %y : {t0}",
        [x3, dy3], ["%y", "%dx"], [y3.detach(), dx3]))
    x1, dy1 = randn(r, 6), randn(r, 6)
    tx = t(x1, True)
    y1 = F.softmax(tx, -1)
    (dx1,) = torch.autograd.grad(y1, tx, t(dy1))
    cases.append(Case("softmax_rank1",
        "  %y = nn.softmax %a0 : {t0}\n  %dx = nn.softmax_grad %a1, %y : {t0}",
        [x1, dy1], ["%y", "%dx"], [y1.detach(), dx1]))
    # large logits: the max subtraction keeps softmax finite
    big = f32([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]])
    cases.append(Case("softmax_stable", "  %y = nn.softmax %a0 : {t0}",
        [big], ["%y"], [F.softmax(t(big), -1)]))

    p, q = randn(r, 4, 6), randn(r, 4, 6)
    cases.append(Case("add", "  %y = nn.add %a0, %a1 : {t0}", [p, q], ["%y"], [t(p) + t(q)]))
    s0, s1 = f32(0.37), f32(2.5)
    cases.append(Case("mul",
        "  %y = nn.mul %a0, %a1 : {t0}\n  %s = nn.mul %a2, %a3 : {t2}",
        [p, q, s0, s1], ["%y", "%s"], [t(p) * t(q), t(s0) * t(s1)]))

    # reshape: pure collapse, pure expansion, and general row-major reshapes
    x4 = randn(r, 4, 1, 2, 3)
    x24 = randn(r, 4, 6)
    x234 = randn(r, 2, 3, 4)
    cases.append(Case("reshape",
        "  %f = nn.reshape %a0 : {t0} to {r0}\n"
        "  %e = nn.reshape %a1 : {t1} to {r1}\n"
        "  %g = nn.reshape %a1 : {t1} to {r2}\n"
        "  %h = nn.reshape %a2 : {t2} to {r3}\n"
        "  %k = nn.reshape %a2 : {t2} to {r4}",
        [x4, x24, x234], ["%f", "%e", "%g", "%h", "%k"],
        [t(x4).reshape(4, 6), t(x24).reshape(4, 2, 3), t(x24).reshape(6, 4),
         t(x234).reshape(3, 8), t(x234).reshape(4, 3, 2)]))
    return cases


# Losses: batch 7 whose last 2 rows are padding filled with garbage (huge,
# inf, NaN, out-of-range labels) that must not change anything.
def loss_cases():
    r = rng(2)
    cases = []
    B, real = 7, 5
    g = 1.3

    def pad(a, garbage):
        a = a.copy()
        a[real:] = garbage
        return a

    mask = f32([1] * real + [0] * (B - real))
    full = f32([1] * B)
    none = f32([0] * B)

    def regression(name, op, attrs, torch_loss, p, tt):
        tp = t(p[:real], True)
        loss = torch_loss(tp, t(tt[:real]))
        (dp,) = torch.autograd.grad(loss, tp, torch.tensor(g))
        dp_full = np.zeros_like(p)
        dp_full[:real] = dp.numpy()
        pp = pad(p, np.nan)
        pp[(real,) + (0,) * (pp.ndim - 1)] = 3e38
        tp_ = pad(tt, np.inf)
        body = (f"  %l = {op} %a0, %a1, %a2{attrs} : {{t0}}, {{t1}}, {{t2}} -> {{r0}}\n"
                f"  %d = {op}_grad %a3, %a0, %a1, %a2{attrs} : {{t3}}, {{t0}}, {{t1}}, {{t2}} -> {{r1}}")
        cases.append(Case(name, body, [pp, tp_, mask, f32(g)], ["%l", "%d"],
                          [loss.detach(), dp_full]))
        # a full batch, and a batch without real rows (count 0 -> loss 0)
        tf = t(p, True)
        lf = torch_loss(tf, t(tt))
        (df,) = torch.autograd.grad(lf, tf, torch.tensor(g))
        cases.append(Case(name + "_full", body, [p, tt, full, f32(g)], ["%l", "%d"],
                          [lf.detach(), df]))
        cases.append(Case(name + "_empty", body, [p, tt, none, f32(g)], ["%l", "%d"],
                          [f32(0.0), np.zeros_like(p)]))

    p, tt = randn(r, B, 3), randn(r, B, 3)
    regression("mse", "nn.mse_loss", "", F.mse_loss, p, tt)
    regression("mae", "nn.mae_loss", "", F.l1_loss, p, tt)
    regression("mse_rank1", "nn.mse_loss", "", F.mse_loss, randn(r, B), randn(r, B))
    regression("huber", "nn.huber_loss", " {{delta = 0.7 : f32}}",
               lambda a, b: F.huber_loss(a, b, delta=0.7), p, tt)
    regression("huber_default", "nn.huber_loss", "",
               lambda a, b: F.huber_loss(a, b, delta=1.0), randn(r, B, 2, 2, scale=1.5),
               randn(r, B, 2, 2))
    z, tb = randn(r, B, 4, scale=3.0), f32(r.uniform(0, 1, (B, 4)))
    z[0, 0], z[1, 1] = 40.0, -40.0  # stability at large |z|
    regression("bce", "nn.bce_loss", "", F.binary_cross_entropy_with_logits, z, tb)

    C = 10
    for name, e in [("cross_entropy", 0.0), ("cross_entropy_smooth", 0.1),
                    ("cross_entropy_smooth_big", 0.35)]:
        logits = randn(r, B, C, scale=2.5)
        logits[2, 3] = 80.0  # logsumexp must not overflow
        labels = r.randint(0, C, B).astype(np.int32)
        attrs = f" {{{{label_smoothing = {e} : f32}}}}" if e else ""
        tz = t(logits[:real], True)
        loss = F.cross_entropy(tz, t(labels[:real]).long(), label_smoothing=e)
        (dz,) = torch.autograd.grad(loss, tz, torch.tensor(g))
        dz_full = np.zeros_like(logits)
        dz_full[:real] = dz.numpy()
        zp = pad(logits, np.nan)
        zp[real + 1] = 1e30
        lp = labels.copy()
        lp[real:] = [C + 5, -1]
        body = (f"  %l = nn.cross_entropy_loss %a0, %a1, %a2{attrs} : {{t0}}, {{t1}}, {{t2}} -> {{r0}}\n"
                f"  %d = nn.cross_entropy_loss_grad %a3, %a0, %a1, %a2{attrs} : {{t3}}, {{t0}}, {{t1}}, {{t2}} -> {{r1}}")
        cases.append(Case(name, body, [zp, lp, mask, f32(g)], ["%l", "%d"],
                          [loss.detach(), dz_full]))
        tz = t(logits, True)
        lf = F.cross_entropy(tz, t(labels).long(), label_smoothing=e)
        (df,) = torch.autograd.grad(lf, tz, torch.tensor(g))
        cases.append(Case(name + "_full", body, [logits, labels, full, f32(g)],
                          ["%l", "%d"], [lf.detach(), df]))
    return cases


# Optimizers: three consecutive steps (each with its own gradient and
# learning rate) against torch.optim, comparing the parameter and the state
# after every step.
def optimizer_cases():
    r = rng(3)
    cases = []
    shape = (3, 4)
    lrs = [0.1, 0.05, 0.02]

    def run_torch(make, p0, grads, lrs, state_names, init_state=None):
        p = torch.tensor(p0.copy(), requires_grad=True)
        opt = make([p])
        if init_state is not None:
            opt.state[p] = init_state
        out = []
        for gk, lr in zip(grads, lrs):
            for group in opt.param_groups:
                group["lr"] = lr
            p.grad = torch.tensor(gk)
            opt.step()
            st = opt.state[p]
            out.append(p.detach().clone())
            for n in state_names:
                out.append(st[n].clone() if st.get(n) is not None else None)
        return out

    def chain(name, op, attrs, nstate, with_step, p0, states0, grads, lrs,
              steps, expected):
        # inputs: p0, states..., g1..g3, lr1..lr3, step1..step3
        inputs = [p0] + states0 + grads + [f32(v) for v in lrs]
        if with_step:
            inputs += [i64(s) for s in steps]
        ng = len(grads)
        lines, rets = [], []
        cur = ["%a0"] + [f"%a{1 + i}" for i in range(nstate)]
        for k in range(ng):
            g = f"%a{1 + nstate + k}"
            lr = f"%a{1 + nstate + ng + k}"
            step = f", %a{1 + nstate + 2 * ng + k}" if with_step else ""
            res = [f"%p{k}"] + [f"%s{k}_{i}" for i in range(nstate)]
            lhs = f"%o{k}:{1 + nstate}"
            lines.append(f"  {lhs} = {op} {cur[0]}, {g}, {', '.join(cur[1:])}, "
                         f"{lr}{step}{attrs} : {{t0}}")
            cur = [f"%o{k}#{i}" for i in range(1 + nstate)]
            rets += cur
        cases.append(Case(name, "\n".join(lines), inputs, rets, expected))

    p0 = randn(r, *shape)
    grads = [randn(r, *shape) for _ in range(3)]
    zeros = np.zeros(shape, np.float32)

    sgd_configs = [
        ("sgd_plain", dict(), ""),
        ("sgd_momentum", dict(momentum=0.9, dampening=0.1, weight_decay=0.01),
         " {{momentum = 0.9 : f32, dampening = 0.1 : f32, weight_decay = 0.01 : f32}}"),
        ("sgd_nesterov", dict(momentum=0.9, nesterov=True, weight_decay=0.001),
         " {{momentum = 0.9 : f32, nesterov, weight_decay = 0.001 : f32}}"),
        ("sgd_wd", dict(weight_decay=0.05), " {{weight_decay = 0.05 : f32}}"),
    ]
    for name, kw, attrs in sgd_configs:
        ref = run_torch(lambda ps: torch.optim.SGD(ps, lr=0.1, **kw), p0, grads, lrs,
                        ["momentum_buffer"])
        # without momentum torch keeps no buffer and nnc returns it unchanged
        ref = [zeros if v is None else v for v in ref]
        chain(name, "nn.sgd_update", attrs, 1, True, p0, [zeros], grads, lrs,
              [0, 1, 2], ref)

    alrs = [1e-2, 5e-3, 2e-3]
    adam_configs = [
        ("adam", lambda ps: torch.optim.Adam(ps, lr=1e-2), ""),
        ("adam_wd", lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99),
                                                eps=1e-6, weight_decay=0.01),
         " {{beta1 = 0.8 : f32, beta2 = 0.99 : f32, eps = 1.0e-6 : f32, weight_decay = 0.01 : f32}}"),
        ("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-2),
         " {{decoupled, weight_decay = 0.01 : f32}}"),
        ("adamw_betas", lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.85, 0.95),
                                                     eps=1e-7, weight_decay=0.1),
         " {{decoupled, beta1 = 0.85 : f32, beta2 = 0.95 : f32, eps = 1.0e-7 : f32, weight_decay = 0.1 : f32}}"),
    ]
    for name, make, attrs in adam_configs:
        ref = run_torch(make, p0, grads, alrs, ["exp_avg", "exp_avg_sq"])
        chain(name, "nn.adam_update", attrs, 2, True, p0, [zeros, zeros], grads,
              alrs, [0, 1, 2], ref)
    # resuming at step 10 with non-zero moments: t = step + 1 in the bias
    # corrections
    m0, v0 = randn(r, *shape, scale=0.1), f32(np.abs(randn(r, *shape, scale=0.1)))
    ref = run_torch(lambda ps: torch.optim.Adam(ps, lr=1e-2), p0, grads, alrs,
                    ["exp_avg", "exp_avg_sq"],
                    {"step": torch.tensor(10.0), "exp_avg": torch.tensor(m0),
                     "exp_avg_sq": torch.tensor(v0)})
    chain("adam_resume", "nn.adam_update", "", 2, True, p0, [m0, v0], grads, alrs,
          [10, 11, 12], ref)

    rms_configs = [
        ("rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=1e-2), ""),
        ("rmsprop_momentum", lambda ps: torch.optim.RMSprop(
            ps, lr=1e-2, alpha=0.9, eps=1e-6, momentum=0.9, weight_decay=0.01),
         " {{alpha = 0.9 : f32, eps = 1.0e-6 : f32, momentum = 0.9 : f32, weight_decay = 0.01 : f32}}"),
    ]
    for name, make, attrs in rms_configs:
        ref = run_torch(make, p0, grads, alrs, ["square_avg", "momentum_buffer"])
        ref = [zeros if v is None else v for v in ref]
        chain(name, "nn.rmsprop_update", attrs, 2, False, p0, [zeros, zeros], grads,
              alrs, None, ref)
    return cases


# Learning-rate schedules: the documented formulas (double precision), and
# torch.optim.lr_scheduler where it has the same schedule.
def schedule_reference(kind, step, spe, base_lr, epochs, warmup=0.0, every=1.0,
                       gamma=0.1, min_lr=0.0, end_lr=0.0):
    spe = max(spe, 1)
    epoch = step // spe
    if kind == "constant":
        return base_lr
    if kind == "step":
        return base_lr * gamma ** math.floor(epoch / every)
    if kind == "exponential":
        return base_lr * gamma ** epoch
    ws = math.floor(warmup * spe + 0.5)  # round half away from zero (>= 0)
    if step < ws:
        return base_lr * (step + 1) / ws
    total = epochs * spe
    progress = min((step - ws) / max(total - ws, 1), 1.0)
    if kind == "cosine":
        return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
    return base_lr + (end_lr - base_lr) * progress


def torch_schedule(make_sched, steps, base_lr, per_epoch_spe=None):
    """lr of a torch scheduler at each step; with per_epoch_spe the scheduler
    is stepped once per epoch."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_sched(opt)
    lrs, cur = {}, 0
    for s in range(max(steps) + 1):
        lrs[s] = opt.param_groups[0]["lr"]
        opt.step()
        if per_epoch_spe is None or (s + 1) % per_epoch_spe == 0:
            sched.step()
    return [lrs[s] for s in steps]


def schedule_cases():
    cases = []
    spe = 7
    steps = [0, 1, 5, 6, 7, 10, 11, 13, 14, 20, 27, 34, 40]
    configs = [
        ("constant", dict(base_lr=0.01, epochs=5)),
        ("step", dict(base_lr=0.1, epochs=6, every=2.0, gamma=0.5)),
        ("exponential", dict(base_lr=0.1, epochs=6, gamma=0.9)),
        ("cosine", dict(base_lr=0.1, epochs=5, min_lr=1e-3)),
        ("cosine_warmup", dict(base_lr=1e-3, epochs=5, warmup=1.5, min_lr=1e-5)),
        ("linear", dict(base_lr=0.1, epochs=4, end_lr=1e-3)),
        ("linear_warmup", dict(base_lr=0.05, epochs=4, warmup=1.0, end_lr=0.0)),
    ]
    for name, kw in configs:
        kind = name.split("_")[0]
        ref = [schedule_reference(kind, s, spe, **kw) for s in steps]
        schedule = [f"kind = {kind}"]
        for key in ["warmup", "every", "gamma", "min_lr", "end_lr"]:
            if key in kw:
                schedule.append(f"{key} = {float(kw[key]):.17e}")
        attr = ("{{schedule = #nn.schedule<" + ", ".join(schedule) +
                f">, base_lr = {kw['base_lr']:.17e} : f64}}}}")
        inputs = [i64(s) for s in steps] + [i64(spe), i64(kw["epochs"])]
        spe_arg, epochs_arg = f"%a{len(steps)}", f"%a{len(steps) + 1}"
        body = "\n".join(
            f"  %l{i} = nn.lr_schedule %a{i}, {spe_arg}, {epochs_arg} {attr} : {{r{i}}}"
            for i in range(len(steps)))
        cases.append(Case("schedule_" + name, body, inputs,
                          [f"%l{i}" for i in range(len(steps))], [f32(v) for v in ref],
                          rtol=1e-6, atol=1e-9))
        # the same schedules through torch.optim.lr_scheduler
        total = kw["epochs"] * spe
        tref = None
        if name == "step":
            tref = torch_schedule(lambda o: torch.optim.lr_scheduler.StepLR(
                o, step_size=2, gamma=0.5), steps, kw["base_lr"], spe)
        elif name == "exponential":
            tref = torch_schedule(lambda o: torch.optim.lr_scheduler.ExponentialLR(
                o, gamma=0.9), steps, kw["base_lr"], spe)
        elif name == "cosine":
            tref = [schedule_reference("cosine", s, spe, **kw) if s >= total else v
                    for s, v in zip(steps, torch_schedule(
                        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
                            o, T_max=total, eta_min=1e-3), steps, kw["base_lr"]))]
        elif name == "linear":
            tref = torch_schedule(lambda o: torch.optim.lr_scheduler.LinearLR(
                o, start_factor=1.0, end_factor=kw["end_lr"] / kw["base_lr"],
                total_iters=total), steps, kw["base_lr"])
        if tref is not None:
            cases.append(Case("torch_schedule_" + name, body, inputs,
                              [f"%l{i}" for i in range(len(steps))],
                              [f32(v) for v in tref], rtol=1e-5, atol=1e-9))
    return cases


# Normalization, dropout and concat: batch 6 whose last 2 rows are padding
# (finite garbage) that must not change batchnorm's statistics.
def splitmix_keep(seed, stream, shape, p):
    """nn.dropout's documented generator, in numpy's wrapping uint64."""
    with np.errstate(over="ignore"):
        n = int(np.prod(shape))
        idx = np.arange(n, dtype=np.uint64)
        base = np.uint64(seed & 0xFFFFFFFFFFFFFFFF) + \
            np.uint64(((stream + 1) * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF)
        z = base + idx * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        u = (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    return (u >= np.float32(p)).reshape(shape)


def norm_cases():
    r = rng(4)
    cases = []
    B, real, eps = 6, 4, 1e-5
    mask = f32([1] * real + [0] * (B - real))

    def batchnorm_case(name, shape):
        C = shape[1]
        x = randn(r, *shape, scale=2.0) + 0.5
        x[real:] = 50.0 * randn(r, B - real, *shape[1:])  # padding
        w, b, dy = randn(r, C), randn(r, C), randn(r, *shape)
        dy_pad = dy.copy()
        dy_pad[real:] = 0.0  # what a masked loss sends back for padding
        tx, tw, tb = t(x[:real], True), t(w, True), t(b, True)
        rm, rv = torch.zeros(C), torch.ones(C)
        # momentum 1: the running statistics become the batch statistics
        # (the variance unbiased, as torch tracks it).
        y = F.batch_norm(tx, rm, rv, tw, tb, training=True, momentum=1.0, eps=eps)
        dx, dw, db = torch.autograd.grad(y, (tx, tw, tb), t(dy[:real]))
        # What torch saves for the backward pass (save_invstd): the gradient
        # takes nn.batchnorm's invstd.
        _, _, invstd = torch.native_batch_norm(t(x[:real]), t(w), t(b), None, None,
                                               True, 0.0, eps)
        mean = x[:real].astype(np.float64).mean(axis=tuple(i for i in range(len(shape)) if i != 1))
        var = x[:real].astype(np.float64).var(axis=tuple(i for i in range(len(shape)) if i != 1))
        bshape = [1, C] + [1] * (len(shape) - 2)
        y_all = ((x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + eps)
                 * w.reshape(bshape) + b.reshape(bshape))
        y_all[:real] = y.detach().numpy()
        dx_all = np.zeros(shape, np.float32)
        dx_all[:real] = dx.numpy()
        cases.append(Case(name,
            "  %y, %mean, %var, %istd = nn.batchnorm %a0, %a1, %a2, %a3 : {t0}, {t1}, {t3}\n"
            "  %dx, %dw, %db = nn.batchnorm_grad %a4, %a0, %a1, %mean, %istd, %a3 : {t0}, {t1}, {t3}",
            [x, w, b, mask, dy_pad], ["%y", "%mean", "%var", "%istd", "%dx", "%dw", "%db"],
            [y_all, rm, rv, invstd, dx_all, dw, db], rtol=2e-5, atol=2e-5))
        # Running statistics (momentum 0.1) and evaluation mode, against torch.
        rm0, rv0 = randn(r, C), f32(np.abs(randn(r, C)) + 0.5)
        trm, trv = t(rm0).clone(), t(rv0).clone()
        F.batch_norm(t(x[:real]), trm, trv, t(w), t(b), training=True, momentum=0.1, eps=eps)
        ye = F.batch_norm(t(x), trm, trv, t(w), t(b), training=False, eps=eps)
        cases.append(Case(name + "_running",
            "  %y, %mean, %var, %istd = nn.batchnorm %a0, %a1, %a2, %a3 : {t0}, {t1}, {t3}\n"
            "  %rm = nn.running_average %a4, %mean {{momentum = 1.000000e-01 : f32}} : {t1}\n"
            "  %rv = nn.running_average %a5, %var {{momentum = 1.000000e-01 : f32}} : {t1}\n"
            "  %ye = nn.batchnorm_inference %a0, %a1, %a2, %rm, %rv : {t0}, {t1}",
            [x, w, b, mask, rm0, rv0], ["%rm", "%rv", "%ye"], [trm, trv, ye.detach()],
            rtol=2e-5, atol=2e-5))

    batchnorm_case("batchnorm_nc", (B, 5))
    batchnorm_case("batchnorm_nchw", (B, 3, 4, 5))

    for name, shape in [("layernorm", (5, 8)), ("layernorm_rank3", (2, 3, 7))]:
        x, dy = randn(r, *shape, scale=3.0) + 1.0, randn(r, *shape)
        w, b = randn(r, shape[-1]), randn(r, shape[-1])
        tx, tw, tb = t(x, True), t(w, True), t(b, True)
        y = F.layer_norm(tx, (shape[-1],), tw, tb, eps=eps)
        dx, dw, db = torch.autograd.grad(y, (tx, tw, tb), t(dy))
        cases.append(Case(name,
            "  %y = nn.layernorm %a0, %a1, %a2 : {t0}, {t1}\n"
            "  %dx, %dw, %db = nn.layernorm_grad %a3, %a0, %a1 : {t0}, {t1}",
            [x, w, b, dy], ["%y", "%dx", "%dw", "%db"], [y.detach(), dx, dw, db],
            rtol=2e-5, atol=2e-5))

    # concat along channels, and the slices its gradient rule emits
    a, bb, c = randn(r, 2, 3, 2, 2), randn(r, 2, 1, 2, 2), randn(r, 2, 4, 2, 2)
    dy = randn(r, 2, 8, 2, 2)
    ta, tb_, tc = t(a, True), t(bb, True), t(c, True)
    y = torch.cat([ta, tb_, tc], 1)
    da, db_, dc = torch.autograd.grad(y, (ta, tb_, tc), t(dy))
    cases.append(Case("concat",
        "  %y = nn.concat %a0, %a1, %a2 : ({t0}, {t1}, {t2}) -> {r0}\n"
        "  %da = nn.slice %a3 {{offsets = array<i64: 0, 0, 0, 0>}} : {t3} to {r1}\n"
        "  %db = nn.slice %a3 {{offsets = array<i64: 0, 3, 0, 0>}} : {t3} to {r2}\n"
        "  %dc = nn.slice %a3 {{offsets = array<i64: 0, 4, 0, 0>}} : {t3} to {r3}",
        [a, bb, c, dy], ["%y", "%da", "%db", "%dc"], [y.detach(), da, db_, dc]))
    x2, y2 = randn(r, 3, 2), randn(r, 3, 5)
    cases.append(Case("concat_rank2",
        "  %y = nn.concat %a0, %a1 : ({t0}, {t1}) -> {r0}",
        [x2, y2], ["%y"], [torch.cat([t(x2), t(y2)], 1)]))

    # dropout: the generated mask equals the documented generator bit for
    # bit, so the statistics checked below on the reference hold for nnc.
    shape, p = (64, 256), 0.3
    x, dy = randn(r, *shape), randn(r, *shape)
    scale = np.float32(1.0 / (1.0 - np.float64(np.float32(p))))
    seeds = [12345, 12345 + 0xA0761D6478BD642F]  # two consecutive steps
    k0 = splitmix_keep(seeds[0], 0, shape, p)
    k1 = splitmix_keep(seeds[1], 0, shape, p)
    k0s1 = splitmix_keep(seeds[0], 1, shape, p)
    for keep in (k0, k1, k0s1):
        frac = keep.mean()
        assert abs(frac - (1 - p)) < 0.01, f"dropout keeps {frac}, expected {1 - p}"
    assert (k0 != k1).mean() > 0.3, "dropout masks of two steps are too alike"
    assert (k0 != k0s1).mean() > 0.3, "dropout masks of two layers are too alike"
    # the kept fraction of every row and column stays near 1 - p (no stripes)
    assert np.abs(k0.mean(axis=1) - (1 - p)).max() < 0.15
    assert np.abs(k0.mean(axis=0) - (1 - p)).max() < 0.25
    mlir_seed = lambda v: i64(v - (1 << 64) if v >= (1 << 63) else v)
    cases.append(Case("dropout",
        "  %y = nn.dropout %a0, %a2 {{p = 3.000000e-01 : f32}} : {t0}\n"
        "  %again = nn.dropout %a0, %a2 {{p = 3.000000e-01 : f32}} : {t0}\n"
        "  %next = nn.dropout %a0, %a3 {{p = 3.000000e-01 : f32}} : {t0}\n"
        "  %other = nn.dropout %a0, %a2 {{p = 3.000000e-01 : f32, stream = 1 : i64}} : {t0}\n"
        "  %dx = nn.dropout %a1, %a2 {{p = 3.000000e-01 : f32}} : {t0}",
        [x, dy, mlir_seed(seeds[0]), mlir_seed(seeds[1])],
        ["%y", "%again", "%next", "%other", "%dx"],
        [np.where(k0, x * scale, 0), np.where(k0, x * scale, 0),
         np.where(k1, x * scale, 0), np.where(k0s1, x * scale, 0),
         np.where(k0, dy * scale, 0)], rtol=0, atol=0))
    # the gradient through dropout is what torch computes for the same mask
    tx = t(x, True)
    yt = tx * t(k0.astype(np.float32)) / (1 - p)
    (dxt,) = torch.autograd.grad(yt, tx, t(dy))
    cases.append(Case("dropout_grad_vs_torch",
        "  %dx = nn.dropout %a0, %a1 {{p = 3.000000e-01 : f32}} : {t0}",
        [dy, mlir_seed(seeds[0])], ["%dx"], [dxt]))
    return cases


def sequence_cases():
    """embedding (a gather; its gradient a scatter-add with repeated and
    out-of-range-free ids), token_mask and the masked pools over time with
    ragged lengths, rows without real steps and tied maxima, against torch
    (the pools as masked reductions, torch.max's first index among ties)."""
    r = rng(21)
    cases = []
    ids = np.array([[3, 1, 3, 0, 0], [0, 0, 0, 0, 0], [2, 5, 5, 5, 4],
                    [1, 0, 0, 0, 0]], dtype=np.int32)
    table, dy = randn(r, 6, 3), randn(r, 4, 5, 3)
    tw = t(table, True)
    y = F.embedding(t(ids).long(), tw)
    (dw,) = torch.autograd.grad(y, tw, t(dy))
    cases.append(Case("embedding",
        "  %y = nn.embedding %a0, %a1 : ({t0}, {t1}) -> {r0}\n"
        "  %dw = nn.embedding_grad %a2, %a0 : ({t2}, {t0}) -> {r1}\n"
        "  %m = nn.token_mask %a0 : {t0} -> {r2}",
        [ids, table, dy], ["%y", "%dw", "%m"],
        [y.detach(), dw, (t(ids) != 0).float()]))

    m = (t(ids) != 0).float()
    x = randn(r, 4, 5, 3)
    # Ties: steps 1..3 of row 2 hold the same values (as the same token's
    # embedding would).
    x[2, 2] = x[2, 1]
    x[2, 3] = x[2, 1]
    dp = randn(r, 4, 3)
    tx = t(x, True)
    avg = (tx * m[..., None]).sum(1) / m.sum(1).clamp(min=1)[:, None]
    (davg,) = torch.autograd.grad(avg, tx, t(dp))
    cases.append(Case("masked_avgpool",
        "  %y = nn.masked_avgpool %a0, %a1 : ({t0}, {t1}) -> {r0}\n"
        "  %dx = nn.masked_avgpool_grad %a2, %a1 : ({t2}, {t1}) -> {r1}",
        [x, f32(m), dp], ["%y", "%dx"], [avg.detach(), davg]))
    tx = t(x, True)
    filled = tx.masked_fill(m[..., None] == 0, float("-inf"))
    mx = filled.max(1).values
    mx = torch.where(m.sum(1, keepdim=True) > 0, mx, torch.zeros_like(mx))
    (dmx,) = torch.autograd.grad(mx, tx, t(dp))
    cases.append(Case("masked_maxpool",
        "  %y, %i = nn.masked_maxpool %a0, %a1 : ({t0}, {t1}) -> ({r0}, tensor<4x3xi32>)\n"
        "  %dx = nn.masked_maxpool_grad %a2, %i : ({t2}, tensor<4x3xi32>) -> {r1}",
        [x, f32(m), dp], ["%y", "%dx"], [mx.detach(), dmx]))
    # transpose (conv1d's [N, T, F] <-> [N, F, T]) and its gradient, the
    # inverse permutation.
    x3, g3 = randn(r, 2, 3, 4), randn(r, 4, 2, 3)
    tx = t(x3, True)
    yt = tx.permute(2, 0, 1)
    (dx3,) = torch.autograd.grad(yt, tx, t(g3))
    cases.append(Case("transpose",
        "  %y = nn.transpose %a0 {{permutation = array<i64: 2, 0, 1>}} : {t0} -> {r0}\n"
        "  %dx = nn.transpose %a1 {{permutation = array<i64: 1, 2, 0>}} : {t1} -> {r1}",
        [x3, g3], ["%y", "%dx"], [yt.detach(), dx3]))
    cases += recurrent_cases()
    return cases


def recurrent_cases():
    """nn.recurrent in both directions for every cell, against a
    bidirectional torch.nn.RNN / LSTM / GRU on packed sequences of ragged
    lengths (padding at the end): the states at the real steps and the final
    states; then the gradient through nn.recurrent_grad and the GEMMs and
    sums of the gradient rule, against torch.autograd for a loss
    sum(out * dy) + sum(h_n * dfinal)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    cases = []
    n, steps, feat, hid = 3, 5, 4, 3
    lengths = [5, 2, 1]
    mask = np.zeros((n, steps), dtype=np.float32)
    for i, length in enumerate(lengths):
        mask[i, :length] = 1
    cells = [("rnn_tanh", 1, 1, lambda: torch.nn.RNN(feat, hid, batch_first=True, bidirectional=True)),
             ("rnn_relu", 1, 1, lambda: torch.nn.RNN(feat, hid, nonlinearity="relu", batch_first=True,
                                                     bidirectional=True)),
             ("lstm", 4, 5, lambda: torch.nn.LSTM(feat, hid, batch_first=True, bidirectional=True)),
             ("gru", 3, 4, lambda: torch.nn.GRU(feat, hid, batch_first=True, bidirectional=True))]
    for k, (cell, g, a, make) in enumerate(cells):
        r = rng(31 + k)
        torch.manual_seed(31 + k)
        net = make()
        x = randn(r, n, steps, feat)
        dy = randn(r, n, steps, 2 * hid)
        dfin = randn(r, 2, n, hid)
        tx = t(x, True)
        packed = pack_padded_sequence(tx, lengths, batch_first=True, enforce_sorted=False)
        out, hn = net(packed)
        if cell == "lstm":
            hn = hn[0]
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
        loss = (out * t(dy)).sum() + (hn * t(dfin)).sum()
        params = dict(net.named_parameters())
        names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        grads = torch.autograd.grad(loss, [tx] + [params[nm + sfx] for sfx in ("", "_reverse")
                                                   for nm in names])
        dx, gw = grads[0], grads[1:]
        ws = [f32(params[nm + sfx].detach()) for sfx in ("", "_reverse") for nm in names]
        st = f"tensor<{n}x{steps}x{hid}xf32>"
        fin = f"tensor<{n}x{hid}xf32>"
        sv = f"tensor<{n}x{steps}x{a * hid}xf32>"
        gt = f"tensor<{n}x{steps}x{g * hid}xf32>"
        gf = f"tensor<{n * steps}x{g * hid}xf32>"
        xf = f"tensor<{n * steps}x{feat}xf32>"
        body, results, expected = [], [], []
        for d, rev in enumerate(("false", "true")):
            wi, wh, bi, bh = (f"%a{2 + 4 * d + j}" for j in range(4))
            wit, wht, bit, bht = (f"{{t{2 + 4 * d + j}}}" for j in range(4))
            dys = f"%a{10}" if d == 0 else f"%a{11}"
            body += [
                f"  %s{d}, %h{d}, %v{d} = nn.recurrent %a0, %a1, {wi}, {wh}, {bi}, {bh} "
                f"{{{{cell = \"{cell}\", reverse = {rev}}}}} : ({{t0}}, {{t1}}, {wit}, {wht}, {bit}, {bht})"
                f" -> ({st}, {fin}, {sv})",
                f"  %mb{d} = nn.broadcast %a1 {{{{dims = array<i64: 2>}}}} : {{t1}} -> {st}",
                f"  %y{d} = nn.mul %s{d}, %mb{d} : {st}",
                f"  %ds{d} = nn.mul {dys}, %mb{d} : {st}",
                f"  %dxg{d}, %dhg{d}, %dwh{d} = nn.recurrent_grad %ds{d}, %a{12 + d}, %a1, {wh}, %s{d}, %v{d} "
                f"{{{{cell = \"{cell}\", reverse = {rev}}}}} : ({st}, {fin}, {{t1}}, {wht}, {st}, {sv})"
                f" -> ({gt}, {gt}, {wht})",
                f"  %fx{d} = nn.reshape %dxg{d} : {gt} to {gf}",
                f"  %dwi{d} = nn.matmul %fx{d}, %xf {{{{transpose_lhs}}}} : ({gf}, {xf}) -> {wit}",
                f"  %dbi{d} = nn.reduce_sum %dxg{d} {{{{dims = array<i64: 0, 1>}}}} : {gt} -> {bit}",
                f"  %dbh{d} = nn.reduce_sum %dhg{d} {{{{dims = array<i64: 0, 1>}}}} : {gt} -> {bht}",
                f"  %dxf{d} = nn.matmul %fx{d}, {wi} : ({gf}, {wit}) -> {xf}",
                f"  %dx{d} = nn.reshape %dxf{d} : {xf} to {{t0}}",
            ]
            results += [f"%y{d}", f"%h{d}", f"%dwi{d}", f"%dwh{d}", f"%dbi{d}", f"%dbh{d}"]
            expected += [out[..., d * hid:(d + 1) * hid].detach(), hn[d].detach(),
                         gw[4 * d], gw[4 * d + 1], gw[4 * d + 2], gw[4 * d + 3]]
        body.insert(0, f"  %xf = nn.reshape %a0 : {{t0}} to {xf}")
        body.append("  %dx = nn.add %dx0, %dx1 : {t0}")
        results.append("%dx")
        expected.append(dx)
        inputs = [x, mask] + ws + [f32(dy[..., :hid]), f32(dy[..., hid:]), f32(dfin[0]), f32(dfin[1])]
        cases.append(Case("recurrent_" + cell, "\n".join(body), inputs, results, expected,
                          2e-5, 2e-6))
    return cases


def attention_reference(qkv, mask, heads, causal, p=0.0, seed=0, stream=0):
    """softmax(Q K^T / sqrt(d) + masks) V per head, written out in torch (not
    torch.nn.MultiheadAttention, which gives NaN for a query without keys):
    key j is hidden when mask[n, j] == 0 or, with `causal`, j > i; a row
    without visible keys gives 0 and lse 0. Dropout rebuilds nn.dropout's
    documented splitmix64 mask over the [N, heads, T, T] weights. Returns
    (out [N, T, D], lse [N, heads, T])."""
    n, steps, d3 = qkv.shape
    dim = d3 // 3
    d = dim // heads

    def split(x):
        return x.reshape(n, steps, heads, d).transpose(1, 2)
    q, k, v = split(qkv[..., :dim]), split(qkv[..., dim:2 * dim]), split(qkv[..., 2 * dim:])
    s = q @ k.transpose(-1, -2) / math.sqrt(d)
    vis = (t(mask) != 0)[:, None, None, :].expand(n, heads, steps, steps)
    if causal:
        vis = vis & torch.ones(steps, steps, dtype=torch.bool).tril()
    s = s.masked_fill(~vis, float("-inf"))
    seen = vis.any(-1, keepdim=True)
    s = torch.where(seen, s, torch.zeros_like(s))
    w = torch.softmax(s, -1) * seen
    lse = torch.where(seen[..., 0], torch.logsumexp(s, -1), torch.zeros_like(s[..., 0]))
    if p > 0:
        keep = t(f32(splitmix_keep(seed, stream, (n, heads, steps, steps), p)))
        w = w * keep / (1 - p)
    o = (w @ v).transpose(1, 2).reshape(n, steps, dim)
    return o, lse


def attention_cases():
    """nn.attention and nn.attention_grad (FlashAttention-2 loops) against
    the reference above and torch.autograd: 1, 2, 4 and 8 heads, causal or
    not, T below, at and past the block size of 64 (37, 64, 70, 130: whole
    blocks plus a peeled tail), ragged padding including a sample whose keys
    are all padding (its rows must be exactly 0), and dropout on the
    weights (forward and all three gradients)."""
    cases = []
    specs = [
        # name, N, T, D, heads, causal, lengths, p
        ("attention_h1_t37", 2, 37, 16, 1, False, [37, 37], 0.0),
        ("attention_h4_causal_t70", 2, 70, 32, 4, True, [70, 45], 0.0),
        ("attention_h8_padded", 3, 20, 32, 8, False, [20, 7, 0], 0.0),
        ("attention_h4_causal_padded_t64", 3, 64, 16, 4, True, [64, 33, 0], 0.0),
        ("attention_h4_t130", 1, 130, 16, 4, False, [130], 0.0),
        ("attention_h2_causal_t130", 2, 130, 8, 2, True, [130, 100], 0.0),
        ("attention_h2_dropout_causal_t70", 2, 70, 16, 2, True, [70, 51], 0.3),
        ("attention_h4_dropout_t37", 2, 37, 16, 4, False, [37, 20], 0.5),
    ]
    for k, (name, n, steps, dim, heads, causal, lengths, p) in enumerate(specs):
        r = rng(71 + k)
        qkv = randn(r, n, steps, 3 * dim)
        dout = randn(r, n, steps, dim)
        mask = np.zeros((n, steps), dtype=np.float32)
        for i, length in enumerate(lengths):
            mask[i, :length] = 1
        seed, stream = 1234567 + k, 3
        tq = t(qkv, True)
        o, lse = attention_reference(tq, mask, heads, causal, p, seed, stream)
        (dqkv,) = torch.autograd.grad(o, tq, t(dout))
        # A sample without real keys attends to nothing: exactly 0.
        for i, length in enumerate(lengths):
            if length == 0:
                assert float(o[i].abs().max()) == 0.0
        attrs = f"heads = {heads} : i64, causal = {'true' if causal else 'false'}"
        inputs = [qkv, mask, dout]
        seed_use, seed_type = "", ""
        if p > 0:
            attrs += f", p = {p} : f32, stream = {stream} : i64"
            inputs.append(i64(seed))
            seed_use, seed_type = ", %a3", ", {t3}"
        lse_t = f"tensor<{n}x{heads}x{steps}xf32>"
        body = (f"  %o, %l = nn.attention %a0, %a1{seed_use} {{{{{attrs}}}}} : "
                f"({{t0}}, {{t1}}{seed_type}) -> ({{r0}}, {lse_t})\n"
                f"  %d = nn.attention_grad %a2, %a0, %a1, %o, %l{seed_use} {{{{{attrs}}}}} : "
                f"({{t2}}, {{t0}}, {{t1}}, {{r0}}, {lse_t}{seed_type}) -> {{t0}}")
        cases.append(Case(name, body, inputs, ["%o", "%l", "%d"],
                          [o.detach(), lse.detach(), dqkv], 2e-5, 2e-6))
    return cases


def bf16_cases():
    """`precision = bf16`: nn.dense, nn.matmul (the dense gradients) and
    nn.conv2d take their operands rounded to bf16 (round to nearest, ties
    to even, as torch's .bfloat16()) and accumulate in f32. The inputs
    include exact ties (1 + 2^-8 rounds down to 1, 1 + 3 2^-8 up to
    1 + 2^-6)."""
    r = rng(11)
    bf = lambda a: t(a).bfloat16().float()  # noqa: E731
    x, w, b, dy = randn(r, 5, 7), randn(r, 4, 7), randn(r, 4), randn(r, 5, 4)
    x[0, :3] = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8)]
    cases = [Case("bf16_dense",
        "  %y = nn.dense %a0, %a1, %a2 : ({t0}, {t1}, {t2}) -> {r0}",
        [x, w, b], ["%y"], [F.linear(bf(x), bf(w), t(b))], 1e-5, 1e-6)]
    cases.append(Case("bf16_dense_grad",
        "  %dx = nn.matmul %a0, %a1 : ({t0}, {t1}) -> {r0}\n"
        "  %dw = nn.matmul %a0, %a2 {{transpose_lhs}} : ({t0}, {t2}) -> {r1}",
        [dy, w, x], ["%dx", "%dw"], [bf(dy) @ bf(w), bf(dy).T @ bf(x)], 1e-5, 1e-6))
    xc, wc = randn(r, 2, 3, 6, 6), randn(r, 4, 3, 3, 3)
    cases.append(Case("bf16_conv2d",
        "  %y = nn.conv2d %a0, %a1 {{stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>}} : ({t0}, {t1}) -> {r0}",
        [xc, wc], ["%y"], [F.conv2d(bf(xc), bf(wc), padding=1)], 1e-5, 1e-6))
    # Not the f32 results: the rounding is applied.
    assert not np.allclose(F.linear(t(x), t(w), t(b)).detach().numpy(), cases[0].expected[0],
                           rtol=1e-5, atol=1e-6)
    return cases


GROUPS = {"layers": layer_cases, "losses": loss_cases,
          "optimizers": optimizer_cases, "schedules": schedule_cases,
          "norm": norm_cases, "sequences": sequence_cases,
          "attention": attention_cases, "bf16": bf16_cases}
# Groups whose module carries `nn.bf16` (run as a module of their own).
BF16_GROUPS = {"bf16"}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("group", choices=list(GROUPS) + ["all"])
    ap.add_argument("--nnc-opt", default=None)
    ap.add_argument("--keep", default=None, help="keep the generated files in DIR")
    args = ap.parse_args()
    groups = list(GROUPS) if args.group == "all" else [args.group]
    cases, results = [], []
    for bf16 in (False, True):
        part = [c for g in groups if (g in BF16_GROUPS) == bf16 for c in GROUPS[g]()]
        if part:
            cases += part
            results += run_module(build_module(part, bf16), tool("nnc-opt", args.nnc_opt),
                                  args.keep)
    if not compare(cases, results):
        print("FAILED: nnc and PyTorch disagree")
        return 1
    print(f"PASSED: {sum(len(c.expected) for c in cases)} results of {len(cases)} cases match PyTorch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
