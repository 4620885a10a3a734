"""Caches under $ZOO_HOME are never trusted unchecked: a real-feature array that was edited, cut or reshaped, a
cached classifier that is garbage, and any cache file that is not a regular file are computed again (with one
line on stderr naming the file), giving exactly the figures a fresh computation gives, and never a hang."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tiny_data import tiny_labelled
from zoo.evaluation import classifier, harness
from zoo.datasets.pixels import to_float


def finishes(call, timeout=60):
    """``call()``'s result, failing (not hanging) if it blocks, e.g. on a named pipe."""
    result = {}
    worker = threading.Thread(target=lambda: result.update(value=call()), daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"still running after {timeout} s: blocked reading a cache file?"
    return result["value"]


def make_fifo(path):
    path.unlink()
    os.mkfifo(path)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(classifier.DomainFeatures.__init__, "__defaults__", (1, None))  # one epoch: seconds
    return tmp_path / "home"


def evaluate():
    train, heldout = tiny_labelled(0, n=40), tiny_labelled(1, n=20)
    drawn = tiny_labelled(2, n=20)  # with their labels: scored per label too, and no note that they have none
    samples, labels = to_float(drawn.images), drawn.labels
    return finishes(lambda: harness.evaluate(train, heldout, samples=samples, labels=labels, seed=0).to_dict())


def resave(path, change):
    np.save(path, change(np.load(path)))  # the checksum beside it is left as it was


TAMPER = {
    "multiplied by 3": lambda path: resave(path, lambda a: a * 3),
    "another width": lambda path: resave(path, lambda a: a[:, :7]),
    "a row short": lambda path: resave(path, lambda a: a[:-1]),
    "cut short": lambda path: path.write_bytes(path.read_bytes()[:200]),
    "no checksum beside it (an older zoo)": lambda path: path.with_suffix(".json").unlink(),
    "a named pipe": make_fifo,
}


@pytest.mark.parametrize("tamper", TAMPER)
def test_a_tampered_real_feature_cache_is_computed_again(home, capsys, tamper):
    fresh = evaluate()
    [cache] = (home / "features").glob("*.npy")
    assert json.loads(cache.with_suffix(".json").read_text())["shape"] == [40, classifier.FEATURES]
    capsys.readouterr()
    TAMPER[tamper](cache)
    again = evaluate()  # before the fix: FID x10 for the array x3, a matmul ValueError for the other shapes
    err = capsys.readouterr().err
    assert again == fresh
    assert len(err.splitlines()) == 1 and f"zoo: {cache}: cached features not used" in err
    assert "computing them again" in err
    assert evaluate() == fresh and capsys.readouterr().err == ""  # replaced by a cache that passes its check


def test_the_feature_cache_is_read_without_computing(home, monkeypatch):
    fresh = evaluate()
    monkeypatch.setattr(classifier.DomainFeatures, "features", lambda self, images: pytest.fail("recomputed")
                        if len(images) == 40 else classifier.DomainFeatures._run(self, images, self.net.body))
    assert evaluate() == fresh


GARBAGE = {
    "garbage": lambda path: path.write_bytes(b"\xff" * 64),  # before: SafetensorError: header too large
    "another network's tensors": lambda path: path.write_bytes(
        __import__("safetensors.torch").torch.save({"x": __import__("torch").zeros(2)})),
    "a folder": lambda path: (path.unlink(), path.mkdir()),
}


@pytest.mark.parametrize("damage", GARBAGE)
def test_a_damaged_classifier_cache_is_trained_again(home, capsys, damage):
    data = tiny_labelled(0)
    first = classifier.DomainFeatures(data, epochs=1)
    capsys.readouterr()
    GARBAGE[damage](first.path)
    if damage == "a folder":  # zoo does not delete folders: one line saying what stands there
        with pytest.raises(OSError):
            classifier.DomainFeatures(data, epochs=1)
        assert "the cached evaluation classifier cannot be read (not a regular file (a folder))" in capsys.readouterr().err
        return
    again = classifier.DomainFeatures(data, epochs=1)
    err = capsys.readouterr().err
    assert again.trained_now and len(err.splitlines()) == 1
    assert f"zoo: {first.path}: the cached evaluation classifier cannot be read" in err and "training it again" in err
    reloaded = classifier.DomainFeatures(data, epochs=1)
    assert not reloaded.trained_now and reloaded.weights_sha256 == again.weights_sha256  # the cache was replaced


def test_a_named_pipe_as_the_classifier_cache_is_never_opened(home):
    """safetensors opens a file holding the GIL: a blocked open would stall every thread, so this runs apart."""
    first = classifier.DomainFeatures(tiny_labelled(0), epochs=1)
    make_fifo(first.path)
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from tiny_data import tiny_labelled; "
              "from zoo.evaluation.classifier import DomainFeatures; from zoo.cli.terminal import terminal_output\n"
              "with terminal_output(): print(DomainFeatures(tiny_labelled(0), epochs=1).trained_now)")
    done = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "ZOO_HOME": str(home)})  # before: blocked for ever
    assert done.stdout.strip() == "True", done.stderr
    assert f"{first.path}: the cached evaluation classifier cannot be read (not a regular file (a named pipe))" in done.stderr
    assert not classifier.DomainFeatures(tiny_labelled(0), epochs=1).trained_now  # a regular file again, and read
