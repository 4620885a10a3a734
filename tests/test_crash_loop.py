"""kill -9 at random moments of a real ``zoo train`` process with a checkpoint every step: the run always
resumes, and ends with exactly the weights of an uninterrupted run. SIGTERM ends it as Ctrl-C does."""

import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo.store.checkpoint import load_checkpoint

ZOO = str(Path(sys.executable).with_name("zoo"))
TIMEOUT_S = 300  # a hang fails; a machine busy with other tests does not (one start-up takes seconds alone)
ARGS = ["--set", "width=4", "--set", "latent_dim=8", "--batch-size", "8", "--steps", "300", "--checkpoint-every", "1",
        "--sample-every", "10", "--log-every", "1", "--quiet"]


def env() -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}, "OMP_NUM_THREADS": "1"}


def command(out: Path, data: Path) -> list[str]:
    if (out / "config.json").exists():
        return [ZOO, "train", "--resume", str(out), "--quiet"]
    return [ZOO, "train", "dcgan", "--data", str(data), "--out", str(out), *ARGS]


def data_and_straight_run(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny dataset, and an uninterrupted run on it to compare the stopped ones with."""
    data = tmp_path / "tiny.npz"
    rng = np.random.default_rng(0)
    np.savez(data, images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), labels=np.arange(64) % 2)
    straight = tmp_path / "straight"
    subprocess.run(command(straight, data), check=True, env=env(), capture_output=True, timeout=TIMEOUT_S)
    return data, straight


def crash_loop(tmp_path: Path, kills: int, seed: int) -> None:
    data, straight = data_and_straight_run(tmp_path)

    out, chance, killed = tmp_path / "killed", random.Random(seed), 0
    while killed < kills:
        process = subprocess.Popen(command(out, data), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(chance.uniform(1.0, 3.5))  # from start-up (imports) to the last steps
        if process.poll() is not None:  # finished before the kill
            _, err = process.communicate(timeout=TIMEOUT_S)
            assert process.returncode == 0 or b"already at step 300" in err, err.decode()
            break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT_S)
        killed += 1
    for _ in range(3):
        result = subprocess.run(command(out, data), env=env(), capture_output=True, text=True, timeout=TIMEOUT_S)
        if result.returncode == 0 or "already at step 300" in result.stderr:
            break
    else:
        raise AssertionError(result.stderr)
    a, b = load_checkpoint(straight), load_checkpoint(out)
    assert b.step == 300
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors if k.startswith("model."))
    assert not list(out.rglob("*.tmp"))


def test_three_kills(tmp_path):
    crash_loop(tmp_path, kills=3, seed=1)


@pytest.mark.slow
def test_twenty_kills(tmp_path):
    crash_loop(tmp_path, kills=20, seed=2)


def test_sigterm_ends_the_run_as_interrupted_and_it_resumes_exactly(tmp_path):
    """A scheduler's SIGTERM (preemption, torchrun stopping the ranks) is a Ctrl-C: exit 130, one line that says
    the step reached, the step the checkpoint holds and the command that continues (before: "Aborted." alone), the
    run folder says "interrupted", and that command ends with the weights of an uninterrupted run."""
    data, straight = data_and_straight_run(tmp_path)

    out = tmp_path / "stopped"
    process = subprocess.Popen(command(out, data), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT_S
    while not (out / "checkpoint.safetensors").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=TIMEOUT_S)
    said = re.fullmatch(r"Interrupted at step (\d+) of 300; its checkpoint holds step (\d+)\. Continue with: (.+)\n", err)
    assert process.returncode == 130 and said, err
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "interrupted" and 0 < status["step"] < 300, status
    assert int(said[1]) == status["step"] and int(said[2]) == load_checkpoint(out).step <= status["step"]
    assert shlex.split(said[3]) == ["zoo", "train", "--resume", str(out)]

    resumed = subprocess.run([ZOO, *shlex.split(said[3])[1:], "--quiet"], env=env(), capture_output=True, text=True,
                             timeout=TIMEOUT_S)
    assert resumed.returncode == 0, resumed.stderr
    a, b = load_checkpoint(straight), load_checkpoint(out)
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors if k.startswith("model."))
