"""Data-parallel training under Open MPI (`mpirun -np N ./model train`;
issue 16).

usage: mpi_check.py WORKDIR EXAMPLES [CASE ...]

Programs built with `nnc --distributed`, run by `mpirun --oversubscribe` on
this machine, against one process with the global batch:
- mlp: the breast-cancer MLP (455 training rows, shuffled, Adam, a
  validation split, accuracy and f1): 2 ranks x 30 and 3 ranks x 20 rows
  train as one process with batches of 60, to float32 tolerance after two
  epochs: parameters, optimizer state, and the logged train loss,
  validation loss and metrics (validation sharded, scores summed). The
  last global batch (35 rows) leaves rank 1 of 2 five rows and rank 2 of 3
  none.
- accumulate: 2 ranks x 15 rows with --accumulate 2 equal batches of 60.
- resume: 1 epoch on 2 ranks, resumed on 3 ranks for the second, equals
  the one-process run.
- cnn_bn: a CNN with batchnorm on tiny random images: each rank keeps its
  own batch statistics (no sync_batchnorm), so 2 ranks x 16 rows train as
  one process with batches of 16 accumulated 2 at a time: the parameters
  and optimizer state equal, the running statistics being rank 0's.
- cnn_sync: the same CNN with sync_batchnorm = true: 2 ranks x 24 and 3
  x 16 rows train as one process with batches of 48, to float32
  tolerance, running statistics included (the last global batch of 22
  rows leaves the last rank none: it still takes part in the sums).
- kill: rank 1 killed (SIGKILL) mid-run: mpirun ends the other rank within
  seconds, exits non-zero, and last.safetensors evaluates.
- usage: a program built without --distributed under mpirun, and a command
  other than train under mpirun, are usage errors naming the fix.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_util import expect_error, read_safetensors, run, run_cases, write_idx  # noqa: E402

NNC = shutil.which("nnc") or "nnc"
EXAMPLES = sys.argv.pop(2) if len(sys.argv) > 2 else "examples"
# Open MPI refuses to start as root without these (CI runs as root).
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")


def mpirun(ranks, args, **kw):
    return ["mpirun", "--oversubscribe", "--bind-to", "none", "-np", str(ranks)] + args


def run_mpi(ranks, args, cwd):
    r = subprocess.run(mpirun(ranks, args), cwd=cwd, env=ENV,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit(f"FAIL: mpirun -np {ranks} {' '.join(args)} exited "
                 f"{r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def mlp_program(d, distributed=True):
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(EXAMPLES, "data", "breast_cancer.csv"), d)
    with open(os.path.join(d, "mlp.nn"), "w") as f:
        f.write("""
dataset patients {
  train = csv("breast_cancer.csv", target = "label", header = true)
  validation = split(train, 0.2, seed = 1)
  preprocess { standardize }
  batch = 60
  shuffle = true
}
model tabular(features: f32[30]) -> f32[1] {
  dense(32)
  relu
  dense(16)
  relu
  dense(1)
}
train {
  model = tabular
  data = patients
  loss = binary_cross_entropy
  optimizer = adam(lr = 0.01)
  epochs = 2
  metrics = [accuracy, f1]
}
""")
    exe = os.path.join(d, "mlp")
    run([NNC, exe + ".nn", "-o", exe] + (["--distributed"] if distributed else []))
    return exe


def compare(case, d, want_dir, got_dir, skip=()):
    want = read_safetensors(os.path.join(d, want_dir, "last.safetensors"))
    got = read_safetensors(os.path.join(d, got_dir, "last.safetensors"))
    if sorted(got) != sorted(want):
        sys.exit(f"FAIL {case}: {got_dir} holds {sorted(got)}, {want_dir} {sorted(want)}")
    compared = 0
    for name, w in want.items():
        if any(s in name for s in skip):
            continue
        compared += 1
        if not np.allclose(got[name], w, rtol=1e-5, atol=1e-6):
            sys.exit(f"FAIL {case}: {name} of {got_dir} differs from {want_dir} "
                     f"(max abs diff {np.max(np.abs(got[name] - w)):.3g})")
    return compared


def epochs_of(path):
    return [json.loads(line) for line in open(path) if '"epoch"' in line]


def compare_logs(case, want_path, got_path):
    want, got = epochs_of(want_path), epochs_of(got_path)
    if len(got) != len(want):
        sys.exit(f"FAIL {case}: {len(got)} epoch lines in {got_path}, want {len(want)}")
    for w, g in zip(want, got):
        for key in ("step", "train_loss", "val_loss", "accuracy", "f1"):
            if not np.isclose(g[key], w[key], rtol=1e-4, atol=1e-6):
                sys.exit(f"FAIL {case}: epoch {w['epoch']} {key} {g[key]} != {w[key]}")


def check_mlp(root):
    d = os.path.join(root, "mlp")
    exe = mlp_program(d)
    run([exe, "train", "--quiet", "--log", "one.jsonl", "--checkpoint-dir", "ck-one"], cwd=d)
    for ranks, batch in ((2, 30), (3, 20)):
        r = run_mpi(ranks, [exe, "train", "--batch", str(batch), "--log",
                            f"r{ranks}.jsonl", "--checkpoint-dir", f"ck-r{ranks}"], d)
        head = f"data-parallel: {ranks} ranks x batch {batch} = global batch 60"
        if r.stdout.count(head) != 1 or r.stdout.count("epoch 2/2: train_loss") != 1:
            sys.exit(f"FAIL mlp: rank 0 alone reports; stdout:\n{r.stdout}")
        n = compare("mlp", d, "ck-one", f"ck-r{ranks}")
        compare_logs("mlp", os.path.join(d, "one.jsonl"), os.path.join(d, f"r{ranks}.jsonl"))
        done = json.loads(open(os.path.join(d, f"r{ranks}.jsonl")).read().splitlines()[-1])
        if done["settings"].get("ranks") != ranks:
            sys.exit(f"FAIL mlp: the done event's settings {done['settings']}")
    print(f"ok mlp: 2 x 30 and 3 x 20 rows train as batch 60 ({n} tensors, "
          f"logged losses and metrics)")


def built_mlp(root):
    """The mlp case's folder and program (from check_mlp, run if needed)."""
    d = os.path.join(root, "mlp")
    exe = os.path.join(d, "mlp")
    if not os.path.exists(exe):
        check_mlp(root)
    return d, exe


def check_accumulate(root):
    d, exe = built_mlp(root)
    run_mpi(2, [exe, "train", "--quiet", "--batch", "15", "--accumulate", "2",
                "--checkpoint-dir", "ck-acc"], d)
    n = compare("accumulate", d, "ck-one", "ck-acc")
    print(f"ok accumulate: 2 ranks x 15 rows x accumulate 2 train as batch 60 ({n} tensors)")


def check_resume(root):
    d, exe = built_mlp(root)
    run_mpi(2, [exe, "train", "--quiet", "--batch", "30", "--epochs", "1",
                "--checkpoint-dir", "ck-resume"], d)
    # The checkpoint's run length is 1 epoch now: --epochs 2 sets it again.
    run_mpi(3, [exe, "train", "--quiet", "--batch", "20", "--epochs", "2",
                "--resume", "--checkpoint-dir", "ck-resume"], d)
    n = compare("resume", d, "ck-one", "ck-resume")
    print(f"ok resume: epoch 1 on 2 ranks, epoch 2 on 3, as one process ({n} tensors)")


def cnn_program(d, batch, settings):
    """A CNN with batchnorm on 70 random 1x12x12 images of 3 classes,
    compiled with --distributed; `settings`: more lines of its train. (The
    convolution has no bias: before batchnorm its gradient is zero up to
    rounding, which Adam would turn into steps of either sign.)"""
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(16)
    write_idx(os.path.join(d, "images.idx.gz"), 0x803,
              rng.integers(0, 256, size=(70, 12, 12), dtype=np.uint8), True)
    write_idx(os.path.join(d, "labels.idx"), 0x801,
              rng.integers(0, 3, size=70, dtype=np.uint8), False)
    with open(os.path.join(d, "cnn.nn"), "w") as f:
        f.write(f"""
dataset data {{
  train = idx("images.idx.gz", "labels.idx")
  preprocess {{ scale(1 / 255) }}
  batch = {batch}
  shuffle = true
}}
model net(image: f32[1, 12, 12]) -> f32[3] {{
  c1: conv2d(4, 3, padding = same, bias = false)
  bn: batchnorm
  relu
  maxpool(2)
  flatten
  head: dense(3)
}}
train {{
  model = net
  data = data
  loss = cross_entropy
  optimizer = adam(lr = 0.01)
  epochs = 2
{"".join("  " + line + chr(10) for line in settings)}}}
""")
    exe = os.path.join(d, "cnn")
    run([NNC, exe + ".nn", "-o", exe, "--distributed"])
    return exe


def check_cnn_bn(root):
    d = os.path.join(root, "cnn_bn")
    exe = cnn_program(d, 16, ["accumulate = 2"])
    run([exe, "train", "--quiet", "--checkpoint-dir", "ck-one"], cwd=d)
    run_mpi(2, [exe, "train", "--quiet", "--accumulate", "1", "--checkpoint-dir",
                "ck-r2"], d)
    n = compare("cnn_bn", d, "ck-one", "ck-r2",
                skip=("running_mean", "running_var", "num_batches_tracked"))
    print(f"ok cnn_bn: 2 ranks x 16 rows with batchnorm train as 16 x accumulate 2 "
          f"({n} tensors)")


def check_cnn_sync(root):
    d = os.path.join(root, "cnn_sync")
    exe = cnn_program(d, 48, ["sync_batchnorm = true"])
    run([exe, "train", "--quiet", "--checkpoint-dir", "ck-one"], cwd=d)
    for ranks in (2, 3):
        run_mpi(ranks, [exe, "train", "--quiet", "--batch", str(48 // ranks),
                        "--checkpoint-dir", f"ck-r{ranks}"], d)
        n = compare("cnn_sync", d, "ck-one", f"ck-r{ranks}")
    print(f"ok cnn_sync: with sync_batchnorm 2 x 24 and 3 x 16 rows train as batch 48, "
          f"running statistics included ({n} tensors)")


def rank_pid(exe, rank):
    """The pid of `exe`'s process of MPI rank `rank`, or None."""
    for environ in glob.glob("/proc/[0-9]*/environ"):
        pid = int(environ.split("/")[2])
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().split(b"\0")[0].decode() != exe:
                    continue
            with open(environ, "rb") as f:
                if f"OMPI_COMM_WORLD_RANK={rank}".encode() in f.read().split(b"\0"):
                    return pid
        except OSError:
            continue
    return None


def check_kill(root):
    d, exe = built_mlp(root)
    ck = os.path.join(d, "ck-kill", "last.safetensors")
    p = subprocess.Popen(mpirun(2, [exe, "train", "--quiet", "--epochs", "100000",
                                    "--batch", "30", "--checkpoint-dir", "ck-kill"]),
                         cwd=d, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    deadline = time.time() + 60
    while not os.path.exists(ck) and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    pid = rank_pid(exe, 1)
    if not os.path.exists(ck) or pid is None:
        p.kill()
        sys.exit(f"FAIL kill: no checkpoint or rank 1 (pid {pid})\n{p.communicate()}")
    os.kill(pid, signal.SIGKILL)
    killed = time.time()
    try:
        out, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("FAIL kill: rank 0 still runs 30 s after rank 1 died")
    seconds = time.time() - killed
    if p.returncode == 0 or seconds > 10:
        sys.exit(f"FAIL kill: mpirun exited {p.returncode} after {seconds:.1f} s\n{err}")
    r = run([exe, "eval", "--weights", ck, "--split", "validation", "--json"], cwd=d)
    if "accuracy" not in json.loads(r.stdout):
        sys.exit(f"FAIL kill: eval of last.safetensors printed {r.stdout}")
    print(f"ok kill: rank 1 killed, mpirun exited {p.returncode} within 10 s, "
          f"last.safetensors evaluates")


def check_usage(root):
    d = os.path.join(root, "usage")
    exe = mlp_program(d, distributed=False)
    expect_error("usage", mpirun(2, [exe, "train", "--quiet"]),
                 "error: mpirun -np 2: this program was compiled without data-parallel "
                 "training; recompile it with 'nnc FILE.nn -o PROGRAM --distributed'",
                 cwd=d, env=ENV, timeout=120)
    expect_error("usage", mpirun(2, [exe, "info"]),
                 "error: mpirun -np 2: only 'train' runs on several ranks; run this "
                 "command without mpirun", cwd=d, env=ENV, timeout=120)
    print("ok usage: mpirun needs --distributed, and only train runs on ranks")


CASES = {
    "mlp": check_mlp,
    "accumulate": check_accumulate,
    "resume": check_resume,
    "cnn_bn": check_cnn_bn,
    "cnn_sync": check_cnn_sync,
    "kill": check_kill,
    "usage": check_usage,
}
run_cases(CASES, lambda root, case: CASES[case](root))
