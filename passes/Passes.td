//===- Passes.td - All passes of nnc -------------------------*- tablegen -*-===//
//
// The one place passes are declared. The whole pipeline is assembled in
// Pipelines.cpp so that nnc and nnc-opt run the same thing.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES
#define NNC_PASSES

include "mlir/Pass/PassBase.td"

def NNAutodiffPass : Pass<"nn-autodiff", "::mlir::ModuleOp"> {
  let summary = "builds the gradient function of every loss function";
  let description = [{
    Input: functions marked `nn.loss` whose first result is the scalar loss
    and whose arguments marked `nn.param` are the trainable parameters.
    Output: for each, a function `<name>_grad` with the same arguments that
    returns the original results followed by d(loss)/d(param) for every
    parameter, in argument order. The backward pass is a reverse walk over the
    forward ops, each contributing its vector-Jacobian product through
    GradientOpInterface; gradients of values used several times are summed
    with `nn.add`. Ops whose results do not reach the loss through a
    parameter are not differentiated. Buffers (arguments marked `nn.buffer`,
    such as batchnorm running statistics) and the dropout seed (`nn.seed`)
    are never differentiated: the new buffer values a training loss returns
    after its predictions (`nn.buffer_results`) are plain results.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect"];
}

def NNBuildTrainStepPass : Pass<"nn-build-train-step", "::mlir::ModuleOp"> {
  let summary = "builds the training step: gradients, learning rate, optimizer update";
  let description = [{
    Input: a `<name>_grad` function made by nn-autodiff and the module
    attribute `nn.optimizer` (`#nn.optimizer<kind = sgd|adam|adamw|rmsprop,
    its hyper-parameters, schedule = #nn.schedule<...>>`).
    Output: `train_step(params..., buffers..., optimizer state..., data...,
    step, steps_per_epoch, epochs, seed, lr_factor) -> (new params..., new
    buffers..., new state..., loss, predictions, lr)`, with the learning rate
    computed by `nn.lr_schedule` (over the run's `epochs`) times `lr_factor`
    (the runtime's `--lr` override) and one update op per parameter. Buffers
    (`nn.buffer` arguments) are the loss's: their new values are its
    `nn.buffer_results`. A `nn.seed` argument (dropout) is computed from the
    run's `seed` and the step, not passed.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect"];
}

def ConvertNNToLinalgPass : Pass<"convert-nn-to-linalg", "::mlir::ModuleOp"> {
  let summary = "lowers nn ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Input: nn ops on statically shaped tensors. Output: no nn ops; matrix
    products as linalg named ops (matmul, matmul_transpose_a/b), elementwise
    work and reductions as linalg.generic / linalg.reduce, all in destination
    style on tensors, ready for tiling, vectorization and bufferization.
    Loops over time (recurrent layers) are scf.for around such ops; fused
    attention is an scf.forall over (sample, head) pairs around scf.for
    loops over blocks of small static tiles. Convolutions whose samples are
    small (one sample's im2col matrix within 1 MiB, output pixels a multiple
    of 16) go sample by sample, an scf.forall over the batch, and where the
    pixels of a few samples are a multiple of 16 (4 of 14x14), that many
    samples at a time, else as many as fit if few columns are left over (4
    of 11x11); the weight gradient over up to 8 groups of input channels,
    each through the samples in a fixed order. Before lowering, relu's
    gradient of a max pooling's gradient (relu then maxpool in the forward
    pass) becomes relu's mask on the pooled gradient, by the forward pass's
    window maxima, inside the pooling gradient's op (the same values).
  }];
  let options = [
    Option<"bySampleConvolutions", "by-sample-convolutions", "bool", "true",
           "small convolutions by samples (one or a few) in a parallel "
           "loop (false for GPUs: one GEMM for the whole batch)">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def NNFoldBatchNormPass : Pass<"nn-fold-batchnorm", "::mlir::ModuleOp"> {
  let summary = "folds evaluation-mode batchnorm into the dense/conv2d before it";
  let description = [{
    A `nn.batchnorm_inference` whose input is a `nn.dense` or `nn.conv2d`
    used only by it, in the `nn.predict` or `nn.eval_loss` function, is an
    affine map per output channel: with `s = gamma / sqrt(running_var +
    eps)`, the layer with weight `W s` and bias `(b - running_mean) s +
    beta` computes the same. Without `export`: adds `fold` (`nn.fold`), the
    function of the parameters and buffers returning those folded weights
    and biases, each named by `nn.param` (the layer's weight, the
    batchnorm's bias), which nn-export-abi makes `nnc_fold(state)`; and `nn.predict` and
    `nn.eval_loss` compute the folded weight and bias from their own
    arguments on each call, the layer taking them, the batchnorm gone (a
    pass over the weights instead of one over the activations). With
    `export` (the inference library of `./model export`): rewrites
    `nn.predict` for folded parameters, each layer taking its batchnorm's
    bias, the batchnorm gone.
  }];
  let options = [
    Option<"exportMode", "export", "bool", "false",
           "rewrite nn.predict for folded parameters instead of adding fold">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect"
  ];
}

def NNQuantizePass : Pass<"nn-quantize", "::mlir::ModuleOp"> {
  let summary = "int8 inference: u8 activations, per-channel s8 weights";
  let description = [{
    Post-training quantization of the `nn.predict` function (the inference
    library of `./model export --int8`). Every `nn.dense` and `nn.conv2d`
    whose weight is a parameter of the function becomes: its input
    quantized per tensor to u8 with the layer's scale `s` and zero point
    `z` (q = clamp(round(x / s) + z, 0, 255)), an int8 GEMM
    (`nn.int8_gemm` linalg.generic over (m, o, k4, j): u8 rows as
    [M, Kp/4, 4] times s8 weights packed as [Kp/4, Op, 4], into i32
    accumulators [M, Op]; conv2d through an im2col of
    the quantized, zero-point-padded input) and the epilogue
    y = (acc - comp[o]) alpha[o] + bias[o] back to f32. Kp and Op are K and
    the output channels rounded up to 4 and 16. `predict` takes two more
    arguments after its input: `qf32` (per layer s, z, alpha = s sw[o],
    comp = z sum_k qw[o, k]) and `qi8` (per layer the packed weights, at
    64-byte offsets). The sizes are the module attribute
    `nn.quant_sizes` = [range floats, qf32 floats, qi8 bytes].

    With `calibration`, two more functions on the original `predict`:
    `observe` (`nn.observe`: the parameters, the input and the ranges
    [L, 2] so far -> the predictions and the ranges widened by the batch's
    minimum and maximum of every quantized layer's input) and `quantize`
    (`nn.quantize`: the parameters and the ranges -> qf32 and qi8: weights
    symmetric per output channel, sw[o] = max_k |w[o, k]| / 127; activations
    asymmetric over [min(lo, 0), max(hi, 0)]).
  }];
  let options = [
    Option<"calibration", "calibration", "bool", "false",
           "also build the observe and quantize functions">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect"
  ];
}

def NNLowerInt8GemmPass : Pass<"nn-lower-int8-gemm", "::mlir::func::FuncOp"> {
  let summary = "lowers nn-quantize's int8 GEMMs on buffers to VNNI kernels";
  let description = [{
    Every `nn.int8_gemm` linalg.generic on memrefs (C[M, Op] i32 +=
    A[M, Kp/4, 4] u8 x B[Kp/4, Op, 4] s8) becomes register-tiled loops whose
    body is AVX-512 VNNI `vpdpbusd` (`llvm.x86.avx512.vpdpbusd.512`): per
    step of 4 along k, 4 bytes of each of up to 4 rows of A broadcast, 64
    bytes of B (16 output channels) loaded per column block, up to 4 x 4
    accumulators of 16 x i32 in registers. Without `vnni` (a host without
    it) the ops are left to become scalar loops.
  }];
  let options = [
    Option<"vnni", "vnni", "bool", "true",
           "the host has AVX-512 VNNI (else leave the ops alone)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect"
  ];
}

def NNExportABIPass : Pass<"nn-export-abi", "::mlir::ModuleOp"> {
  let summary = "wraps the tensor functions into the C ABI of the runtime";
  let description = [{
    Input: `train_step` (from nn-build-train-step), the `nn.loss` function,
    the evaluation-mode `nn.eval_loss` function when the model has one
    (batchnorm, dropout; nnc_eval calls it, else `nn.loss`) and the
    `nn.predict` function, all on tensors. Output: three functions on
    memrefs that the runtime calls with bare pointers:

      nnc_train(state, x, y, mask, step, steps_per_epoch, epochs, seed,
                lr_factor, out)
      nnc_eval(state, x, y, mask, out)
      nnc_predict(state, x, out)

    `state` is one f32 arena: every parameter (in argument order), then every
    buffer (`nn.buffer` arguments; nnc_train writes their new values back),
    then each kind of optimizer state for every parameter. The offsets are
    recorded as the module attribute `nn.abi` (name -> [offset, size]), the
    arena's size as `nn.abi_state_size`, for the driver.
    `out` receives the loss (and, for training, the learning rate), then the
    predictions. The tensor functions become private so that inlining and
    symbol DCE leave only the entry points.

    Fine-tuning: optimizer state exists only for the parameters named by the
    step's `nn.state_params`. With several step functions (phases of frozen
    parameters, `nn.phase_last_epoch`), nnc_train calls the one of the
    current epoch (step / steps_per_epoch). Values a step passes through
    (frozen parameters and their state) are not written back.

    nnc_train reads the slots as `restrict` tensors and writes the new
    values back with `restrict` materialize_in_destination: empty-tensor
    elimination then makes each optimizer update (elementwise, the last
    reader of its slots' old values, after the whole backward pass) write
    straight into the arena, with no copy in or out.

    With `inference` (the library of `./model export`): only
    `nnc_infer(weights, x, out)`, the `nn.predict` function on `weights` =
    the parameters and buffers (laid out as in the state arena) followed by
    the preprocessing's per-feature scale and shift (x' = x scale + shift,
    applied to the raw input first), each `F` floats for `F` features per
    sample. Arguments of `nn.predict` after its input and results after its
    predictions (nn-quantize's qf32 and qi8) follow as buffers:
    `nnc_infer(weights, x, out, qf32, qi8)`; nn-quantize's calibration
    functions become `nnc_observe(weights, x, out, ranges, new_ranges)` (the
    same way) and `nnc_quantize(weights, ranges, qf32, qi8)`. A `fold`
    function (nn-fold-batchnorm) becomes `nnc_fold(state)` otherwise.
  }];
  let options = [
    Option<"inference", "inference", "bool", "false",
           "export only nnc_infer, the inference library's entry point">,
    Option<"entryName", "entry", "std::string", "\"nnc_infer\"",
           "with inference: the entry point's name">
  ];
  let dependentDialects = [
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect", "::mlir::linalg::LinalgDialect"
  ];
}

def NNFuseElementwisePass : Pass<"nn-fuse-elementwise"> {
  let summary = "fuses elementwise linalg ops; reshapes never enter contractions";
  let description = [{
    linalg-fuse-elementwise-ops (a producer fused into its only consumer,
    reshapes propagated by expansion) except that a reshape is never folded
    into a linalg op with reduction loops: a matmul stays a matmul, which
    nn-tile-and-vectorize turns into register-tiled FMA kernels. An
    elementwise op of a tensor assembled from inserted parts (the halves of
    a convolution's GEMM result), or of an scf.forall's result assembled
    from its iterations' parts (a convolution going a few samples at a
    time), is applied to each part instead, where it fuses with the part's
    producer (bias and relu in one pass). Reductions over the same
    iteration space that read a common input and not each other's results
    (the two sums of a batchnorm's gradient) become one op with both
    results: one pass over the input.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect"];
}

def NNTileAndVectorizePass : Pass<"nn-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "tiles linalg ops for the CPU and turns the tiles into vector ops";
  let description = [{
    Input: linalg ops on statically shaped tensors (named matmuls, generics,
    reduce, fill, broadcast, ...). Output: scf.for loop nests on tensors whose
    bodies are vector ops on register-sized tiles.
    Matmul-family ops are tiled (m, n, k) by `matmul-tile-sizes` (default
    8x32x4: an 8x32 f32 accumulator is 16 AVX-512 registers; 4 k steps per
    iteration of the k loop run as fast as 16 and are a quarter of the code
    for LLVM to compile), vectorized,
    and turned into vector.contract (which nn-lower-vector-tiles lowers to
    outer products, i.e. one broadcast-FMA per row and k step, after
    bufferization). Columns kept whole that are not whole vectors (the 17
    left of a chunk of 49) are split into whole vectors and the rest.
    Large matmuls are cache-blocked (n by up to 128; k by up to 256 where k
    is over 512 and B's panel of k x 128 is over 512 KB or a register tile's
    rows of A over 32 KB: 8 rows of k floats, or k lines of a transposed A);
    a matmul accumulating into a constant fill with k not blocked starts
    each register tile from the constant in registers instead.
    Every other linalg op is generalized,
    its outer loops tiled by 1 and its innermost loop by a multiple of
    `vector-width`, then vectorized. A tile size is always a divisor of its
    loop's extent (or the whole extent), so no tile is partial; ops that
    cannot be vectorized stay as tiled linalg ops and become scalar loops.

    A sum over the innermost loop and other loops (a convolution's bias
    gradient: [n, c, h, w] -> [c]) is first split in two: sums per lane into
    a [c, h*w] partial (the reduced loops that run contiguously through
    every operand, here h and w, collapsed into one loop of lanes, which
    becomes parallel), then one reduction over the lanes into the result;
    vectors of rows are added instead of each row being reduced to a scalar
    and added to a serial chain. Only f32 results of the form `out + value`
    with at least 4 lanes and at least 4 other reduced iterations; the sums
    then run in another order (per lane, then across lanes).

    A transpose whose rows are not whole vectors but which moves a run of
    loops contiguous in every operand (NCHW -> NHWC of 28x28 images) has
    the run collapsed into one loop of whole vectors (784 = 49 x 16), so
    that it goes in vector-width square tiles. The windows of a pooling
    gradient ([N, C, OH, kh, OW, kw], written with kw and OW swapped in
    the loop order) are tiled with their whole short kw loop: the [kw, OW]
    tile's rows are interleaved by one vector.shuffle and written in the
    tensor's order, one contiguous run, instead of a strided write per kw.

    An elementwise generic whose results are only written into slots of
    the state arena (bufferization.materialize_in_destination: the
    optimizer updates) is first collapsed to one loop, and its writes go
    into the collapsed slots: the update of a 3x3 convolution's filters
    [F, C, 3, 3] then runs on whole vectors, not on rows of 3. Its
    destination is a tensor.empty of the collapsed shape, which
    empty-tensor elimination replaces with the slot (the update written in
    place, not copied there), where nothing reads the slot's old value after
    the update.

    C = A B^T becomes C = A (B^T) with B^T materialized, or, where B is
    larger than A and C together (a dense layer's weight against a batch),
    C^T = B (A^T) and C its transpose: the smaller operands are transposed.

    Sums over the innermost loop and the samples ([n, c, h, w] -> [c]:
    batchnorm's statistics, a bias gradient) go by lanes in blocks of
    vectors, sample-major: the samples in 8 chunks of partial sums of their
    own, each sample's [c, h, w] read as one stream.

    With `parallel-chunks` N > 1, an op with at least `parallel-min-work`
    iterations in its loop nest (an innermost loop shorter than a vector
    counting as one: each row costs a vector and a cache line) is first split into an `scf.forall` over
    chunks of one parallel loop: the first, outermost first (for a matmul
    whose right operand is the larger one, n before m, since every chunk
    reads all of the operand that is not split), that has a divisor in
    [N/2, 4N] (else the one with the largest divisor below N/2) whose chunk
    keeps the register tile of the whole loop (a matmul's columns that no
    register tile divides, 784 = 49 vectors: chunks of whole vectors with a
    tile, 7 of 112, not 16 of 49 with a column of one, where no other loop
    has as many chunks: 7 balance on no even number of threads); each chunk
    is then blocked, tiled and vectorized as above, into the same code as
    the whole op. Reduction
    loops are never split: chunks write disjoint parts of the result, so
    results do not depend on the number of threads. Ops already inside an
    `scf.forall` (fused attention's per-pair tiles) are not split again.
  }];
  let options = [
    ListOption<"matmulTileSizes", "matmul-tile-sizes", "int64_t",
               "tile sizes (m, n, k) of matmul-family ops (default 8,32,4)">,
    Option<"vectorWidth", "vector-width", "int64_t", "16",
           "f32 lanes of one hardware vector (16 for AVX-512)">,
    Option<"parallelChunks", "parallel-chunks", "int64_t", "0",
           "split big ops into about this many scf.forall chunks "
           "(0 or 1: no scf.forall)">,
    Option<"parallelMinWork", "parallel-min-work", "int64_t", "65536",
           "iterations of its loop nest an op needs to be split">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect",
    "::mlir::arith::ArithDialect", "::mlir::affine::AffineDialect"
  ];
}

def NNPlanBuffersPass : Pass<"nn-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "places every static temporary buffer in one workspace per function";
  let description = [{
    Input: bufferized functions whose temporary buffers are `memref.alloc`s
    of static shape in the entry block (after buffer hoisting), before
    deallocation is inserted. Output: each such allocation becomes a
    `memref.view` at a fixed offset of a private `memref.global`
    `<function>_workspace` (64-byte aligned, uninitialized), buffers whose
    lifetimes do not overlap sharing bytes; the function gets the attribute
    `nn.workspace_bytes`. Lifetimes span the entry-block ops that use a
    buffer or anything derived from it; buffers that are returned, have
    dynamic shapes or non-identity layouts stay allocations. A function using
    a workspace must not run twice at the same time.

    With `argument` (--target cuda, whose temporaries live in device memory)
    the workspace is instead a last argument `memref<Nxi8>` of every function
    that has temporaries, given by the caller (the runtime, from the
    `nn.workspace_bytes` attribute); then no function may call another that
    has one. What it cannot place is left to nn-gpu-device-allocations.
  }];
  let options = [
    Option<"argument", "argument", "bool", "false",
           "the workspace is the functions' last argument, not a global">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def NNOrderConstantsPass : Pass<"nn-order-constants", "::mlir::ModuleOp"> {
  let summary = "names and orders bufferization's constant globals by first use";
  let description = [{
    One-shot bufferization makes every tensor constant a private constant
    `memref.global` named `__constant_<type>` (further constants of one type
    `__constant_<type>_0`, `_1`, ...) as it bufferizes the functions, in an
    order that depends on the functions' addresses: two compiles of one
    program could give two constants of one type each other's name and
    place, and differ in bytes. This pass renames those globals by the order
    of their first `memref.get_global` in the module (the first of a type
    the bare name, then `_0`, `_1`, ...) and moves them, in that order, to
    the start of the module, so that a program's code depends only on its
    source. Run right after bufferization, when `memref.get_global` is their
    only reader. Unread ones are erased.
  }];
}

def NNUnshareEmptyTensorsPass : Pass<"nn-unshare-empty-tensors", "::mlir::func::FuncOp"> {
  let summary = "gives every use of a tensor.empty its own tensor.empty";
  let description = [{
    CSE merges equal tensor.empty ops, so one empty tensor ends up as the
    destination of several unrelated ops (the halves of a transposed GEMM
    result, the tiles of an im2col, a relu, a pooling gradient). Empty-tensor
    elimination then finds no insertion point that dominates all uses and
    keeps the tile in a temporary that bufferization copies into place, and
    the ops share one buffer whose in-place writes conflict. This pass
    gives each further use of a tensor.empty a clone placed right after it,
    so every destination is its own (empty-tensor elimination makes
    tiles write straight into their final place; nn-plan-buffers shares
    memory between buffers whose lifetimes do not overlap). One pair of
    uses stays together: an extract_slice of the tensor.empty and the
    insert_slice that writes the part computed in that slice back at the
    same place (the parts of a matmul split into whole register tiles and a
    remainder), so that the part is computed in place. Each
    tensor.empty gets a distinct `nn.empty_id` attribute, so that later
    CSE runs keep them apart.

    Also, where empty-tensor elimination does not look: a value computed
    into a tensor.empty (through destination-style ops and scf.forall shared
    outputs), collapse_shape'd and inserted into a larger tensor (a pooling
    gradient's windows view into the padded gradient) gets the expand_shape
    of the destination's slice instead of the tensor.empty, so that it is
    computed in place. And a concatenation built by insert_slices after its
    parts (an inception block's branches) has its tensor.empty and the
    parts inserted before a part moved before that part's computation, so
    that empty-tensor elimination, which needs the destination to dominate
    the part's tensor.empty, computes each part in its slice.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def NNVectorizeCopiesPass : Pass<"nn-vectorize-copies", "::mlir::func::FuncOp"> {
  let summary = "copies between memrefs as loops over rows of vector loads "
                "and stores";
  let description = [{
    Input: linalg.copy on memrefs (what bufferization leaves). Output: each
    copy between memrefs of static shapes and strides (the offsets may be
    dynamic) whose last dimension has stride 1 on both sides becomes an
    scf.for nest over its rows (one loop per outer dimension of more than one
    element; trailing dimensions contiguous on both sides are collapsed into
    the row first) whose body copies the row as vector.load/vector.store of
    256-byte chunks (a loop of them when there are several) and one vector
    of the rest. Other copies (a transposing one, dynamic shapes) are left
    to convert-linalg-to-loops.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

def NNHoistAccumulatorsPass
    : Pass<"nn-hoist-accumulators", "::mlir::func::FuncOp"> {
  let summary = "hoists register tiles' accumulators out of their loops";
  let description = [{
    Input: tiled and vectorized code on tensors. Output: MLIR's
    loop-invariant subset hoisting (hoistLoopInvariantSubsets, innermost
    loops first) applied to the loops (scf.for, scf.forall) that have an
    iter_arg which a vector.transfer_read or vector.transfer_write uses
    directly: a matmul's k loop, whose accumulator's read and write pair
    moves out of the loop. Other loops are not examined (the upstream pass
    examines them all, with ValueBoundsConstraintSet's questions about every
    pair of slices at loop-dependent offsets).
  }];
}

def NNApproximateMathPass : Pass<"nn-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "replaces transcendental math ops by polynomial approximations";
  let description = [{
    Input: scalar or vector math ops (exp, log, log1p, erf, tanh, powf,
    rsqrt, ...) on f32. Output: the same computation in arith ops and
    math.fma (MLIR's polynomial approximations, vectorizable and accurate to
    a few ulp), so that the generated code calls no libm function.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def NNLowerVectorTilesPass : Pass<"nn-lower-vector-tiles", "::mlir::func::FuncOp"> {
  let summary = "lowers the n-D vector ops of register tiles to broadcast + "
                "FMA and shuffles";
  let description = [{
    Input: the vector ops nn-tile-and-vectorize leaves in its tiles
    (vector.contract, vector.multi_reduction, vector.transpose, transfers
    with permutation maps, n-D shape_casts), on tensors or buffers. Output:
    contractions as outer products, each one broadcast + FMA per row and k
    step; inner reductions; transposes as 16x16 shuffles (or one 1-D
    shuffle, with the shape_casts around it done row by row); permuted
    transfers as minor-identity transfers plus transposes or broadcasts;
    a tile shape_cast from a 1-D vector (a pooling gradient's interleaved
    windows) written into rows that are one run of memory: one write of
    the 1-D vector into the memref with its last two dimensions collapsed.

    Why a pass of its own, run on the outlined kernels just before the
    vector-to-LLVM lowering: an 8x32x4 matmul tile is one vector.contract
    but 64 FMAs and their broadcasts once lowered. Lowering it late keeps
    every pass from tiling to kernel outlining (canonicalizations, empty
    tensor elimination, bufferization, buffer placement) on the short form,
    and runs the lowering once per distinct kernel.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def NNMergeKernelsPass : Pass<"nn-merge-kernels", "::mlir::ModuleOp"> {
  let summary = "makes kernels that differ only in constant offsets into "
                "their pointer arguments, or in sizes, one";
  let description = [{
    Input: the LLVM dialect as the CPU pipeline leaves it: private kernels
    `__nnc_kernel_<n>` called directly or from the tasks of parallel
    launchers (nn-outline-kernels, nn-generate-launchers). Output: each
    pointer argument of a kernel that only ever appears as
    `llvm.getelementptr %arg[c]` (one constant index, one element type) is
    the pointer at the smallest such c: every call passes `gep %p[min]` and
    the kernel uses `gep %arg[c - min]`. The constants at the top of each
    function are sorted (by op, value and type: the canonicalizer hoists
    them in the order it meets them). Then generated functions (`__nnc_`
    prefix, private or internal) that print the same, names aside, become
    one, and again for their callers until no two are equal (merged kernels
    make their tasks equal, and those their launchers). Functions referred
    to other than by calls or `llvm.mlir.addressof` are left alone; a
    kernel whose address is taken keeps its arguments. Last, kernels only
    ever called directly that are equal but for i64 constants used only by
    adds, subtracts, multiplies, compares, GEP indices and branches (loop
    bounds and strides; never divisors, shifts or vector lanes) become the
    first of them, with an i64 argument appended per distinct list of
    values at a use, which each call passes as constants.

    Why: the layers of a `repeat` are the same loop nests over other parts
    of the parameter and workspace arenas, and nn-outline-kernels shares a
    kernel only between nests whose views have equal static offsets (the
    offset is in the view's type). resnet_mini's three residual blocks left
    six copies of each convolution kernel; LLVM optimized and compiled each.
    Layers of other widths (the GPT's projections, resnet_mini's stages)
    have the same loop nests at other sizes: the GPT's program 124 -> 89
    kernels.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def NNContiguousStridedTransfersPass
    : Pass<"nn-contiguous-strided-transfers", "::mlir::func::FuncOp"> {
  let summary = "reads and writes strided rows as contiguous spans plus "
                "lane shuffles";
  let description = [{
    A 1-D vector read along a memref dimension of static stride 1 < s <= 8
    (the kernel-offset views of pooling windows: every second element of a
    row; larger strides, a transposing copy's, would span thousands of
    elements)
    would lower to one scalar load per lane. It becomes one contiguous read
    of the (n - 1) s + 1 elements the lanes span, through a stride-1 view of
    the same memory, and a vector.shuffle picking every s-th lane. A strided
    write becomes a read of the span, a shuffle merging the new lanes in and
    a contiguous write of the span (the elements between the lanes are
    written back unchanged; they belong to the same row, so no other loop
    iteration writes them concurrently). Only in-bounds transfers of memrefs
    with static shapes and strides (a chunk's dynamic offset is allowed)
    whose vector has a single non-unit dimension are rewritten; unit
    dimensions after it (a pooling gradient's window column, written along
    its row of windows) are folded into the span's index. A transfer of a
    tile of such rows (up to 64: a max pool fused into a channels-last
    transpose reads vector<1x16x1x14> at stride 2) first becomes one 1-D
    transfer per row. A span that is not whole vectors (27 elements) is read
    as whole vectors (32) under a constant mask and written back under it.
    A read along a larger stride, of a memref whose last dimension has
    stride 1, whose every user is a vector.shape_cast to a vector with only
    its last dimension non-unit (a transposing copy's: a [F, C, 3, 3]
    weight read along F as vector<64x1x1x1>), becomes one vector.gather at
    offsets 0, s, 2s, ... from the first lane's element, broadcast to each
    cast's type.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def NNFenceShufflesPass : Pass<"nn-fence-shuffles", "::mlir::func::FuncOp"> {
  let summary = "fences each stage of a shuffle network against LLVM's "
                "x86 shuffle combining";
  let description = [{
    Input: a kernel in the LLVM dialect (after convert-vector-to-llvm).
    Output: every `llvm.shufflevector` of two distinct values (neither
    poison, undef nor a constant) of a floating-point vector type into as
    many lanes, that takes an operand from another shufflevector or gives
    its result to one, has its uses replaced by
    `llvm.call_intrinsic "llvm.arithmetic.fence"` of its result. The fence
    is a no-op for values and compiles to no instruction; LLVM's x86
    instruction selection does not combine shuffles across it, so a
    transpose network (nn-lower-vector-tiles) is selected stage by stage
    instead of searched recursively for merges (two thirds of the
    instruction selection time of a kernel with 16 x 16 transposes, and
    more instructions than the stages as written).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def NNOutlineLayersPass : Pass<"nn-outline-layers", "::mlir::ModuleOp"> {
  let summary = "makes each layer a function over tensors, one per distinct layer";
  let description = [{
    Input: linalg on tensors, the training step inlined into the entry
    points (after nn-fuse-elementwise, before tiling). Output: in each
    function of at least `min-ops` top-level operations, every run of
    consecutive tensor operations with one location (MLIRGen gives each
    layer, and the autodiff and optimizer each gradient and parameter
    update, a location of its own: `loc("dense_3"(...))`) that holds a
    linalg op or another op with a region becomes a call of a private
    function `__nnc_layer_<n>` taking the tensors and scalars the run uses
    (constants and empty tensors are cloned into it) and returning those
    used after it. Runs that are identical (same ops, attributes and types)
    call one function, as the layers of a `repeat` do.

    Ops on memrefs (the entry points' views of their arguments, stores of
    their results) and ops with side effects stay in the caller and end a
    run; so does a tensor view (reshape, slice, cast) whose result is used
    after its run, since one-shot bufferization cannot return a view of a
    function's argument: the run is split around it.

    Why: everything after this pass (tiling, vectorization, bufferization,
    LLVM lowering, LLVM's code generation) then runs on each distinct layer
    once, so compile time grows with the distinct layers plus a call per
    run, not with the whole step: `repeat 1000 { dense(1) }` compiles a
    handful of layer functions. Smaller models are left as they are (the
    threshold): with layer functions, the MLP's and SPEC 2.3's CNN's
    kernels took 2-5% more time (perf samples, interleaved runs; the
    parameters are then views at a dynamic offset of the arena), while
    resnet_mini trained at the same speed and the GPT 2-4% faster. nnc
    makes the decision once per program (the training step's size in the
    nn dialect, 256 ops: resnet_mini has 423, the GPT 495, SPEC 2.3's CNN
    159)
    and then outlines every function (`min-ops=0`), evaluation, prediction
    and the inference library included, so that they share the layer
    functions too: resnet_mini compiles in 3.7 s instead of 4.9, the GPT
    in 2.4 s instead of 3.6.
  }];
  let options = [
    Option<"minOps", "min-ops", "int64_t", "2000",
           "outline only in functions of at least this many top-level "
           "operations (0: always)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def NNOutlineKernelsPass : Pass<"nn-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "moves every top-level loop nest into a function of its own, "
                "one function per distinct loop nest";
  let description = [{
    Input: bufferized functions (memrefs, scf loops, vector ops), as left by
    buffer deallocation. Output: each loop nest (`scf.for`) at the top level
    of a function body becomes a call of a private `no_inline` function that
    takes the values the nest uses as arguments (constants are cloned into
    it). Structurally identical nests (same ops, attributes and types, as
    the repeated blocks of a model produce) share one function.

    Why: the training step is one function made of hundreds of loop nests.
    LLVM's loop passes (IndVarSimplify, LoopRotate, unrolling, ...) cost
    time that grows with the size of the function they run in, so one huge
    function compiles in time quadratic in the model's size; small functions
    compile in linear time, each at most once, and MLIR's function passes
    run on them in parallel. The calls cost nothing measurable next to the
    loop nests.

    Parallel loops (`scf.forall`, one-dimensional, constant bounds, no
    results: as nn-tile-and-vectorize made them and bufferization left them,
    anywhere in a function) are outlined first: the body becomes a kernel
    `(i: index, captured...)` computing the induction variable as
    `lb + i * step`, deduplicated like the nests, and the loop a call of a
    launcher declaration `__nnc_parallel_<n>(captured...)` with attributes
    `nn.parallel_body` (the kernel) and `nn.parallel_chunks` (the trip
    count), which nn-generate-launchers defines in the LLVM dialect; with
    `serial`, an scf.for over the chunks calling the kernel instead. Loop
    nests around a parallel loop then only call its launcher. Allocations
    inside a parallel body (stack or heap) stay in the kernel, i.e. per
    chunk and thread: the buffer passes before this one never hoist them
    out of an scf.forall, and nn-plan-buffers only plans entry-block ones.

    What stays in a function after that (calls, loops with results, the
    straight-line code of small fully unrolled ops) still grows with the
    model. A function of more than `segment-ops` operations (nested ones
    included) is then split: its allocations and views (memref results,
    operands that are arguments, constants or other such ops) move to its
    start and stay there, and the rest becomes a sequence of calls of
    private `no_inline` functions `__nnc_segment_<n>` of about
    `segment-ops` operations each, which take the values they use and
    return the (non-memref) values later segments use. MLIR's SCF lowering
    (each loop splits its block, moving everything after it) and LLVM cost
    time quadratic in the size of one function; segments bound it.
    Functions that define a memref value other than such allocations and
    views are not split.
  }];
  let options = [
    Option<"segmentOps", "segment-ops", "int64_t", "4096",
           "split functions of more than this many operations into "
           "segments of about this size (0: never)">,
    Option<"serial", "serial", "bool", "false",
           "parallel loops become serial loops calling their kernel (code "
           "that does not call the runtime's nnrt_parallel_for)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def NNGenerateLaunchersPass : Pass<"nn-generate-launchers", "::mlir::ModuleOp"> {
  let summary = "defines the launchers of parallel loops over the runtime's nnrt_parallel_for";
  let description = [{
    Input: the LLVM dialect, with launcher declarations made by
    nn-outline-kernels (`llvm.func @__nnc_parallel_<n>(args...)` with
    attributes `nn.parallel_body = @kernel`, `nn.parallel_chunks = N`), the
    kernel taking `(i64 chunk, args...)`. Output: each launcher defined
    (internal linkage): it stores its arguments into a stack struct and
    calls `nnrt_parallel_for(N, @<launcher>_task, &struct)`; the trampoline
    `<launcher>_task(ptr ctx, i64 i)` loads the arguments back and calls
    the kernel for chunk i. `nnrt_parallel_for` (runtime/Parallel.h) is
    declared when used; nnrt provides it on oneTBB.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def NNGPUGemmPass : Pass<"nn-gpu-gemm", "::mlir::func::FuncOp"> {
  let summary = "f32 contractions on buffers as tiled tensor-core kernels";
  let description = [{
    Every f32 linalg contraction on memrefs with static shapes, one m, one n
    and one k dimension (matmul, matmul_transpose_a/b, batch_matmul, generic
    contractions with permuted operands; any batch dimensions) becomes a
    `gpu.launch`: a block per 64 x 64 tile of C (and per batch index), 4 warps
    of 32 x 32 each; per step of 16 along k the block copies its A and B
    tiles into workgroup (shared) memory (zeros past the edges, rows padded
    against bank conflicts), and each warp accumulates 2 x 4
    `nvgpu.mma.sync` m16n8k4 tf32 tiles in registers; the epilogue adds them
    to C. Other ops are left alone (nn-gpu-map-loops maps them).
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
    "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"
  ];
}

def NNGPUStageArgumentsPass : Pass<"nn-gpu-stage-arguments", "::mlir::ModuleOp"> {
  let summary = "entry points copy their buffers to the device and back";
  let description = [{
    --target cuda, on bufferized entry points (public functions with a
    body): every argument buffer of static shape gets a device copy (a
    `memref.alloc`, which nn-plan-buffers{argument} places in the device
    workspace) used in its place: the entry copies the caller's (host)
    buffer in at its start unless the function only writes it, and back
    before returning if the function writes it, through the runtime's
    `nnrt_cuda_to_device(dst, src, bytes)` and `nnrt_cuda_to_host(dst, src,
    bytes)` on the buffers' addresses. The entry points keep their C ABI.
  }];
  let dependentDialects = [
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def NNGPUWorkspaceWrappersPass : Pass<"nn-gpu-workspace-wrappers", "::mlir::ModuleOp"> {
  let summary = "entry points take their device workspace from the runtime";
  let description = [{
    After nn-plan-buffers{argument}: every public function F whose last
    argument is its workspace (`nn.workspace_bytes` = N) is renamed F_cuda
    (private) and a new F with F's original arguments calls it with the
    runtime's device workspace of at least N bytes (`nnrt_cuda_workspace`,
    one allocation the size of the largest asked for).
  }];
  let dependentDialects = [
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def NNGPUDeviceAllocationsPass : Pass<"nn-gpu-device-allocations", "::mlir::ModuleOp"> {
  let summary = "the buffers nn-plan-buffers could not place, from the runtime";
  let description = [{
    --target cuda, after nn-plan-buffers{argument} and the deallocation
    pipeline: every remaining `memref.alloc` of static shape and identity
    layout outside kernels (a buffer a loop makes at every iteration: a
    recurrent layer's states) becomes device memory from the runtime
    (`nnrt_cuda_alloc(bytes)`, viewed with its type) and every
    `memref.dealloc` outside kernels `nnrt_cuda_free(address)`. Error: an
    allocation of dynamic shape or with a layout.
  }];
  let dependentDialects = [
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def NNGPUMergeKernelModulesPass : Pass<"nn-gpu-merge-kernel-modules", "::mlir::ModuleOp"> {
  let summary = "puts the outlined kernels into a few gpu.modules";
  let description = [{
    After gpu-kernel-outlining (one gpu.module per kernel, every kernel
    named after its function): every kernel moves into one gpu.module
    `nnc_kernels`, renamed after the module it came from, and every
    gpu.launch_func follows. The PTX is then one image: serialized by one
    LLVM module instead of hundreds (compile time) and loaded by the
    driver once. With parts=N > 1, N modules `nnc_kernels_0`.. instead,
    balanced by their operations, which nn-gpu-module-to-binary serializes
    in parallel (a fixed N, so that the output does not depend on the
    compiling machine).
  }];
  let options = [
    Option<"parts", "parts", "unsigned", /*default=*/"1",
           "the number of gpu.modules">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def NNGPUModuleToBinaryPass : Pass<"nn-gpu-module-to-binary", "::mlir::ModuleOp"> {
  let summary = "serializes the gpu.modules to PTX in parallel";
  let description = [{
    gpu-module-to-binary with compilation target "isa", but the modules'
    serializations (LLVM's NVPTX backend, each in an LLVMContext of its
    own) run on the context's threads; the gpu.binary ops are then made in
    order.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def NNGPUHostToDevicePass : Pass<"nn-gpu-host-to-device", "::mlir::func::FuncOp"> {
  let summary = "moves the host's accesses to buffers into kernels of one thread";
  let description = [{
    After convert-parallel-loops-to-gpu: every run of consecutive host ops
    that read or write buffers (or compute from values read so) becomes a
    `gpu.launch` of one block of one thread. A scalar computed in such a
    kernel and used in another kernel is stored into a new `memref<T>` at
    the end of the first and loaded at the start of each user. Host
    control flow containing launches or calls stays on the host and its
    blocks are processed the same way. Errors: a device-computed value used
    by the host or yielded by host control flow, or not a scalar.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def NNGPUKernelBufferBasesPass
    : Pass<"nn-gpu-kernel-buffer-bases", "::mlir::func::FuncOp"> {
  let summary = "passes views with run-time offsets to kernels as base and offset";
  let description = [{
    Kernels take buffers as bare pointers, which carry no offset or strides.
    Every buffer a `gpu.launch` uses from above whose offset or strides are
    dynamic is split before the launch (`memref.extract_strided_metadata`:
    its base buffer, offset and strides) and rebuilt at the start of the
    launch's body (`memref.reinterpret_cast`), so that the outlined kernel
    takes a static base buffer and index scalars. A constant global used
    in a launch (host memory) is read through the launch's own
    `memref.get_global`, which outlining copies into the kernel's module.
    Run right before gpu-kernel-outlining. Errors: a buffer of dynamic
    shape, a mutable global.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def NNGPUMapLoopsPass : Pass<"nn-gpu-map-loops", "::mlir::func::FuncOp"> {
  let summary = "maps parallel loops onto blocks and threads";
  let description = [{
    Every outermost `scf.parallel` outside a `gpu.launch` is collapsed to one
    dimension, tiled by `threads` (the tile's last block guarded by an
    `scf.if`) and mapped: tiles onto blocks (x), iterations onto threads (x),
    for convert-parallel-loops-to-gpu. Reductions inside stay sequential per
    thread.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", "256", "threads per block">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect"
  ];
}

#endif // NNC_PASSES
