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
