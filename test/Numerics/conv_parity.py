#!/usr/bin/python3
"""Numerical parity of conv2d, the pools and their gradients with PyTorch.

Uses the machinery of parity.py (one module of fixed-seed cases, results
printed as f32 bit patterns, compared with torch.autograd). The module is
lowered by `nnc-opt -convert-nn-to-linalg`, then either by parity.py's plain
reference lowering (`--lowering reference`: checks the linalg the patterns
emit) or by nnc's own `-nnc-cpu-codegen` (`--lowering codegen`: checks the
tiled and vectorized code that the compiled programs run).

Usage: conv_parity.py GROUP [--lowering reference|codegen] [--nnc-opt PATH]
GROUP: conv | pool | all
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import shutil

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity  # noqa: E402
from parity import Case, f32, randn, rng, t  # noqa: E402

CONV_TOL = dict(rtol=1e-4, atol=1e-5)


def arr(v):
    return "array<i64: " + ", ".join(str(int(e)) for e in v) + ">"


def torch_pad(x, pads, value=0.0):
    top, left, bottom, right = pads
    return F.pad(x, (left, right, top, bottom), value=value)


def same_pads(kh, kw):
    """PyTorch's padding='same' (stride 1): the extra row/column of an even
    kernel goes to the bottom/right."""
    return [(kh - 1) // 2, (kw - 1) // 2, kh - 1 - (kh - 1) // 2,
            kw - 1 - (kw - 1) // 2]


def conv_case(name, r, n, c, h, w, f, kh, kw, stride, pads, bias, scaled=False):
    """`scaled`: the filters scaled by 1 / sqrt(c kh kw) and dy by
    1 / sqrt(n oh ow), as in a trained network (Kaiming-initialised filters,
    a mean-reduced loss), so that sums of hundreds of products stay of order
    1: otherwise their float32 rounding (in any order, PyTorch's too) is
    ~1e-5 of their terms' scale of ~20, and a sum that nearly cancels to
    ~0.01 is off by more than the tolerance."""
    x, wt, b = randn(r, n, c, h, w), randn(r, f, c, kh, kw), randn(r, f)
    if scaled:
        wt = (wt / np.sqrt(c * kh * kw)).astype(np.float32)
    tx, tw, tb = t(x, True), t(wt, True), t(b, True)
    y = F.conv2d(torch_pad(tx, pads), tw, tb if bias else None, stride=stride)
    dy = randn(r, *y.shape)
    if scaled:
        dy = (dy / np.sqrt(y.shape[0] * y.shape[2] * y.shape[3])).astype(np.float32)
    grads = torch.autograd.grad(y, (tx, tw, tb) if bias else (tx, tw), t(dy))
    attrs = f"{{{{stride = {arr(stride)}, padding = {arr(pads)}}}}}"
    if bias:
        body = (f"  %y = nn.conv2d %a0, %a1, %a2 {attrs} : ({{t0}}, {{t1}}, {{t2}}) -> {{r0}}\n"
                f"  %dx = nn.conv2d_grad_input %a3, %a1 {attrs} : ({{t3}}, {{t1}}) -> {{r1}}\n"
                f"  %dw = nn.conv2d_grad_weight %a3, %a0 {attrs} : ({{t3}}, {{t0}}) -> {{r2}}\n"
                "  %db = nn.reduce_sum %a3 {{dims = array<i64: 0, 2, 3>}} : {t3} -> {r3}")
        return Case(name, body, [x, wt, b, dy], ["%y", "%dx", "%dw", "%db"],
                    [y.detach()] + list(grads), **CONV_TOL)
    body = (f"  %y = nn.conv2d %a0, %a1 {attrs} : ({{t0}}, {{t1}}) -> {{r0}}\n"
            f"  %dx = nn.conv2d_grad_input %a2, %a1 {attrs} : ({{t2}}, {{t1}}) -> {{r1}}\n"
            f"  %dw = nn.conv2d_grad_weight %a2, %a0 {attrs} : ({{t2}}, {{t0}}) -> {{r2}}")
    return Case(name, body, [x, wt, dy], ["%y", "%dx", "%dw"],
                [y.detach()] + list(grads), **CONV_TOL)


def conv_cases():
    r = rng(11)
    return [
        conv_case("conv_c1_k3_valid_bias", r, 2, 1, 6, 7, 4, 3, 3, [1, 1], [0, 0, 0, 0], True),
        conv_case("conv_c3_k3_pad1_nobias", r, 2, 3, 7, 6, 5, 3, 3, [1, 1], [1, 1, 1, 1], False),
        conv_case("conv_c2_k3_stride2_pad1", r, 2, 2, 8, 9, 3, 3, 3, [2, 2], [1, 1, 1, 1], True),
        conv_case("conv_c3_k3_same", r, 2, 3, 5, 6, 4, 3, 3, [1, 1], same_pads(3, 3), True),
        conv_case("conv_c3_k2_same_even", r, 2, 3, 6, 6, 4, 2, 2, [1, 1], same_pads(2, 2), True),
        conv_case("conv_c2_k4_same_even", r, 1, 2, 7, 7, 3, 4, 4, [1, 1], same_pads(4, 4), False),
        conv_case("conv_c3_k3x2_stride2_rest", r, 2, 3, 9, 8, 2, 3, 2, [2, 2], [0, 0, 0, 0], False),
        conv_case("conv_c4_k5_pad2_stride12", r, 3, 4, 9, 10, 6, 5, 5, [1, 2], [2, 2, 2, 2], True),
        conv_case("conv_c5_k1", r, 2, 5, 4, 3, 3, 1, 1, [1, 1], [0, 0, 0, 0], True),
        conv_case("conv_c1_k3_same_mnist_like", r, 4, 1, 12, 12, 4, 3, 3, [1, 1], same_pads(3, 3), True),
        # Outputs of a multiple of 16 pixels go sample by sample (a parallel
        # loop); weight gradients by groups of input channels, each through
        # the samples in order (here 2, 8 and 2 groups, 6x6 = 36 pixels too).
        conv_case("conv_by_sample_c16_k3_pad1", r, 3, 16, 8, 8, 6, 3, 3, [1, 1], [1, 1, 1, 1], True),
        conv_case("conv_by_sample_stride2_pad1", r, 4, 3, 16, 16, 5, 3, 3, [2, 2], [1, 1, 1, 1], False),
        conv_case("conv_by_sample_k1_c64", r, 10, 64, 4, 4, 7, 1, 1, [1, 1], [0, 0, 0, 0], True),
        conv_case("conv_by_sample_dw_c16_6x6", r, 5, 16, 6, 6, 3, 3, 3, [1, 1], [1, 1, 1, 1], True),
        # Outputs of 6x6 = 36 and 7x7 = 49 pixels go 4 and 16 samples at a
        # time (144 and 784 columns, whole vectors of 16), two parts each.
        conv_case("conv_by_parts_of_4_6x6", r, 8, 3, 6, 6, 4, 3, 3, [1, 1], [1, 1, 1, 1], True),
        conv_case("conv_by_parts_of_16_7x7", r, 32, 2, 7, 7, 3, 3, 3, [1, 1], [1, 1, 1, 1], False),
        # One input channel and 32 filters: the weight gradient by 2 groups
        # of 16 filters, each through the samples in order.
        conv_case("conv_filter_groups_c1_f32", r, 4, 1, 12, 12, 32, 3, 3, [1, 1], same_pads(3, 3), True),
        # 11x11 = 121 pixels: 4 samples, 484 columns, a remainder of 4.
        conv_case("conv_by_parts_remainder_11x11", r, 8, 2, 13, 13, 3, 3, 3, [1, 1], [0, 0, 0, 0], True),
        # Stride 1 with 16 to 31 channels in (3x3; 32 and more go by
        # Winograd) or 32 (2x2) and >= 512 columns per sample: the forward
        # and input-gradient convolutions as shifted GEMMs per sample
        # (implicit GEMM: rows of 26, 25 and 28 columns, of which the last 2,
        # 1 and 2 are dropped; the input gradient's dy padded by kh - 1 -
        # top: 1, 1 / 0 and 2).
        conv_case("conv_shifted_c24_k3_pad1", r, 2, 24, 24, 24, 24, 3, 3, [1, 1], [1, 1, 1, 1], True, scaled=True),
        conv_case("conv_shifted_c32_k2_same_even", r, 2, 32, 24, 24, 32, 2, 2, [1, 1], same_pads(2, 2), False, scaled=True),
        conv_case("conv_shifted_c24_k3_valid_f20", r, 2, 24, 26, 26, 20, 3, 3, [1, 1], [0, 0, 0, 0], True, scaled=True),
        # The weight gradients of these go by shifted windows too (dy
        # channels-last in rows of the padded width): in groups of input
        # channels above; here 2 groups, a 5x5 kernel (rows of 36, 4
        # wrapped columns) and dy of 16 filters.
        conv_case("conv_shifted_c16_k5_pad2", r, 2, 16, 32, 32, 16, 5, 5, [1, 1], [2, 2, 2, 2], True, scaled=True),
        # 3x3 stride 1 with at least 64 channels in and out: the forward
        # pass and the input gradient by Winograd F(4x4, 3x3) where it saves
        # a quarter of the products (all but the 6x9 case), the weight
        # gradient by F(2x2, 3x3), a few samples at a time (winogradConv,
        # winogradWeightGrad). 11x11 outputs: the tiles' last row and
        # column outside (3x3 tiles of 4x4 forward; 6x6 tiles of 2x2 for the
        # weight gradient); the input gradient by the gradient of the
        # forward pass's tiles (winogradAdjointGrad: 9 tiles, where dy
        # padded by 2 took 16 for 13x13), their 6x6 input tiles overlapping.
        conv_case("conv_winograd_c64_f64_valid_11x11", r, 4, 64, 13, 13, 64, 3, 3, [1, 1], [0, 0, 0, 0], True, scaled=True),
        # The same with padding above and left only (12x12 outputs: 3x3
        # tiles exactly) and 40 input channels (the input gradient's
        # transforms on vectors of 8): dx is the padded input's gradient
        # cropped at row and column 1.
        conv_case("conv_winograd_c40_f64_pad_tl_12x12", r, 2, 40, 13, 13, 64, 3, 3, [1, 1], [1, 1, 0, 0], False, scaled=True),
        # Padding 1, a rectangular 6x9 image (3x5 tiles, the last column of
        # tiles half outside), 80 filters; the input gradient's 80 channels
        # in, 64 out (by F(2x2, 3x3) in both directions).
        conv_case("conv_winograd_c64_f80_pad1_6x9", r, 4, 64, 6, 9, 80, 3, 3, [1, 1], [1, 1, 1, 1], False, scaled=True),
        # "same" padding on 8x8 (4x4 tiles, 16 per sample: parts of 1).
        conv_case("conv_winograd_c96_f64_same_8x8", r, 2, 96, 8, 8, 64, 3, 3, [1, 1], same_pads(3, 3), True, scaled=True),
        # 14x14 "same": 7x7 tiles, the last row and column of tiles half
        # outside; parts of 1 sample, the weight gradient in 2 groups.
        conv_case("conv_winograd_c64_f64_same_14x14", r, 2, 64, 14, 14, 64, 3, 3, [1, 1], same_pads(3, 3), True, scaled=True),
        # 32 channels in and out (resnet_mini's), padding 1 on 24x24: 6x6
        # tiles of 4x4 forward; 32 -> 40 at 26x26 "valid". 36 channels: the
        # transforms on vectors of 4 channels.
        conv_case("conv_winograd_c32_f32_pad1_24x24", r, 2, 32, 24, 24, 32, 3, 3, [1, 1], [1, 1, 1, 1], True, scaled=True),
        conv_case("conv_winograd_c32_f40_valid_26x26", r, 2, 32, 26, 26, 40, 3, 3, [1, 1], [0, 0, 0, 0], True, scaled=True),
        conv_case("conv_winograd_c36_f36_same_12x12", r, 2, 36, 12, 12, 36, 3, 3, [1, 1], same_pads(3, 3), True, scaled=True),
    ]


def conv_relu_pool_case(name, r, n, c, h, w, f, pads, first_layer=False,
                        scaled=False):
    """maxpool2d(relu(conv2d(x))) with 2x2 windows and its gradients as a
    training step has them, which convert-nn-to-linalg fuses when the
    convolution goes a few samples at a time: each part's convolution, relu
    and window maximum (with the offsets the gradient takes) in one loop
    (see fuseConvReluMaxPool). `first_layer`: no input gradient, as for a
    network's first layer. `scaled`: the filters scaled by 1 / sqrt(c 3 3)
    (see conv_case)."""
    x, wt, b = randn(r, n, c, h, w), randn(r, f, c, 3, 3), randn(r, f)
    if scaled:
        wt = (wt / np.sqrt(c * 9)).astype(np.float32)
    tx, tw, tb = t(x, True), t(wt, True), t(b, True)
    z = F.conv2d(torch_pad(tx, pads), tw, tb)
    y = F.max_pool2d(F.relu(z), [2, 2], [2, 2])
    dy = randn(r, *y.shape)
    wrt = (tw, tb) if first_layer else (tx, tw, tb)
    grads = torch.autograd.grad(y, wrt, t(dy))
    zt = "tensor<" + "x".join(str(d) for d in z.shape) + "xf32>"
    conv = f"{{{{stride = {arr([1, 1])}, padding = {arr(pads)}}}}}"
    pool = (f"{{{{kernel = {arr([2, 2])}, stride = {arr([2, 2])}, "
            f"padding = {arr([0, 0, 0, 0])}}}}}")
    body = (f"  %z = nn.conv2d %a0, %a1, %a2 {conv} : ({{t0}}, {{t1}}, {{t2}}) -> {zt}\n"
            f"  %r = nn.relu %z : {zt}\n"
            f"  %y = nn.maxpool2d %r {pool} : {zt} -> {{r0}}\n"
            f"  %g = nn.maxpool2d_grad %a3, %r {pool} : {{t3}}, {zt}\n"
            f"  %dz = nn.relu_grad %g, %r : {zt}\n"
            + ("" if first_layer else
               f"  %dx = nn.conv2d_grad_input %dz, %a1 {conv} : ({zt}, {{t1}}) -> {{r1}}\n")
            + f"  %dw = nn.conv2d_grad_weight %dz, %a0 {conv} : ({zt}, {{t0}}) -> {{r{2 - first_layer}}}\n"
            f"  %db = nn.reduce_sum %dz {{{{dims = array<i64: 0, 2, 3>}}}} : {zt} -> {{r{3 - first_layer}}}")
    results = ["%y", "%dw", "%db"] if first_layer else ["%y", "%dx", "%dw", "%db"]
    return Case(name, body, [x, wt, b, dy], results,
                [y.detach()] + list(grads), **CONV_TOL)


def conv_relu_pool_cases():
    r = rng(21)
    return [
        # One input channel, 12x12 "same": parts of one sample (144 columns).
        conv_relu_pool_case("conv_relu_pool_c1_same", r, 4, 1, 12, 12, 4, same_pads(3, 3)),
        # 11x11 outputs in parts of 4 samples; the 2x2 windows leave the
        # last row and column out (their gradient is zero).
        conv_relu_pool_case("conv_relu_pool_c2_11x11", r, 8, 2, 13, 13, 3, [0, 0, 0, 0]),
        # A first layer of 32 filters (13x13 outputs: the last row and
        # column get no gradient); its weight gradient goes by 2 groups of
        # 16 filters.
        conv_relu_pool_case("conv_relu_pool_first_layer_f32", r, 4, 1, 15, 15, 32, [0, 0, 0, 0],
                            first_layer=True),
        # 64 channels in and out: each part's convolution by Winograd
        # F(4x4, 3x3) (winogradConv) in the fused loop, 2 samples at a time.
        conv_relu_pool_case("conv_relu_pool_winograd_c64", r, 4, 64, 13, 13, 64, [0, 0, 0, 0],
                            scaled=True),
    ]


def pool_case(kind, name, x, kernel, stride, pads, dy_seed):
    tx = t(x, True)
    if kind == "max":
        y = F.max_pool2d(torch_pad(tx, pads, -float("inf")), kernel, stride)
    else:
        y = F.avg_pool2d(torch_pad(tx, pads, 0.0), kernel, stride)
    dy = randn(rng(dy_seed), *y.shape)
    (dx,) = torch.autograd.grad(y, (tx,), t(dy))
    attrs = (f"{{{{kernel = {arr(kernel)}, stride = {arr(stride)}, "
             f"padding = {arr(pads)}}}}}")
    if kind == "max":
        body = (f"  %y = nn.maxpool2d %a0 {attrs} : {{t0}} -> {{r0}}\n"
                f"  %dx = nn.maxpool2d_grad %a1, %a0 {attrs} : {{t1}}, {{t0}}")
    else:
        body = (f"  %y = nn.avgpool2d %a0 {attrs} : {{t0}} -> {{r0}}\n"
                f"  %dx = nn.avgpool2d_grad %a1 {attrs} : {{t1}} -> {{r1}}")
    return Case(name, body, [x, dy], ["%y", "%dx"], [y.detach(), dx])


def relu_pool_case(name, x0, kernel, stride, pads, dy_seed):
    """maxpool2d(relu(x0)) and the gradient with respect to x0, as a
    training step has it: relu_grad(maxpool2d_grad(dy, r), r) with r =
    relu(x0) (convert-nn-to-linalg applies relu's mask to dy before the
    pooling's gradient; see maskMaxPoolGradients)."""
    tx = t(x0, True)
    r = F.relu(tx)
    y = F.max_pool2d(torch_pad(r, pads, -float("inf")), kernel, stride)
    dy = randn(rng(dy_seed), *y.shape)
    (dx,) = torch.autograd.grad(y, (tx,), t(dy))
    attrs = (f"{{{{kernel = {arr(kernel)}, stride = {arr(stride)}, "
             f"padding = {arr(pads)}}}}}")
    body = (f"  %y = nn.maxpool2d %a0 {attrs} : {{t0}} -> {{r0}}\n"
            f"  %g = nn.maxpool2d_grad %a1, %a0 {attrs} : {{t1}}, {{t0}}\n"
            "  %dx = nn.relu_grad %g, %a0 : {t0}")
    return Case(name, body, [f32(np.maximum(x0, 0)), dy], ["%y", "%dx"],
                [y.detach(), dx])


def pool_cases():
    r = rng(12)
    # Few distinct values: many ties, so the routing of the gradient to the
    # first maximum of each window is checked.
    ties = f32(r.randint(0, 3, size=(2, 3, 7, 7)))
    cases = [
        pool_case("max", "maxpool_k2_s2", randn(r, 2, 3, 6, 6), [2, 2], [2, 2], [0, 0, 0, 0], 1),
        pool_case("max", "maxpool_k2_s2_odd", randn(r, 2, 2, 7, 5), [2, 2], [2, 2], [0, 0, 0, 0], 2),
        # Disjoint windows with padding (the gradient is cropped), and rows of
        # at least 8 windows with a remainder column (vectors along the
        # windows, strided writes, the remainder zero-filled).
        pool_case("max", "maxpool_k2_s2_pad1", randn(r, 2, 2, 5, 7), [2, 2], [2, 2], [1, 1, 1, 1], 12),
        pool_case("max", "maxpool_k2_s2_wide_odd", randn(r, 2, 3, 9, 21), [2, 2], [2, 2], [0, 0, 0, 0], 13),
        pool_case("max", "maxpool_k3_s3_wide", randn(r, 1, 2, 6, 30), [3, 3], [3, 3], [0, 0, 0, 0], 14),
        pool_case("max", "maxpool_k3_s1_same", randn(r, 2, 3, 5, 6), [3, 3], [1, 1], [1, 1, 1, 1], 3),
        pool_case("max", "maxpool_k3_s2_pad1", randn(r, 2, 2, 7, 8), [3, 3], [2, 2], [1, 1, 1, 1], 4),
        pool_case("max", "maxpool_k2_s1_same_even", randn(r, 1, 2, 5, 5), [2, 2], [1, 1], [0, 0, 1, 1], 5),
        pool_case("max", "maxpool_ties_k3_s1_same", ties, [3, 3], [1, 1], [1, 1, 1, 1], 6),
        pool_case("max", "maxpool_ties_k2_s2", ties[:, :, :6, :6].copy(), [2, 2], [2, 2], [0, 0, 0, 0], 7),
        pool_case("max", "maxpool_negative_pad", -np.abs(randn(r, 1, 2, 4, 4)) - 1, [3, 3], [1, 1], [1, 1, 1, 1], 8),
        # relu then maxpool (windows of zeros: the mask drops their
        # gradient; overlapping windows sum masked parts).
        relu_pool_case("relu_maxpool_k2_s2_odd", randn(r, 2, 3, 7, 9), [2, 2], [2, 2], [0, 0, 0, 0], 15),
        relu_pool_case("relu_maxpool_k3_s1_same", randn(r, 2, 2, 6, 7), [3, 3], [1, 1], [1, 1, 1, 1], 16),
        relu_pool_case("relu_maxpool_ties_k2_s2", ties[:, :, :6, :6] - 1.0, [2, 2], [2, 2], [0, 0, 0, 0], 17),
        pool_case("avg", "avgpool_k2_s2", randn(r, 2, 3, 6, 6), [2, 2], [2, 2], [0, 0, 0, 0], 9),
        pool_case("avg", "avgpool_k3_s1_pad1", randn(r, 2, 2, 5, 6), [3, 3], [1, 1], [1, 1, 1, 1], 10),
        pool_case("avg", "avgpool_k3_s2_pad1", randn(r, 1, 3, 7, 7), [3, 3], [2, 2], [1, 1, 1, 1], 11),
    ]
    x = randn(r, 2, 3, 4, 5)
    tx = t(x, True)
    y = tx.mean(dim=(2, 3))
    dy = randn(r, 2, 3)
    (dx,) = torch.autograd.grad(y, (tx,), t(dy))
    cases.append(Case("global_avgpool",
        "  %y = nn.global_avgpool %a0 : {t0} -> {r0}\n"
        "  %dx = nn.global_avgpool_grad %a1 : {t1} -> {r1}",
        [x, dy], ["%y", "%dx"], [y.detach(), dx]))
    return cases


GROUPS = {"conv": conv_cases, "pool": pool_cases,
          "conv_relu_pool": conv_relu_pool_cases}

CODEGEN = ("-nnc-cpu-codegen=results-to-out-params=false "
           "bare-ptr-call-conv=false")


def run_codegen(text, nnc_opt, keep):
    """parity.run_module with nnc-cpu-codegen in place of the reference
    lowering."""
    work = keep or tempfile.mkdtemp(prefix="nnc-conv-parity-")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "cases.mlir")
    with open(src, "w") as f:
        f.write(text)

    def step(cmd, what):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(f"error: {what} failed:\n{p.stderr}\n")
            sys.exit(1)
        return p.stdout

    linalg = step([nnc_opt, src, "-convert-nn-to-linalg"], "convert-nn-to-linalg")
    lin = os.path.join(work, "linalg.mlir")
    with open(lin, "w") as f:
        f.write(linalg)
    llvm = step([nnc_opt, lin, CODEGEN], "nnc-cpu-codegen")
    ll = os.path.join(work, "llvm.mlir")
    with open(ll, "w") as f:
        f.write(llvm)
    out = step([os.path.join(parity.LLVM_BIN, "mlir-cpu-runner"), ll, "-e", "main",
                "-entry-point-result=void",
                f"-shared-libs={parity.LLVM_LIB}/libmlir_runner_utils.so",
                f"-shared-libs={parity.LLVM_LIB}/libmlir_c_runner_utils.so"],
               "mlir-cpu-runner")
    if not keep:
        shutil.rmtree(work)
    results = []
    for chunk in out.split("Unranked Memref")[1:]:
        meta, data = chunk.split("data =", 1)
        sizes = [int(s) for s in re.search(r"sizes = \[([^\]]*)\]", meta).group(1).replace(",", " ").split()]
        bits = np.array([int(v) for v in re.findall(r"-?\d+", data)], dtype=np.int64)
        results.append(bits.astype(np.int32).view(np.float32).reshape(sizes))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("group", choices=list(GROUPS) + ["all"])
    ap.add_argument("--lowering", choices=["reference", "codegen"], default="reference")
    ap.add_argument("--nnc-opt", default=None)
    ap.add_argument("--keep", default=None, help="keep the generated files in DIR")
    args = ap.parse_args()
    groups = list(GROUPS) if args.group == "all" else [args.group]
    cases = [c for g in groups for c in GROUPS[g]()]
    text = parity.build_module(cases)
    nnc_opt = parity.tool("nnc-opt", args.nnc_opt)
    if args.lowering == "codegen":
        results = run_codegen(text, nnc_opt, args.keep)
    else:
        results = parity.run_module(text, nnc_opt, args.keep)
    if not parity.compare(cases, results):
        print("FAILED: nnc and PyTorch disagree")
        return 1
    print(f"PASSED: {sum(len(c.expected) for c in cases)} results of "
          f"{len(cases)} cases match PyTorch ({args.lowering} lowering)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
