"""An fp16 run's loss scaler state, kept in its checkpoint, is checked on resume: a tampered scale (NaN, negative,
infinite, zero) or scaler setting is one line, and the run is left as it was."""

import json
import shutil

import pytest

from test_hostile_checkpoints import one_line, with_meta
from zoo.store.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def fp16_run(tmp_path_factory):
    """A 2-step toy run in fp16, to tamper with."""
    import numpy as np

    from toy import ToyPlugin
    from zoo.cli.main import main
    from zoo.registry import plugin_host as plugins

    root = tmp_path_factory.mktemp("fp16")
    rng = np.random.default_rng(0)
    np.savez(root / "tiny.npz", images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8))
    plugins.reset()
    plugins.plugin_manager().register(ToyPlugin(), name="toy")
    try:
        with pytest.raises(SystemExit) as done:
            main(["train", "toy-gan", "--data", str(root / "tiny.npz"), "--steps", "2", "--batch-size", "8",
                  "--precision", "fp16", "--sample-every", "0", "--quiet", "--out", str(root / "run")])
        assert done.value.code in (0, None)
    finally:
        plugins.reset()
    return root / "run"


def tampered(run, tmp_path, **scaler):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    ckpt = copy / "checkpoint.safetensors"
    state = load_checkpoint(ckpt).json("trainer")
    state["optimizer_steps"]["scaler"].update(scaler)
    ckpt.write_bytes(with_meta(ckpt.read_bytes(), trainer=json.dumps(state)))
    return copy


def test_an_fp16_checkpoint_keeps_its_loss_scale(fp16_run):
    scaler = load_checkpoint(fp16_run).json("trainer")["optimizer_steps"]["scaler"]
    assert scaler["scale"] > 0 and scaler["growth_factor"] > 1


@pytest.mark.parametrize("change, says", [
    ({"scale": float("nan")}, "scale is nan"),
    ({"scale": -1.0}, "scale is -1.0"),
    ({"scale": float("inf")}, "scale is inf"),
    ({"scale": 0.0}, "scale is 0.0"),
    ({"scale": "65536"}, "scale is '65536'"),
    ({"growth_factor": 0.5}, "growth_factor is 0.5"),
    ({"backoff_factor": 2.0}, "backoff_factor is 2.0"),
    ({"growth_interval": -5}, "growth_interval is -5"),
])
def test_a_tampered_loss_scale_is_refused_on_resume(change, says, fp16_run, toy, zoo_cli, tmp_path):
    """Before: a NaN or infinite scale resumed, and every step after it was skipped (or wrote NaN weights)."""
    run = tampered(fp16_run, tmp_path, **change)
    before = (run / "checkpoint.safetensors").read_bytes()
    code, _, err = zoo_cli("train", "--resume", run, "--steps", "3", "--quiet")
    one_line(code, "".join(line for line in err.splitlines(True) if "fp16 on a CPU is emulated" not in line))
    assert f"its fp16 loss scaler's {says}" in err and "cannot be resumed" in err, err
    assert (run / "checkpoint.safetensors").read_bytes() == before
