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


PRECISIONS = {  # name: (model, its options): each kept small, a checkpoint every step
    "fp16": ("dcgan", ["--set", "width=4", "--set", "latent_dim=8", "--precision", "fp16"]),
    "bf16": ("dcgan", ["--set", "width=4", "--set", "latent_dim=8", "--precision", "bf16"]),
    "accumulate-4": ("dcgan", ["--set", "width=4", "--set", "latent_dim=8", "--accumulate", "4"]),
    "ddpm-ema": ("ddpm", ["--set", "width=8", "--set", "multipliers=1"]),
    "flow-matching-ema": ("flow-matching", ["--set", "width=8", "--set", "multipliers=1"]),
}
STEPS = 40


def precision_command(name: str, out: Path, data: Path) -> list[str]:
    if (out / "config.json").exists():
        return [ZOO, "train", "--resume", str(out), "--quiet"]
    model, options = PRECISIONS[name]
    return [ZOO, "train", model, "--data", str(data), "--out", str(out), *options, "--batch-size", "8", "--steps",
            str(STEPS), "--checkpoint-every", "1", "--sample-every", "0", "--log-every", "1", "--quiet"]


def checkpoint_step(out: Path) -> int:
    try:
        return load_checkpoint(out).step
    except Exception:  # not written yet
        return -1


@pytest.mark.slow
@pytest.mark.parametrize("name", PRECISIONS)
def test_kill_9_and_resume_is_exact_in_every_precision(name, tmp_path):
    """kill -9 twice during an fp16, a bf16, an --accumulate 4 run, and a ddpm and a flow-matching run with their
    EMA, each time once it has saved a new checkpoint (a random moment of the step after); the resumed run ends with
    every tensor (weights, EMA, optimiser state, RNG), the trainer's state (fp16's loss scaler included) and the
    samples of an uninterrupted one."""
    data = tmp_path / "tiny.npz"
    rng = np.random.default_rng(0)
    np.savez(data, images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), labels=np.arange(64) % 2)
    straight, out, chance = tmp_path / "straight", tmp_path / "killed", random.Random(3)
    subprocess.run(precision_command(name, straight, data), check=True, env=env(), capture_output=True,
                   timeout=TIMEOUT_S * 2)
    for kill in range(2):
        process = subprocess.Popen(precision_command(name, out, data), env=env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        target, deadline = checkpoint_step(out) + 1 + chance.randrange(8), time.monotonic() + TIMEOUT_S
        while checkpoint_step(out) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(chance.uniform(0.0, 0.3))
        assert process.poll() is None, process.communicate()[1].decode()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT_S)
        assert 0 <= checkpoint_step(out) < STEPS
    result = subprocess.run(precision_command(name, out, data), env=env(), capture_output=True, text=True,
                            timeout=TIMEOUT_S * 2)
    assert result.returncode == 0, result.stderr
    a, b = load_checkpoint(straight), load_checkpoint(out)
    assert b.step == STEPS and set(a.tensors) == set(b.tensors)
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors), \
        [k for k in a.tensors if not torch.equal(a.tensors[k], b.tensors[k])]
    kept, resumed = a.json("trainer"), b.json("trainer")
    assert kept["optimizer_steps"] == resumed["optimizer_steps"] and kept["batches"] == resumed["batches"]
    if name == "fp16":
        assert kept["optimizer_steps"]["scaler"]["scale"] > 0
    from zoo.store.checkpoint import build_model

    assert torch.equal(build_model(a).sample(8, seed=0), build_model(b).sample(8, seed=0))
    assert not list(out.rglob("*.tmp"))
