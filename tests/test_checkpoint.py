"""Checkpoints: safetensors only, self-describing, atomic, and clear about what is wrong with a bad file."""

import json
import os

import pytest
import torch
from safetensors.torch import save_file

import zoo
from zoo.store.checkpoint import build_model, load_checkpoint, load_model, save_checkpoint
from zoo.errors import CheckpointError


@pytest.fixture
def trained(toy):
    torch.manual_seed(0)
    model = zoo.create_model(toy)
    model.optimizers = model.configure_optimizers()
    from zoo.architecture import Batch

    model.training_step(Batch(torch.rand(8, 1, 28, 28) * 2 - 1), 0)
    return model


def test_a_checkpoint_alone_rebuilds_the_model(trained, tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", trained, step=1, optimizers=trained.optimizers)
    ckpt = load_checkpoint(path)
    assert ckpt.meta["architecture"] == "toy-gan" and ckpt.step == 1
    assert json.loads(ckpt.meta["config"])["latent_dim"] == 8
    assert json.loads(ckpt.meta["data_shape"]) == [1, 28, 28]
    assert ckpt.meta["zoo_version"] == zoo.__version__
    loaded = load_model(path)
    for key, value in trained.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    assert torch.equal(trained.sample(4, seed=1), loaded.sample(4, seed=1))


def test_optimizer_state_round_trips(trained, tmp_path):
    from zoo.store.checkpoint import restore_optimizers

    path = save_checkpoint(tmp_path / "c.safetensors", trained, step=1, optimizers=trained.optimizers)
    fresh = zoo.create_model("toy-gan")
    fresh.optimizers = fresh.configure_optimizers()
    restore_optimizers(load_checkpoint(path), fresh.optimizers)
    for name, opt in trained.optimizers.items():
        a, b = opt.state_dict(), fresh.optimizers[name].state_dict()
        assert a["param_groups"] == b["param_groups"]
        for pid, state in a["state"].items():
            for key, value in state.items():
                assert torch.equal(value, b["state"][pid][key])


def test_a_crash_mid_save_keeps_the_previous_checkpoint(trained, tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.safetensors", trained, step=1)
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, trained, step=2)
    assert path.read_bytes() == before
    assert load_checkpoint(path).step == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.safetensors"]


@pytest.mark.parametrize("content, message", [
    (b"", "not a readable safetensors checkpoint"),
    (b"PK\x03\x04 this is a zip, maybe a torch pickle", "not a readable safetensors checkpoint"),
])
def test_non_safetensors_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "c.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_truncated_checkpoint(trained, tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", trained)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="not a readable safetensors checkpoint"):
        load_checkpoint(path)


def test_foreign_safetensors_file(tmp_path):
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match="not a zoo checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors")


def test_missing_plugin_names_the_distribution_to_install(trained, tmp_path, register_plugin):
    path = save_checkpoint(tmp_path / "c.safetensors", trained)
    from zoo.registry import plugin_host as plugins

    plugins.reset()  # the toy plugin is gone, as if uninstalled
    with pytest.raises(zoo.UnknownModelError, match="c.safetensors needs model 'toy-gan', which no installed plugin "
                       "provides; install registered in-process"):
        build_model(load_checkpoint(path))


def test_run_folder_is_accepted_for_its_checkpoint(trained, tmp_path):
    save_checkpoint(tmp_path / "checkpoint.safetensors", trained)
    assert load_checkpoint(tmp_path).architecture == "toy-gan"
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nothing-here")
