"""zoo eval: the metrics against known values, the classifier cache, and bad input."""

import numpy as np
import pytest
import torch

import zoo
from zoo.datasets import ImageData
from zoo.evaluation import metrics
from zoo.evaluation.classifier import DomainFeatures
from zoo.errors import DataError
from tiny_data import tiny_labelled


def gaussian(n, mean, std, seed):
    return np.random.default_rng(seed).normal(mean, std, size=(n, len(std)))


def test_fid_of_a_set_against_itself_is_zero():
    x = gaussian(500, [0.0] * 4, [1.0, 2.0, 0.5, 1.0], 0)
    assert metrics.fid(x, x) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_the_closed_form():
    # Diagonal covariances: ||mu1 - mu2||^2 + sum(s1 + s2 - 2 sqrt(s1 s2)).
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 1.0])
    expected = 1 + 0 + 4 + sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    assert metrics.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected)
    # A full covariance: rotate both; the distance is unchanged.
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    assert metrics.frechet_distance(q @ mu1, q @ np.diag(v1) @ q.T, q @ mu2, q @ np.diag(v2) @ q.T) == pytest.approx(expected)


def test_fid_of_two_gaussian_samples_approaches_the_population_value():
    a = gaussian(20000, [0.0, 0.0], [1.0, 1.0], 1)
    b = gaussian(20000, [3.0, 0.0], [2.0, 1.0], 2)
    population = 9 + (1 + 4 - 2 * 2) + 0
    assert metrics.fid(a, b) == pytest.approx(population, rel=0.03)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_a_shift():
    a, b = gaussian(600, [0.0] * 8, [1.0] * 8, 3), gaussian(600, [0.0] * 8, [1.0] * 8, 4)
    same, same_std = metrics.kid(a, b, subsets=20, subset_size=300)
    assert abs(same) < 3 * same_std + 1e-3
    shifted, shifted_std = metrics.kid(a, b + 1.0, subsets=20, subset_size=300)
    assert shifted > 10 * max(shifted_std, abs(same))


def test_precision_recall_of_a_collapsed_generator():
    real = gaussian(400, [0.0, 0.0], [1.0, 1.0], 5)
    collapsed = real[:1].repeat(400, axis=0) + 1e-3 * gaussian(400, [0.0, 0.0], [1.0, 1.0], 6)
    precision, recall = metrics.precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.1


def test_coverage_of_a_constant_generator_is_one_class():
    cov = metrics.class_coverage(np.full(100, 7), 10)
    assert cov["classes_covered"] == 1 and cov["max_class_share"] == 1.0 and cov["min_class_share"] == 0.0
    assert metrics.class_coverage(np.arange(100) % 10, 10)["classes_covered"] == 10


def test_confidence_and_diversity():
    one_hot = np.eye(10)[np.arange(100) % 10]
    figures = metrics.confidence_diversity(one_hot)
    assert figures["confidence"] == pytest.approx(1.0) and figures["diversity"] == pytest.approx(10.0, rel=1e-6)
    assert figures["inception_score"] == pytest.approx(10.0, rel=1e-6)


def test_classifier_is_cached_and_retrained_when_the_data_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    first = DomainFeatures(tiny_labelled(0), epochs=1)
    assert first.trained_now and first.path.exists()
    again = DomainFeatures(tiny_labelled(0), epochs=1)
    assert not again.trained_now
    x = torch.from_numpy(tiny_labelled(0).images[:4]).float() / 127.5 - 1
    assert np.array_equal(first.features(x), again.features(x))
    changed = DomainFeatures(tiny_labelled(1), epochs=1)
    assert changed.trained_now and changed.path != first.path


def test_classifier_needs_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    data = tiny_labelled()
    with pytest.raises(DataError, match="no labels"):
        DomainFeatures(ImageData(data.images, None, "unlabelled"))


def test_eval_of_a_checkpoint_reports_model_and_baseline(toy, zoo_cli, tmp_path, tiny_eval_data):
    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--data", tiny_eval_data, "--out", out, "--steps", "2", "--batch-size", "8", "--quiet")[0] == 0
    code, stdout, err = zoo_cli("eval", out, "-n", "40", "--json")
    assert code == 0, err
    import json

    report = json.loads(stdout)
    for table in ("model", "floor"):
        assert {"fid", "kid", "kid_std", "precision", "recall", "classes_covered"} <= set(report[table])
    assert report["model"]["n"] == 40 and report["floor"]["n"] == 6
    assert json.loads((out / "eval.json").read_text())["model"]["n"] == 40, "a run folder keeps its evaluation"
    code, table, err = zoo_cli("eval", out, "-n", "40")
    assert "held-out real" in table and f"saved to {out / 'eval.json'}" in err
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[1:] if line and line[0] != " "}
    assert rows["fid"][0] == "lower" and rows["precision"][0] == "higher" and rows["diversity"][0] == "real"
    assert "40 samples, seed 0" in table and "class shares: 0 " in table and "%" in table


def test_eval_of_samples_from_anywhere(zoo_cli, tmp_path, tiny_eval_data):
    samples = tmp_path / "samples.npz"
    np.savez(samples, images=tiny_labelled(2, n=20).images[:, 0])
    code, stdout, err = zoo_cli("eval", "--samples", samples, "--data", tiny_eval_data)
    assert code == 0, err
    assert "fid" in stdout


@pytest.mark.parametrize("make, message", [
    (lambda p: np.savez(p, images=np.zeros((5, 32, 32), np.uint8)), "images of shape \\(1, 32, 32\\); the data has \\(1, 28, 28\\)"),
    (lambda p: np.savez(p, images=np.zeros((0, 28, 28), np.uint8)), "no images"),
    (lambda p: p.write_bytes(b""), "not a (readable|valid) .npz"),  # the wording core/datasets/files.py gives
])
def test_bad_sample_files_are_one_line_errors(zoo_cli, tmp_path, tiny_eval_data, make, message):
    samples = tmp_path / "bad.npz"
    make(samples)
    code, _, err = zoo_cli("eval", "--samples", samples, "--data", tiny_eval_data)
    assert code != 0 and len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_eval_needs_a_labelled_dataset(zoo_cli, tmp_path, tiny_eval_data):
    unlabelled = tmp_path / "unlabelled.npz"
    np.savez(unlabelled, images=np.zeros((20, 28, 28), np.uint8))
    code, _, err = zoo_cli("eval", "--samples", unlabelled, "--data", unlabelled)
    assert code != 0 and "no labels" in err


def test_eval_every_logs_figures_and_writes_eval_json(toy, zoo_cli, tmp_path, tiny_eval_data):
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--data", tiny_eval_data, "--out", out, "--steps", "4", "--batch-size", "8",
                           "--eval-every", "2", "--quiet")
    assert code == 0, err
    import json

    from zoo import logged

    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if logged.evaluation("fid") in r] == [2, 4]  # named as zoo.logged says
    assert "fid" in json.loads((out / "eval.json").read_text())["model"]


def test_kid_does_not_depend_on_the_feature_space_scale():
    import torch

    from zoo.evaluation.harness import _sample_figures

    rng = np.random.default_rng(0)
    train = rng.normal(size=(300, 16))

    class Features:
        def __init__(self, scale):
            self.scale = scale

        def features(self, images):
            return images.flatten(1).numpy().astype(np.float64) * self.scale

        def logits(self, images):
            return None

    images = torch.from_numpy(rng.normal(0.3, 1.0, size=(200, 1, 4, 4)))
    small = _sample_figures(Features(1.0), train, images, seed=0)
    large = _sample_figures(Features(100.0), train * 100.0, images, seed=0)
    assert small["kid"] == pytest.approx(large["kid"], rel=1e-6) and 1 < small["kid"] < 1000  # x1e3 units


def test_real_features_are_cached_per_feature_weights_and_data(tmp_path, monkeypatch):
    from zoo import evaluation

    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    data = tiny_labelled(0)
    extractor = DomainFeatures(data, epochs=1)
    calls = []
    real = extractor.features
    monkeypatch.setattr(extractor, "features", lambda images: calls.append(len(images)) or real(images))
    first = evaluation.real_features(extractor, "classifier", data, data.sha256())
    second = evaluation.real_features(extractor, "classifier", data, data.sha256())
    assert calls == [len(data)] and np.array_equal(first, second)  # the second came from the cache
    other = tiny_labelled(1)
    evaluation.real_features(extractor, "classifier", other, other.sha256())
    assert calls == [len(data), len(other)] and len(list((tmp_path / "features").glob("*.npy"))) == 2
