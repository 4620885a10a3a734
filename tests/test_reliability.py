"""Promises one step off the happy path: full disks, two writers, leftovers of killed runs, files that must
never be overwritten, and values that must be refused before anything is written."""

import errno
import json

import numpy as np
import pytest
from runs import same_weights

from zoo.store import atomic
from zoo.store import run_folder as run
from zoo.store.checkpoint import load_checkpoint

OPTIONS = ["--batch-size", "8", "--sample-every", "2", "--checkpoint-every", "2", "--log-every", "1", "--quiet"]


@pytest.fixture
def straight(straight_run):
    """An uninterrupted 6-step run to compare resumed ones with."""
    return straight_run(OPTIONS)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


FAILS = {  # which write the full disk hits: (file name, how many writes of it succeed first)
    "run record": ("config.json", 0),
    "checkpoint": ("checkpoint.safetensors", 1),
    "sample grid": ("step-000004.png", 0),
    "loss plot": ("losses.png", 0),
    "report page": ("report.html", 1),
}


@pytest.mark.parametrize("victim", ["run record", "checkpoint", "sample grid", "metrics line", "torn metrics line",
                                    "loss plot", "report page"])
def test_a_full_disk_at_any_write_costs_no_run(toy, straight, zoo_cli, tmp_path, tiny_npz, monkeypatch, victim):
    """The disk fills up at one write (the step-4 checkpoint, grid or metrics line, or the final plot): one line,
    and --resume then finishes the run exactly as an uninterrupted one."""
    import zoo.outputs.images

    out = tmp_path / "run"
    real_atomic, real_append = atomic.atomic_write, run.RunFolder.append_metrics
    seen = {"writes": 0, "injected": False}

    def failing_atomic(path):
        name, passes = FAILS.get(victim, (None, 0))
        if name and str(path).endswith(name) and not seen["injected"]:
            seen["writes"] += 1
            if seen["writes"] > passes:
                seen["injected"] = True
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_atomic(path)

    def failing_append(self, entry):
        if victim.endswith("metrics line") and entry["step"] == 4 and not seen["injected"]:
            seen["injected"] = True
            if victim.startswith("torn"):
                with open(self.metrics, "a") as fh:
                    fh.write(json.dumps(entry)[:17])
            raise OSError(errno.ENOSPC, "No space left on device", str(self.metrics))
        return real_append(self, entry)

    for module in (atomic, zoo.outputs.images):  # every other writer goes through atomic's own functions
        monkeypatch.setattr(module, "atomic_write", failing_atomic)
    monkeypatch.setattr(run.RunFolder, "append_metrics", failing_append)
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "6", "--out", out, *OPTIONS)
    assert seen["injected"], "the failure was never injected"
    assert code == 1 and err.startswith("Error: No space left on device") and err.count("\n") == 1, err
    monkeypatch.undo()

    if victim == "loss plot":  # the last write: the run itself is complete
        assert load_checkpoint(out).step == 6 and same_weights(out, straight)
        return
    again = ["--resume", out] if victim != "run record" else [toy, "--data", tiny_npz, "--steps", "6", "--out", out, *OPTIONS]
    code, _, err = zoo_cli("train", *again, "--quiet")
    assert code == 0, err
    assert same_weights(out, straight)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss_d" in r] == [1, 2, 3, 4, 5, 6]


def test_a_second_writer_is_refused(toy, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", out, *OPTIONS)[0] == 0
    with run.RunFolder(out).lock():  # another process training this run right now
        code, _, err = zoo_cli("train", "--resume", out, "--steps", "4", "--quiet")
    assert code == 1 and "is being trained by process" in err and err.count("\n") == 1
    assert load_checkpoint(out).step == 2


def test_temp_files_of_killed_writers_are_cleaned_on_the_next_start(toy, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", out, *OPTIONS)[0] == 0
    dead = out / ".checkpoint.safetensors.999999999.tmp"  # no such pid
    dead.write_bytes(b"half a checkpoint")
    (out / "samples" / ".step-000002.png.999999998.tmp").write_bytes(b"half a png")
    assert zoo_cli("train", "--resume", out, "--steps", "4", "--quiet")[0] == 0
    assert not list(out.rglob("*.tmp"))


@pytest.mark.parametrize("out_name, message", [
    ("{run}/checkpoint.safetensors", "is a zoo checkpoint"),
    ("{tmp}/copy.safetensors", "is a zoo checkpoint"),
    ("{tmp}/existing.png", "already exists; pass --force"),
    ("{tmp}/afile.txt/s.png", "is a file, not a folder"),
])
def test_sample_never_destroys_a_checkpoint_and_asks_before_replacing(toy, zoo_cli, tmp_path, tiny_npz, out_name, message):
    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", out, *OPTIONS)[0] == 0
    (tmp_path / "copy.safetensors").write_bytes((out / "checkpoint.safetensors").read_bytes())
    (tmp_path / "existing.png").write_bytes(b"keep me")
    (tmp_path / "afile.txt").write_text("a file")
    before = (out / "checkpoint.safetensors").read_bytes()
    target = out_name.format(run=out, tmp=tmp_path)
    force = ["--force"] if target.endswith(".safetensors") else []  # a checkpoint is refused even with --force
    code, _, err = zoo_cli("sample", out, "-n", "4", "--out", target, *force)
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert (out / "checkpoint.safetensors").read_bytes() == before
    assert (tmp_path / "existing.png").read_bytes() == b"keep me"
    code, _, err = zoo_cli("sample", out, "-n", "4", "--out", tmp_path / "existing.png", "--force")
    assert code == 0, err


@pytest.mark.parametrize("args, message", [
    (["--set", "lr_g=nan"], "expected a finite number"),
    (["--set", "lr_g=inf"], "expected a finite number"),
    (["--set", "lr_g=-1"], "'lr_g' must be at least 0.0"),
    (["--set", "beta1=2"], "'beta1' must be at most 0.9999"),
    (["--set", "width=0"], "'width' must be at least 1"),
    (["--set", "latent_dim=0"], "'latent_dim' must be at least 1"),
    (["--set", "gp_weight=nan"], "expected a finite number"),
    (["--steps", "10000000000"], "--steps must be at most"),
    (["--log-every", "0"], "--log-every must be at least 1"),
    (["--config", "{tmp}/c.toml"], "--sample-every must be at least 0"),
])
def test_bad_values_are_refused_before_anything_is_written(toy, zoo_cli, tmp_path, args, message):
    (tmp_path / "c.toml").write_text("[train]\nsample_every = -5\n")
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--out", out, "--quiet", *(a.format(tmp=tmp_path) for a in args))
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_npz_with_nan_pixels_is_refused_with_count_and_index(toy, zoo_cli, tmp_path):
    images = np.zeros((20, 28, 28), np.float32)
    images[7, 3, 3] = np.nan
    images[12, 0, 0] = np.inf
    np.savez(tmp_path / "nan.npz", images=images)
    code, _, err = zoo_cli("train", toy, "--data", tmp_path / "nan.npz", "--out", tmp_path / "run", "--quiet")
    assert code == 1 and "2 images hold NaN or infinite pixels (the first is image 7)" in err
    assert not (tmp_path / "run").exists()


def test_bare_zoo_prints_its_help(zoo_cli):
    code, out, err = zoo_cli()
    assert code == 0 and out.startswith("Usage: zoo") and "\n  train " in out and not err


def test_eval_of_too_few_samples_is_one_line(zoo_cli, tmp_path, tiny_npz):
    np.savez(tmp_path / "three.npz", images=np.zeros((3, 28, 28), np.uint8))
    code, _, err = zoo_cli("eval", "--samples", tmp_path / "three.npz", "--data", tiny_npz)
    assert code == 1 and "3 samples are too few to score" in err


@pytest.mark.parametrize("name", [".lock", "metrics.jsonl"])
def test_a_named_pipe_where_training_appends_is_refused_not_waited_on(toy, zoo_cli, tmp_path, tiny_npz, name):
    import os
    import signal

    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", out, *OPTIONS)[0] == 0
    (out / name).unlink()
    os.mkfifo(out / name)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("zoo waited on a named pipe"))
    signal.alarm(20)
    try:
        code, _, err = zoo_cli("train", "--resume", out, "--steps", "4", "--quiet")
    finally:
        signal.alarm(0)
    assert code == 1 and f"{name}: not a regular file" in err
