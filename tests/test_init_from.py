"""zoo train --init-from: a new run that starts from an exported model's weights; the folder is only read."""

import json

import pytest
import torch

import zoo
from test_export import digest, export, train
from zoo.store.checkpoint import load_checkpoint


class FirstWeights(zoo.Callback):
    """Keeps the model's state_dict as the first step finds it."""

    def on_train_start(self, trainer):
        self.state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def start(folder, out, data, **options):
    """Plan a --init-from run as zoo train does and train it with FirstWeights watching."""
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    plan = plan_run(None, out=out, data=str(data), options={"steps": 2, "batch_size": 8, **options}, init_from=folder)
    watch = FirstWeights()
    trainer = Trainer.from_plan(plan, [watch])
    trainer.fit()
    return trainer, watch.state


def test_the_first_step_starts_from_the_exported_weights(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "full", "--weights", "all")
    before = digest(folder)
    trainer, first = start(folder, tmp_path / "tuned", tiny_npz)
    exported = load_checkpoint(folder).group("model.")
    assert set(first) == set(exported)
    for key, value in exported.items():
        assert torch.equal(first[key], value), key
    assert not torch.equal(trainer.model.state_dict()["generator.net.0.weight"], exported["generator.net.0.weight"])
    record = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert record["model"] == "dcgan" and record["config"]["width"] == 8, "the model and config come from the folder"
    assert record["init_from"] == {"source": str(folder), "model": "dcgan", "step": 3, "left_out": []}
    assert digest(folder) == before, "the folder was written to"


def test_zoo_train_init_from_on_the_command_line(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "model")
    before = digest(folder)
    code, _, err = zoo_cli("train", "--init-from", folder, "--data", tiny_npz, "--steps", "2", "--batch-size", "8",
                           "--quiet", "--out", tmp_path / "tuned")
    assert code == 0, err
    assert ("holds generator_ema only; generator starts from generator_ema; discriminator starts from initial "
            "weights") in err
    record = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert record["init_from"]["left_out"] == ["generator", "discriminator"]
    code, _, err = zoo_cli("train", "--resume", tmp_path / "tuned", "--steps", "3", "--quiet")
    assert code == 0, err
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["init_from"] == record["init_from"]
    assert digest(folder) == before


@pytest.mark.parametrize("model", ["dcgan", "flow-matching"])
def test_a_default_export_starts_the_network_it_left_out_from_its_ema(model, zoo_cli, tiny_npz, tmp_path):
    """A default (sampling-only) export keeps the EMA alone; fine-tuning from it starts the trained network from
    those averaged weights (before: from its initial weights), the discriminator fresh."""
    net = {"dcgan": "generator", "flow-matching": "network"}[model]
    extra = ("--set", "width=8", "--set", "multipliers=1") if model == "flow-matching" else ()
    run = train(zoo_cli, model, tiny_npz, tmp_path / "run", *extra)
    folder = export(zoo_cli, run, tmp_path / "model")
    assert net in load_checkpoint(folder).json("left_out")
    _, first = start(folder, tmp_path / "tuned", tiny_npz)
    ema = load_checkpoint(folder).group(f"model.{net}_ema.")
    assert ema and all(torch.equal(first[f"{net}.{key}"], value) for key, value in ema.items())
    if model == "dcgan":
        trained = load_checkpoint(run).group("model.discriminator.")
        assert not all(torch.equal(first[f"discriminator.{k}"], v) for k, v in trained.items() if v.is_floating_point())


def test_keys_given_override_the_folders_config_and_must_fit(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "model")
    code, _, err = zoo_cli("train", "dcgan", "--init-from", folder, "--data", tiny_npz, "--steps", "1",
                           "--set", "ema_decay=0.5", "--batch-size", "8", "--quiet", "--out", tmp_path / "ok")
    assert code == 0, err
    assert json.loads((tmp_path / "ok" / "config.json").read_text())["config"]["ema_decay"] == 0.5


@pytest.mark.parametrize("args, says", [
    (["cgan", "--init-from", "{folder}"], "holds a 'dcgan' model, not 'cgan'"),
    (["--init-from", "{folder}", "--set", "width=16"], "weights do not fit dcgan"),
    (["--init-from", "{folder}", "--data", "cifar10"], None),
    (["--init-from", "{folder}", "--resume", "{run}"], "--init-from starts a new run and --resume continues one"),
    (["--init-from", "{tmp}/nothing"], "no such checkpoint"),
    (["--init-from", "hf://owner"], "not hf://owner/name"),
])
def test_init_from_mistakes_are_one_line_and_write_nothing(args, says, zoo_cli, tiny_npz, tmp_path, monkeypatch):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "model")
    if "cifar10" in args:  # a dataset of another shape, without a download
        from zoo import datasets
        from zoo.datasets import ImageData

        monkeypatch.setattr(datasets, "load", lambda *a, **k: ImageData(
            __import__("numpy").zeros((20, 3, 32, 32), "uint8"), None, "colour"))
        says = "makes 1x28x28 images; cifar10 has 3x32x32"
    before = digest(run)
    given = [a.format(folder=folder, run=run, tmp=tmp_path) for a in args]
    if "--data" not in given:
        given += ["--data", str(tiny_npz)]
    code, _, err = zoo_cli("train", *given, "--steps", "1", "--batch-size", "8", "--quiet", "--out", tmp_path / "new")
    assert code == 1 and err.startswith("Error: ") and says in err, err
    assert not (tmp_path / "new").exists() and digest(run) == before


def test_init_from_an_hf_model_offline(zoo_cli, tiny_npz, tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    from test_hub import cache_model, offline_cache

    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "model", "--weights", "all")
    cache_model(offline_cache(tmp_path, monkeypatch), "owner/name", folder)
    trainer, first = start("hf://owner/name", tmp_path / "tuned", tiny_npz)
    for key, value in load_checkpoint(folder).group("model.").items():
        assert torch.equal(first[key], value), key
    assert trainer.init_from["source"] == "hf://owner/name"
    assert "--init-from hf://OWNER/NAME" in (folder / "README.md").read_text()
