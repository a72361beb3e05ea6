"""--target cuda programs on a machine without a GPU (issue 15): what can be
checked here. The program builds (PTX for sm_90 or sm_80, tensor-core GEMMs
in it); `info` names the target and says there is no device; `train`
without a driver stops at once with one line; with a stand-in driver whose
device memory is host memory and whose kernels do nothing, steps copy the
state to the device and back unchanged (a run resumed from a CPU build's
checkpoint writes the same state, bit for bit), the state is copied in once
and out once however many steps run, the log shows device memory, and the
CPU build evaluates the cuda program's checkpoint.

usage: cuda_program_check.py WORKDIR EXAMPLES FAKE_LIBCUDA"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from e2e_util import read_safetensors, run  # noqa: E402


def launch_arity(ll):
    """Every kernel launch in a program's LLVM IR (`nnc --emit llvm`) checked
    against its kernel's PTX: the launch passes as many arguments as the
    .entry declares parameters (the driver reads that many pointers from the
    launch's argument array, whatever the caller stored). Returns the number
    of launches."""
    params = {}  # (module, kernel) -> the .entry's parameter count
    for m in re.finditer(r'^@(\w+)_bin_cst = internal constant \[\d+ x i8\] '
                         r'c"(.*)"(?:, align \d+)?$', ll, re.M):
        ptx = re.sub(r"\\([0-9A-F]{2})",
                     lambda h: chr(int(h.group(1), 16)), m.group(2))
        for e in re.finditer(r"\.entry (\w+)\(([^)]*)\)", ptx):
            params[(m.group(1), e.group(1))] = e.group(2).count(".param")
    names = dict(re.findall(r'^@(\w+_kernel_name) = .*c"(\w+)\\00"', ll, re.M))
    launches = 0
    functions = {}
    for line in ll.splitlines():
        if line.startswith("define "):
            functions = {}
        got = re.search(r"(%\w+) = call ptr @mgpuModuleGetFunction\(ptr %\w+, "
                        r"ptr nonnull @(\w+_kernel_name)\)", line)
        if got:
            kernel = names[got.group(2)]
            module = got.group(2)[:-len(f"_{kernel}_kernel_name")]
            functions[got.group(1)] = (module, kernel)
            continue
        call = re.search(r"call void @mgpuLaunchKernel\(ptr (%\w+), .*, "
                         r"i64 (\d+)\)$", line)
        if call:
            kernel = functions[call.group(1)]
            assert params[kernel] == int(call.group(2)), (
                kernel, params[kernel], call.group(2))
            launches += 1
    return launches


def main():
    work, examples, fake = sys.argv[1:4]
    mlp = os.path.join(examples, "fashion_mlp.nn")
    gpu, cpu = os.path.join(work, "mlp_cuda"), os.path.join(work, "mlp_cpu")
    run(["nnc", mlp, "--target", "cuda", "-o", gpu])
    run(["nnc", mlp, "-o", cpu])

    for arch in ["sm_90", "sm_80"]:
        ir = run(["nnc", mlp, "--target", "cuda", "--cuda-arch", arch,
                  "--emit", "llvm-mlir"]).stdout
        assert f".target {arch}" in ir, arch
        assert "mma.sync.aligned.m16n8k4.row.col.f32.tf32.tf32.f32" in ir
        assert "llvm.func @nnc_train(" in ir and "nnrt_cuda_workspace" in ir
        assert "@malloc" not in ir, "host allocations in a cuda program"
    print("ok build: PTX for sm_90 and sm_80 with mma.sync; C entry points")

    # Launches and kernels agree on the arguments (bare pointers for
    # buffers on both sides), for a dense, a convolutional and a recurrent
    # model.
    counts = []
    for name in ["fashion_mlp", "fashion_cnn", "word_language"]:
        ll = run(["nnc", os.path.join(examples, name + ".nn"), "-I", examples,
                  "--target", "cuda", "--emit", "llvm"]).stdout
        counts.append(launch_arity(ll))
        assert counts[-1] > 0, name
    print(f"ok launches: {sum(counts)} launches pass their kernels' parameters")

    # precision = bf16: every GEMM of the step (forward and gradients) on
    # bf16 tensor-core instructions, none left on tf32.
    src = open(mlp).read()
    bf16 = os.path.join(work, "mlp_bf16.nn")
    with open(bf16, "w") as f:
        f.write(src.replace("  epochs = ", "  precision = bf16\n  epochs = "))
    ir = run(["nnc", bf16, "--target", "cuda", "--emit", "llvm-mlir"]).stdout
    f32_ir = run(["nnc", mlp, "--target", "cuda", "--emit", "llvm-mlir"]).stdout
    want = "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"
    tf32 = "mma.sync.aligned.m16n8k4.row.col.f32.tf32.tf32.f32"
    assert ir.count(want) > 0 and tf32 not in ir, (ir.count(want), ir.count(tf32))
    # Per warp and step of 16 along k: 8 bf16 mmas where f32 has 32.
    assert ir.count(want) * 4 == f32_ir.count(tf32), (ir.count(want), f32_ir.count(tf32))
    print(f"ok bf16: {ir.count(want)} bf16 mma.sync for {f32_ir.count(tf32)} tf32 ones in f32")

    # A recurrent model: its time loop launches kernels from the host and
    # makes new state buffers at every step (device allocations).
    wl = os.path.join(work, "wl_cuda")
    run(["nnc", os.path.join(examples, "word_language.nn"), "--target", "cuda",
         "-o", wl])
    ir = run(["nnc", os.path.join(examples, "word_language.nn"), "--target",
              "cuda", "--emit", "llvm-mlir"]).stdout
    assert "llvm.call @nnrt_cuda_alloc" in ir and "llvm.call @nnrt_cuda_free" in ir
    assert "target: cuda" in run([wl, "info"]).stdout
    print("ok recurrent: word_language builds, its loop's buffers from the device allocator")

    no_driver = dict(os.environ, NNRT_LIBCUDA="/nonexistent/libcuda.so.1")
    info = run([gpu, "info"], env=no_driver).stdout
    want = ("target: cuda, kernels in PTX for sm_90; device: none (no CUDA "
            "device: cannot load the driver /nonexistent/libcuda.so.1")
    assert want in info, info
    assert "target: cuda" not in run([cpu, "info"]).stdout
    print("ok info: the target, and no device")

    r = subprocess.run([gpu, "train", "--quiet", "--steps", "1",
                        "--checkpoint-dir", os.path.join(work, "none")],
                       capture_output=True, text=True, env=no_driver)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: no CUDA device: cannot load the driver"), r.stderr
    assert not os.path.exists(os.path.join(work, "none", "last.safetensors"))
    print("ok no device: train exits 1 with one line")

    fake_env = dict(os.environ, NNRT_LIBCUDA=fake)
    fake_info = run([gpu, "info"], env=fake_env).stdout
    assert "device: Fake GPU (1 GiB, compute capability 9.0)" in fake_info
    # A CPU step makes a state of parameters and Adam moments; the cuda
    # program resumes from it and runs one more step whose kernels do
    # nothing: the whole state comes back bit for bit.
    ck_gpu, ck_cpu = os.path.join(work, "ck_gpu"), os.path.join(work, "ck_cpu")
    cpu_log = os.path.join(work, "cpu.jsonl")
    run([cpu, "train", "--quiet", "--steps", "1", "--seed", "7",
         "--checkpoint-dir", ck_cpu, "--log", cpu_log])
    trace = os.path.join(work, "copies.txt")
    log = os.path.join(work, "cuda.jsonl")
    run([gpu, "train", "--quiet", "--steps", "5", "--resume",
         os.path.join(ck_cpu, "last.safetensors"), "--checkpoint-dir", ck_gpu,
         "--log", log], env=dict(fake_env, FAKE_CUDA_TRACE=trace))
    a = read_safetensors(os.path.join(ck_gpu, "last.safetensors"))
    b = read_safetensors(os.path.join(ck_cpu, "last.safetensors"))
    assert sorted(a) == sorted(b), (sorted(a), sorted(b))
    moments = [n for n in b if n.startswith("optimizer.")]
    assert moments and any((b[n] != 0).any() for n in moments)
    for n in b:
        assert a[n].shape == b[n].shape and (a[n] == b[n]).all(), n
    print(f"ok round trip: {len(b)} state tensors ({len(moments)} of the "
          "optimizer) back unchanged")
    # The state (the largest buffer) stays on the device between steps: in
    # once; the validation's entry point copies it from the training's
    # device copy; out once (for the checkpoint), however many steps ran.
    events = [(k, int(n)) for k, n in
              (line.split() for line in open(trace).read().splitlines())]
    copies = [e for e in events if e[0] in ("htod", "dtoh", "dtod")]
    state_bytes = max(n for _, n in copies)
    assert copies.count(("htod", state_bytes)) == 1, copies
    assert copies.count(("dtod", state_bytes)) == 1, copies
    assert copies.count(("dtoh", state_bytes)) == 1, copies
    assert copies[-1] == ("dtoh", state_bytes), copies
    train_out = copies[copies.index(("htod", state_bytes)) + 1]
    assert train_out[0] == "dtoh" and copies.count(train_out) == 4, copies
    print(f"ok resident: the state ({state_bytes} bytes) copied in once and "
          "out once over 4 steps and an evaluation")
    # The driver compiles each of the program's PTX images once, however
    # many launches ran (the host code asks for the module at every one).
    loads = events.count(("load", 0))
    ptx = run(["nnc", mlp, "--target", "cuda", "--emit", "llvm"]).stdout
    images = len(re.findall(r"^@\w+_bin_cst = ", ptx, re.M))
    assert 0 < loads <= images, (loads, images)
    print(f"ok modules: {loads} PTX image loads for {images} images")
    epoch = [json.loads(line) for line in open(log)][0]
    assert epoch["event"] == "epoch" and epoch["device_memory_mib"] > 0, epoch
    assert "device_memory_mib" not in open(cpu_log).readline()
    print(f"ok log: device memory {epoch['device_memory_mib']:.1f} MiB")
    ev = run([cpu, "eval", "--weights",
              os.path.join(ck_gpu, "last.safetensors")]).stdout
    assert "accuracy" in ev, ev
    print("ok checkpoint: the CPU build evaluates the cuda program's")


if __name__ == "__main__":
    main()
