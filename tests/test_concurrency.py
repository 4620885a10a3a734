"""Commands run beside a training run: a second ``zoo train --resume`` of it is refused and the run stays whole;
``zoo export``, ``zoo eval`` and ``zoo runs`` of it, while it writes a checkpoint every step, each read one
checkpoint whole (never the header of one and the tensors of the next) and succeed."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo.store.checkpoint import load_checkpoint

WORKER = str(Path(__file__).with_name("toy_process.py"))
TIMEOUT_S = 300
ARGS = ["--batch-size", "8", "--checkpoint-every", "1", "--sample-every", "0", "--log-every", "1", "--quiet"]


def env() -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}, "OMP_NUM_THREADS": "1"}


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, WORKER, *map(str, args)], env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.05)


def digests(tensors) -> dict:
    return {k: hashlib.sha256(v.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()).hexdigest()
            for k, v in tensors.items()}


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "tiny.npz"
    rng = np.random.default_rng(0)
    np.savez(path, images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), labels=np.arange(64) % 2)
    return path


def test_a_second_resume_of_a_running_run_is_refused_and_the_run_stays_whole(toy, zoo_cli, data, tmp_path):
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--data", data, "--steps", "2", "--out", out, *ARGS)
    assert code == 0, err
    going = start("train", "--resume", out, "--steps", "100000", "--checkpoint-every", "1", "--quiet")
    deadline = time.monotonic() + TIMEOUT_S
    while load_checkpoint(out).step <= 2:  # it holds the run and trains
        assert going.poll() is None and time.monotonic() < deadline, going.communicate()
        time.sleep(0.05)
    before = (out / "config.json").read_text()
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "100000", "--quiet")
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith(f"Error: {out} is being trained by process {going.pid}; wait for it or stop it first"), err
    assert going.poll() is None, "the refused one stopped the other"
    assert (out / "config.json").read_text() == before
    going.send_signal(signal.SIGTERM)
    _, err = going.communicate(timeout=TIMEOUT_S)
    assert going.returncode == 130, err
    step = load_checkpoint(out).step
    assert step > 2 and json.loads((out / "status.json").read_text())["status"] == "interrupted"
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss_d" in r] == sorted({r["step"] for r in records if "loss_d" in r})
    code, _, err = zoo_cli("train", "--resume", out, "--steps", step + 2, "--quiet")
    assert code == 0, err
    assert load_checkpoint(out).step == step + 2


def test_export_eval_and_runs_while_a_run_saves_every_step_read_one_checkpoint_whole(data, tmp_path, capsys,
                                                                                    tiny_eval_data):
    """Each checkpoint read during training equals, tensor for tensor, the copy the run kept of that step; the
    export's weights are those of the step its config.json names; zoo eval and zoo runs succeed throughout."""
    from toy import ToyPlugin
    from zoo.cli.main import main
    from zoo.registry import plugin_host as plugins
    from zoo.sharing.export import export_model

    plugins.plugin_manager().register(ToyPlugin(), name="toy")
    out = tmp_path / "run"
    training = start("train", "toy-gan", "--data", data, "--steps", "150", "--out", out, "--callback", "keep-copies",
                     *ARGS)
    wait_for(out / "checkpoint.safetensors", training)
    seen, exports, listed, evaluated = [], [], [], []

    def zoo(*args):
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
        printed = capsys.readouterr()
        assert done.value.code in (0, None), printed.err
        return printed.out

    while training.poll() is None:
        ckpt = load_checkpoint(out)
        seen.append((ckpt.step, digests(ckpt.tensors)))
        if len(seen) % 25 == 1:
            exports.append(export_model(out, tmp_path / "exports" / str(len(exports))))
            listed.append(next(r for r in json.loads(zoo("runs", tmp_path, "--json")) if r["run"] == str(out)))
        if len(seen) == 2:
            evaluated.append(json.loads(zoo("eval", out, "-n", "10", "--data", tiny_eval_data, "--json")))
    _, err = training.communicate()
    assert training.returncode == 0, err
    assert len(seen) >= 10, f"only {len(seen)} reads while it trained"
    for step, read in seen:
        copy = load_checkpoint(out / "copies" / f"step-{step:06d}.safetensors")
        assert read == digests(copy.tensors), f"the read of step {step} mixes two checkpoints"
    for folder in exports:
        step = json.loads((folder / "config.json").read_text())["source"]["step"]
        copy = load_checkpoint(out / "copies" / f"step-{step:06d}.safetensors").group("model.")
        exported = load_checkpoint(folder).group("model.")
        assert exported and all(digests({k: v})[k] == digests({k: copy[k]})[k] for k, v in exported.items())
    assert exports and evaluated and evaluated[0]["model"]["fid"] >= 0
    assert listed and all(r["status"] == "running" for r in listed if r["step"] < 150), listed
    assert [r["step"] for r in listed] == sorted(r["step"] for r in listed)


def test_a_read_torn_by_a_replacement_is_read_again_and_a_broken_file_still_fails(tmp_path):
    """The header of one version and the bytes of the next fail to parse; that failure is the replacement's, so the
    read is done again on the new version. The same failure on a file nobody replaced is the file's, and is raised."""
    from zoo.store.stable_read import read_unchanged

    path = tmp_path / "checkpoint.safetensors"
    path.write_bytes(b"one")
    calls = []

    def torn_once():
        calls.append(path.read_bytes())
        if len(calls) == 1:
            replacement = tmp_path / "next"
            replacement.write_bytes(b"two, longer")
            os.replace(replacement, path)
            raise RuntimeError("file size is smaller than the required mapping size")
        return calls[-1]

    assert read_unchanged(path, torn_once) == b"two, longer" and len(calls) == 2

    def broken():
        raise RuntimeError("not safetensors")

    with pytest.raises(RuntimeError, match="not safetensors"):
        read_unchanged(path, broken)
