#!/usr/bin/env python3
"""SIGKILL a training run after its first checkpoint, check the checkpoint is
intact, resume it, and compare with an uninterrupted run.

  resume.py PROGRAM WORKDIR [TRAIN ARGS...]

Both runs use --threads 1; the resumed run must end with bit-identical
checkpoints (parameters, optimizer state, progress, RNG) and log the same
epochs from the resume point on (timings aside).
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import train_checks as tc  # noqa: E402


def main():
    prog, work, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    base = [prog, "train", "--quiet", "--threads", "1"] + extra

    def run(name, more=()):
        return [*base, "--log", f"{work}/{name}.jsonl", "--checkpoint-dir",
                f"{work}/{name}", *more]

    t0 = time.time()
    subprocess.run(run("full"), check=True, stdout=subprocess.DEVNULL)
    full_seconds = time.time() - t0
    full_epochs = len(tc.events(f"{work}/full.jsonl", "epoch"))
    print(f"full run: {full_epochs} epochs in {full_seconds:.1f} s")

    # The second run: kill it with SIGKILL in the middle of an epoch after
    # its first checkpoint (the epoch-1 line is logged just before
    # last.safetensors is written, so wait for epoch 2's line... or for the
    # file and half an epoch more).
    log = f"{work}/killed.jsonl"
    ckpt = f"{work}/killed/last.safetensors"
    proc = subprocess.Popen(run("killed"), stdout=subprocess.DEVNULL)
    per_epoch = full_seconds / max(full_epochs, 1)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if os.path.exists(ckpt) and os.path.exists(log) and \
                len([l for l in open(log) if '"epoch"' in l]) >= 1:
            break
        time.sleep(0.005)
    time.sleep(per_epoch * 0.5)
    if proc.poll() is not None:
        sys.exit(f"FAIL: the run ended (exit {proc.returncode}) before it "
                 "could be killed; make it longer")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        sys.exit(f"FAIL: exit {proc.returncode}, expected SIGKILL")
    logged = len(tc.events(log, "epoch"))
    print(f"killed after {logged} logged epochs")

    # The checkpoint is whole and readable (the writer renames a finished
    # temporary file), by our reader and by the program itself.
    tensors, meta = tc.tensors(ckpt)
    epoch = int(meta["epoch"])
    if not (1 <= epoch < full_epochs):
        sys.exit(f"FAIL: checkpoint at epoch {epoch} of {full_epochs}")
    subprocess.run([prog, "info", "--weights", ckpt], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"checkpoint intact: epoch {epoch}, {len(tensors)} tensors")

    subprocess.run([*base, "--log", f"{work}/resumed.jsonl", "--checkpoint-dir",
                    f"{work}/killed", "--resume"], check=True,
                   stdout=subprocess.DEVNULL)
    for name in ("last", "best"):
        a, b = f"{work}/full/{name}.safetensors", f"{work}/killed/{name}.safetensors"
        if os.path.exists(a) or os.path.exists(b):
            sys.argv = ["", "same", a, b]
            tc.main()
    sys.argv = ["", "epochs-equal", f"{work}/full.jsonl", f"{work}/resumed.jsonl",
                str(epoch + 1)]
    tc.main()
    print("ok resumed run matches")


if __name__ == "__main__":
    main()
