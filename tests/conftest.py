import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # for the lazily imported toy_model module

# Test models are tiny: a second intra-op thread only adds synchronisation, and on a busy machine OpenMP
# threads waiting for each other make a 10 ms step take a second or more.
torch.set_num_threads(1)

from zoo.registry import plugin_host as plugins  # noqa: E402
from toy import ToyPlugin  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_plugins(monkeypatch, tmp_path_factory):
    """Every test starts from freshly discovered plugins and leaves none of its own behind; caches (evaluation
    classifiers) go to one folder of the session, never the user's."""
    for var in ("ZOO_STRICT_PLUGINS", "ZOO_LOAD_PLUGINS", "ZOO_DATASET_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ZOO_HOME", str(tmp_path_factory.getbasetemp() / "zoo-home"))
    plugins.reset()
    yield
    plugins.reset()


@pytest.fixture(autouse=True)
def zoo_terminal_output():
    """The library's log records and ZooWarnings show on stderr as the ``zoo`` command shows them (``zoo: ...``),
    so a test reads what a user of the command would see; tests/test_logging.py checks a program without it."""
    from zoo.cli.terminal import terminal_output

    with terminal_output():
        yield


@pytest.fixture
def register_plugin():
    """Register plugin objects in-process for one test: ``register_plugin(obj, "name")``."""
    registered = []

    def register(obj, name):
        plugins.plugin_manager().register(obj, name=name)
        registered.append(obj)
        return obj

    yield register
    for obj in registered:
        if plugins._manager is not None and plugins._manager.is_registered(obj):
            plugins._manager.unregister(obj)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path where tests install distributions by hand (see fake_dist.write_plugin)."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


@pytest.fixture
def toy(register_plugin):
    register_plugin(ToyPlugin(), "toy")
    return "toy-gan"


@pytest.fixture
def zoo_cli(capsys):
    """Run the real ``zoo`` entry point in-process; returns (exit code, stdout, stderr)."""
    from zoo.cli.main import main

    def run(*args):
        with pytest.raises(SystemExit) as exit_info:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exit_info.value.code
        return (0 if code is None else code), captured.out, captured.err

    return run


@pytest.fixture
def tiny_npz(tmp_path):
    """64 random 28x28 grey images with 2 classes, as an .npz dataset path."""
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npz"
    np.savez(path, images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), labels=rng.integers(0, 2, 64))
    return path


@pytest.fixture
def straight_run(toy, zoo_cli, tmp_path, tiny_npz):
    """``straight_run(options)``: an uninterrupted 6-step toy run on tiny_npz, to compare resumed runs with."""

    def train(options):
        out = tmp_path / "straight"
        code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "6", "--out", out, *options)
        assert code == 0, err
        return out

    return train


@pytest.fixture
def tiny_eval_data(tmp_path, monkeypatch):
    """60 labelled images as an .npz, a private ZOO_HOME and a one-epoch classifier: evaluation in seconds."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("zoo.evaluation.classifier.EPOCHS", 1)
    path = tmp_path / "tiny.npz"
    from tiny_data import tiny_labelled

    data = tiny_labelled(n=60)
    np.savez(path, images=data.images, labels=data.labels)
    return path
