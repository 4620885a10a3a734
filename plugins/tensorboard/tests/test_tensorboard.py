"""The TensorBoard callback: event files read back with TensorBoard's own reader."""

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from zoo.testing import check_callback


def events(folder: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def summary_tags(folder: Path) -> set[str]:
    """Every summary tag in every event file (hyperparameters are not among EventAccumulator's tags)."""
    return {value.tag for path in folder.glob("events.out.tfevents.*") for event in EventFileLoader(str(path)).Load()
            for value in event.summary.value}


def test_a_run_and_its_resume_write_scalars_grids_and_hyperparameters(tmp_path):
    check_callback("tensorboard", tmp_path)  # 4 steps straight, and 2 + 2 resumed, samples every 2 steps
    for run in ("straight", "resumed"):
        logged = events(tmp_path / run / "tensorboard")
        tags = logged.Tags()
        assert {"loss_d", "loss_g", "images_per_s", "eval/fid"} <= set(tags["scalars"])
        assert [e.step for e in logged.Scalars("loss_d")] == [1, 2, 3, 4], "each step once, resume included"
        assert [e.step for e in logged.Images("samples")] == [2, 4]
        assert {"_hparams_/experiment", "_hparams_/session_start_info", "final/loss_d"} <= summary_tags(tmp_path / run / "tensorboard")


def test_logdir_and_images_are_options(tmp_path):
    logdir = tmp_path / "elsewhere"
    check_callback("tensorboard", tmp_path / "run", logdir=str(logdir), images=False)
    logged = events(logdir)
    assert logged.Tags()["images"] == [] and "loss_d" in logged.Tags()["scalars"]


def test_zoo_train_dcgan_with_the_callback(tmp_path):
    import numpy as np
    import pytest

    pytest.importorskip("zoo_dcgan")
    from zoo.cli.main import main

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), labels=np.arange(64) % 2)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "dcgan", "--data", str(tmp_path / "tiny.npz"), "--steps", "4", "--batch-size", "8", "--set",
              "width=4", "--sample-every", "2", "--log-every", "1", "--callback", "tensorboard", "--quiet",
              "--out", str(tmp_path / "run")])
    assert exit_info.value.code in (0, None)
    logged = events(tmp_path / "run" / "tensorboard")
    assert [e.step for e in logged.Scalars("loss_g")] == [1, 2, 3, 4] and len(logged.Images("samples")) == 2
