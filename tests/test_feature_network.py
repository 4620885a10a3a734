"""zoo's own feature network (zoo.evaluation.classifier): how well it reads the bundled digits, that its
training is seeded, and that a new version of it is never compared with figures of the old one."""

import json

import numpy as np
import pytest
import torch

from tiny_data import tiny_labelled
from zoo.evaluation import classifier
from zoo.evaluation.classifier import DomainFeatures, train_classifier, translate


@pytest.mark.slow
def test_the_feature_network_reads_at_least_98_percent_of_the_bundled_held_out_digits(zoo_cli, tmp_path, monkeypatch):
    """Trains the real network (about a minute): zoo eval prints and returns its held-out accuracy."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    from zoo import datasets

    heldout = datasets.split(datasets.load("mnist"), "heldout")
    samples = tmp_path / "heldout.npz"
    np.savez(samples, images=heldout.images[:, 0])
    code, out, err = zoo_cli("eval", "--samples", samples, "--data", "mnist", "--json")
    assert code == 0, err
    accuracy = json.loads(out)["info"]["classifier_heldout_accuracy"]
    assert accuracy >= 0.98
    code, table, err = zoo_cli("eval", "--samples", samples, "--data", "mnist")  # the cached network, read back
    assert code == 0 and f"classifier held-out accuracy {accuracy:.1%}" in table, table


def test_training_is_seeded(tmp_path):
    data = tiny_labelled(0)
    first, second = train_classifier(data, epochs=2), train_classifier(data, epochs=2)
    other = train_classifier(data, epochs=2, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(first.state_dict()["head.1.weight"], other.state_dict()["head.1.weight"])


def test_translations_move_each_image_by_at_most_the_shift():
    images = torch.zeros(64, 1, 12, 12)
    images[:, :, 5, 5] = 1.0
    moved = translate(images, torch.Generator().manual_seed(0), most=2)
    where = moved[:, 0].flatten(1).argmax(1)
    rows, cols = where // 12, where % 12
    assert moved.shape == images.shape and torch.equal(moved.sum((1, 2, 3)), images.sum((1, 2, 3)))
    assert rows.min() == 3 and rows.max() == 7 and cols.min() == 3 and cols.max() == 7  # every offset in -2..2 drawn
    assert len(set(where.tolist())) > 10


def test_a_new_network_version_is_a_new_cache_and_new_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    data = tiny_labelled(0)
    new = DomainFeatures(data, epochs=1)
    monkeypatch.setattr(classifier, "VERSION", "cnn-v2")
    old = DomainFeatures(data, epochs=1)
    assert old.trained_now and old.path != new.path, "an old network's cache is never read as the new one"
    assert old.weights_sha256 != new.weights_sha256, "so figures of the two carry different provenance"


def test_figures_of_the_old_network_are_refused_for_comparison(toy, zoo_cli, tmp_path, tiny_eval_data, monkeypatch):
    """An eval.json made with the network before its version changed is not set beside one made after."""
    for name in ("old", "new"):
        code, _, err = zoo_cli("train", toy, "--data", tiny_eval_data, "--steps", "2", "--batch-size", "8",
                               "--out", tmp_path / name, "--quiet")
        assert code == 0, err
    with monkeypatch.context() as patch:
        patch.setattr(classifier, "VERSION", "cnn-v2")
        assert zoo_cli("eval", tmp_path / "old", "-n", "20")[0] == 0
    assert zoo_cli("eval", tmp_path / "new", "-n", "20")[0] == 0
    old, new = (json.loads((tmp_path / name / "eval.json").read_text())["info"]["provenance"] for name in ("old", "new"))
    assert old["features"] == new["features"] == "classifier" and old["features_sha256"] != new["features_sha256"]
    code, out, err = zoo_cli("runs", "compare", tmp_path / "old", tmp_path / "new", "--out", tmp_path / "c.png")
    assert code == 1 and not out
    assert (f"cannot be compared: their feature weights differ ({old['features_sha256'][:12]} vs "
            f"{new['features_sha256'][:12]})") in err


@pytest.mark.parametrize("network", ["feature network", "cas"])
def test_evaluation_networks_train_on_one_thread_and_give_the_thread_count_back(monkeypatch, network):
    """One thread: the same weights (and sha256 in provenance) whatever the machine's thread count."""
    from zoo.evaluation import cas

    net_class = classifier.ClassifierNet if network == "feature network" else cas.SmallCNN
    seen, forward = [], net_class.forward
    monkeypatch.setattr(net_class, "forward", lambda self, x: seen.append(torch.get_num_threads()) or forward(self, x))
    data, before = tiny_labelled(0), torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        if network == "feature network":
            train_classifier(data, epochs=1)
        else:
            cas.fit(torch.from_numpy(data.images).float() / 127.5 - 1, torch.from_numpy(data.labels), 2, steps=2)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1} and after == 2


SHIPPED_SHA256 = "cf2b6bc00341b2bcdea07cbd9d95012159ef20c09c47a026a52e501b779610e8"  # docs/evaluation.md quotes it


def test_the_bundled_mnist_is_scored_with_the_shipped_weights_never_trained_or_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    monkeypatch.setattr(classifier, "train_classifier", lambda *a, **k: pytest.fail("trained"))
    from zoo import datasets

    features = DomainFeatures(datasets.split(datasets.load("mnist"), "train"))
    assert not features.trained_now and features.weights_sha256 == SHIPPED_SHA256
    assert not (tmp_path / "classifiers").exists()


def test_the_training_reports_its_steps(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    heard = []
    assert DomainFeatures(tiny_labelled(0), epochs=2, progress=lambda done, total: heard.append((done, total))).trained_now
    assert heard == [(1, 2), (2, 2)]  # 40 images, one batch an epoch
    heard.clear()
    DomainFeatures(tiny_labelled(0), epochs=2, progress=lambda done, total: heard.append((done, total)))
    assert heard == []  # cached: nothing to train


def test_zoo_eval_shows_the_feature_networks_training_off_a_terminal(toy, zoo_cli, tmp_path, tiny_eval_data,
                                                                      monkeypatch):
    monkeypatch.setenv("ZOO_PROGRESS_SECONDS", "0")
    code, _, err = zoo_cli("train", toy, "--data", tiny_eval_data, "--steps", "2", "--batch-size", "8",
                           "--out", tmp_path / "run", "--quiet")
    assert code == 0, err
    code, out, err = zoo_cli("eval", tmp_path / "run", "-n", "20")
    assert code == 0, err
    assert "training the evaluation classifier for" in err and "evaluation classifier: training: step 1/1" in err
    code, out, err = zoo_cli("eval", tmp_path / "run", "-n", "20")
    assert code == 0 and "evaluation classifier" not in err  # the second time it is read from the cache


TRAIN_IN_A_PROCESS = """
import hashlib, os, sys, torch
threads, cpus = int(sys.argv[1]), sys.argv[2]
if cpus != "all" and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
torch.set_num_threads(threads)
sys.path.insert(0, sys.argv[3])
from tiny_data import tiny_labelled
from zoo.evaluation import classifier
print(hashlib.sha256(classifier.weights_file(classifier.train_classifier(tiny_labelled(0, n=200), epochs=2))).hexdigest())
"""


@pytest.mark.slow
def test_two_processes_with_other_thread_counts_and_cpus_train_byte_identical_weights(tmp_path):
    """The weights file's bytes are the same in every process (safetensors writes a metadata dict of several keys
    in an order that changes from process to process: one key), and training on one thread does not depend on
    the thread count or the CPUs the process may use."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    setups = [("1", "all"), ("2", str(cpus[-1]) if cpus else "all"), ("3", str(cpus[0]) if cpus else "all")]
    here = str(Path(__file__).parent)
    runs = [subprocess.Popen([sys.executable, "-c", TRAIN_IN_A_PROCESS, threads, where, here], stdout=subprocess.PIPE,
                             text=True) for threads, where in setups]
    digests = {run.communicate()[0].strip() for run in runs}
    assert all(run.returncode == 0 for run in runs) and len(digests) == 1, digests


CACHE_IN_A_PROCESS = """
import logging, pathlib, sys, time
sys.path.insert(0, sys.argv[1])
logging.basicConfig(level=logging.INFO, format="%(message)s")
from tiny_data import tiny_labelled
from zoo.evaluation import classifier
go, train = pathlib.Path(sys.argv[2]), classifier.train_classifier
def train_when_told(*args, **kwargs):  # holding the lock until the test says go
    while not go.exists():
        time.sleep(0.05)
    return train(*args, **kwargs)
classifier.train_classifier = train_when_told
features = classifier.DomainFeatures(tiny_labelled(0), epochs=1)
print(features.trained_now, features.weights_sha256)
"""


@pytest.mark.slow
def test_two_processes_that_need_the_feature_network_at_once_train_it_once(tmp_path):
    """The second waits for the first (saying so) and reads its weights: one cache file, one sha256."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from zoo.store.file_lock import fcntl

    if fcntl is None:
        pytest.skip("no flock here")
    env, go = {**os.environ, "ZOO_HOME": str(tmp_path / "home")}, tmp_path / "go"
    command = [sys.executable, "-c", CACHE_IN_A_PROCESS, str(Path(__file__).parent), str(go)]
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes = []
    try:
        for log in logs:
            with open(log, "w") as err:
                processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=err, text=True))
            _wait_for(lambda: "training the evaluation classifier" in logs[0].read_text(), processes)
        _wait_for(lambda: "waiting for it" in logs[1].read_text(), processes)
        go.touch()
        outputs = [process.communicate(timeout=300)[0].split() for process in processes]
    finally:
        go.touch()
    assert all(process.returncode == 0 for process in processes), [log.read_text() for log in logs]
    assert [trained for trained, _ in outputs] == ["True", "False"] and outputs[0][1] == outputs[1][1]
    assert "another process is training the evaluation classifier for tiny0; waiting for it" in logs[1].read_text()
    assert len(list((tmp_path / "home" / "classifiers").glob("*.safetensors"))) == 1


def _wait_for(condition, processes, seconds: float = 120) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), "a process stopped early"
        time.sleep(0.05)
