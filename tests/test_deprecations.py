"""Every deprecated path and name keeps working until zoo-core 1.0 and says so once, with a DeprecationWarning that
names where it went and the version that removes it; each is listed in docs/deprecations.md. Data is not an API:
old run records and checkpoints load without a warning (tests/test_config.py, a run recorded with gp_weight).
(Only these tests use the old paths.)"""

import importlib
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

import zoo
from zoo import moved

DOCS = Path(__file__).parents[1] / "docs" / "deprecations.md"


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    """Each test as in a new process: nothing warned yet."""
    monkeypatch.setattr(moved, "_warned", set())


def said(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, DeprecationWarning)]


def forget_module(monkeypatch, old: str) -> None:
    """Make ``import old`` go through the finder again, as the first import of a process does."""
    monkeypatch.delitem(sys.modules, old, raising=False)
    parent, _, leaf = old.rpartition(".")
    monkeypatch.delattr(importlib.import_module(parent), leaf, raising=False)


@pytest.mark.parametrize("old", sorted(moved.OLD_PATHS))
def test_an_old_module_path_warns_once_and_gives_the_module(old, monkeypatch):
    new = moved.OLD_PATHS[old]
    forget_module(monkeypatch, old)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        __import__(old)  # as an import statement does
        module = sys.modules[old]
        forget_module(monkeypatch, old)
        assert importlib.import_module(old) is module  # a second import: no second warning
    assert module is importlib.import_module(new)
    assert said(record) == [f"{old} is deprecated and goes in zoo-core {moved.REMOVED_IN}: use {new} instead"]
    assert record[0].filename == __file__  # the warning points at the import, not at zoo's machinery


@pytest.mark.parametrize("old", sorted(moved.OLD_NAMES))
def test_an_old_name_warns_once_and_gives_the_object(old):
    new = moved.OLD_NAMES[old]
    module, _, name = old.rpartition(".")
    where, _, attribute = new.rpartition(".")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        value = getattr(importlib.import_module(module), name)
        assert getattr(importlib.import_module(module), name) is value
    assert value is getattr(importlib.import_module(where), attribute)
    assert said(record) == [f"{old} is deprecated and goes in zoo-core {moved.REMOVED_IN}: use {new} instead"]
    assert record[0].filename == __file__


def test_a_name_that_never_was_is_an_attribute_error():
    for module in (zoo, zoo.registry, importlib.import_module("zoo.callbacks")):
        with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
            module.Nothing


def test_trainer_heldout_warns_once_and_gives_heldout_tensors():
    from zoo.training.trainer import Trainer

    trainer = SimpleNamespace(heldout_tensors=("images", "labels"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert Trainer.heldout.fget(trainer) == ("images", "labels")
        assert Trainer.heldout.fget(trainer) == ("images", "labels")
    assert said(record) == ["Trainer.heldout is deprecated and goes in zoo-core 1.0: use Trainer.heldout_tensors "
                            "instead"]


def test_gan_config_gp_weight_warns_once_and_reads_and_sets_penalty_weight():
    from zoo.gan_config import GANConfig

    config = GANConfig(penalty_weight=1.0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert config.gp_weight == 1.0
        config.gp_weight = 2.0
    assert config.penalty_weight == 2.0
    assert said(record) == ["GANConfig.gp_weight is deprecated and goes in zoo-core 1.0: use GANConfig.penalty_weight "
                            "instead"]


def test_the_readme_example_of_zoo_0_4_runs(toy, tiny_npz, tmp_path, monkeypatch):
    """From the README of zoo 0.4, with a toy model, a small dataset and two steps."""
    forget_module(monkeypatch, "zoo.trainer")
    with pytest.warns(DeprecationWarning) as record:
        from zoo import datasets
        from zoo.trainer import Trainer, TrainConfig
        from zoo.callbacks import MetricsLog, Checkpointing

        data = datasets.split(datasets.load(str(tiny_npz)), "train")
        model = zoo.create_model(toy, data_shape=data.shape)
        Trainer(model, data, TrainConfig(steps=2, batch_size=8), tmp_path / "api",
                callbacks=[MetricsLog(), Checkpointing()]).fit()
    warned = said(record)
    assert any("zoo.trainer" in w and "use zoo.training.trainer" in w for w in warned)
    assert any("zoo.callbacks.MetricsLog" in w and "zoo.training.default_callbacks.MetricsLog" in w for w in warned)
    assert (tmp_path / "api" / "metrics.jsonl").exists() and (tmp_path / "api" / "checkpoint.safetensors").exists()


def test_the_docs_list_every_deprecated_path_with_its_new_home_and_removal():
    rows = {}
    for line in DOCS.read_text().splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0] not in ("Deprecated", "") and "---" not in line:
            rows[cells[0]] = cells[1:]
    for old, new in {**moved.OLD_PATHS, **moved.OLD_NAMES, "Trainer.heldout": "Trainer.heldout_tensors",
                     "GANConfig.gp_weight": "GANConfig.penalty_weight"}.items():
        assert old in rows, f"{old} is not in {DOCS.name}"
        assert rows[old][0] == new and rows[old][2] == moved.REMOVED_IN, rows[old]
