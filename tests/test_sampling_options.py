"""Sampling options a model declares (``register(..., sampling=...)``), set at sampling time from the command
line and from Python, with a sampler's progress; and a config that makes a model conditional."""

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import zoo
from zoo.config import option
from toy import ToyFlowConfig, ToyFlowPlugin, ToyFlowSampling


@pytest.fixture
def toy_flow(register_plugin):
    register_plugin(ToyFlowPlugin(), "toy-flow")
    return "toy-flow"


@pytest.fixture
def flow_run(toy_flow, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "flow"
    code, _, err = zoo_cli("train", toy_flow, "--data", tiny_npz, "--out", out, "--quiet")
    assert code == 0, err
    return out


def test_info_lists_the_sampling_options(toy_flow, zoo_cli):
    code, out, _ = zoo_cli("info", toy_flow)
    assert code == 0 and "sampling options" in out and "--steps" in out and "Euler steps" in out
    code, out, _ = zoo_cli("info", toy_flow, "--json")
    assert json.loads(out)["sampling"]["steps"] == {"type": "int", "default": 4, "help": "Euler steps"}


def test_models_without_sampling_options_list_none(toy, zoo_cli):
    code, out, _ = zoo_cli("info", toy)
    assert code == 0 and "sampling options" not in out
    assert json.loads(zoo_cli("info", toy, "--json")[1])["sampling"] == {}


def test_sample_takes_the_models_options_and_they_change_the_images(flow_run, zoo_cli, tmp_path):
    outputs = {}
    for steps in ("1", "4"):
        out = tmp_path / f"steps{steps}.npz"
        code, _, err = zoo_cli("sample", flow_run, "-n", "4", "--out", out, "--steps", steps)
        assert code == 0, err
        outputs[steps] = np.load(out)["images"]
    code, _, err = zoo_cli("sample", flow_run, "-n", "4", "--out", tmp_path / "default.npz")
    assert code == 0, err
    assert np.array_equal(np.load(tmp_path / "default.npz")["images"], outputs["4"])  # 4 is the default
    assert not np.array_equal(outputs["1"], outputs["4"])
    code, _, err = zoo_cli("sample", flow_run, "-n", "4", "--out", tmp_path / "eq.npz", "--steps=1")
    assert code == 0 and np.array_equal(np.load(tmp_path / "eq.npz")["images"], outputs["1"])
    code, _, err = zoo_cli("sample", "--steps", "1", flow_run, "-n", "4", "--out", tmp_path / "first.npz")  # any order
    assert code == 0 and np.array_equal(np.load(tmp_path / "first.npz")["images"], outputs["1"])


@pytest.mark.parametrize("args, message", [
    (["--steps", "0"], "toy-flow sampling option 'steps' must be at least 1, got 0"),
    (["--steps", "many"], "bad value 'many' for toy-flow sampling option 'steps' (int)"),
    (["--stepz", "3"], "unknown sampling option 'stepz' for toy-flow; did you mean 'steps'? valid options: guidance"),
    (["--steps"], "no such option: --steps"),
    (["3"], "Got unexpected extra argument (3)"),
])
def test_bad_sampling_options_are_one_line_errors(flow_run, zoo_cli, tmp_path, args, message):
    code, out, err = zoo_cli("sample", flow_run, "--out", tmp_path / "s.png", *args)
    assert code != 0 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.png").exists()


def test_a_model_without_sampling_options_refuses_them(toy, zoo_cli, tmp_path, tiny_npz):
    run = tmp_path / "gan"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--out", run, "--quiet")[0] == 0
    code, _, err = zoo_cli("sample", run, "--out", tmp_path / "s.png", "--steps", "3")
    assert code == 1 and "no such option: --steps (toy-gan has no sampling options" in err


def test_eval_samples_with_the_options_and_records_them(flow_run, zoo_cli, tiny_eval_data, tmp_path):
    code, out, err = zoo_cli("eval", flow_run, "-n", "10", "--json", "--steps", "2", "--data", tiny_eval_data)
    assert code == 0, err
    report = json.loads(out)
    assert report["info"]["sampling"] == {"guidance": 1.5, "ema": True, "steps": 2}
    code, out, err = zoo_cli("eval", flow_run, "-n", "10", "--steps", "2", "--data", tiny_eval_data)
    assert "10 samples (guidance 1.5, ema True, steps 2)" in out
    code, _, err = zoo_cli("eval", "--samples", tiny_eval_data, "--data", tiny_eval_data, "--steps", "2")
    assert code == 1 and "sampling options need a model" in err


def test_progress_off_a_terminal_is_lines_on_stderr(flow_run, zoo_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_PROGRESS_SECONDS", "0")
    code, out, err = zoo_cli("sample", flow_run, "-n", "2", "--out", tmp_path / "s.png", "--steps", "3")
    assert code == 0 and "toy-flow: sampling: step 1/3" in err and "step 3/3" in err
    assert "sampling" not in out  # stdout stays the result (zoo eval --json prints JSON there)


def test_sampling_settings_are_an_argument_and_the_model_keeps_its_defaults(toy_flow):
    model = zoo.create_model(toy_flow)
    before = dict(vars(model))
    heard = []
    model.sample(2, seed=0, sampling={"steps": 3}, progress=lambda done, total: heard.append((done, total)))
    assert heard == [(1, 3), (2, 3), (3, 3)] and model.default_sampling.steps == 4
    with pytest.raises(zoo.ConfigError):
        model.sample(2, sampling={"steps": -1})
    assert dict(vars(model)) == before  # sampling sets nothing on the model
    checked = model.sampling_settings({"steps": "3"})  # checked once, into the model's sampling dataclass
    assert type(checked) is model.sampling_class and checked.steps == 3
    assert torch.equal(model.sample(2, seed=0, sampling=checked), model.sample(2, seed=0, sampling={"steps": 3}))
    with torch.no_grad():
        direct = model.eval().generate(model.latent_for_sampling(2, 0), None, checked)
    assert torch.equal(direct.clamp(-1, 1), model.sample(2, seed=0, sampling=checked))


def test_the_registry_names_a_model_as_it_is_built_and_a_direct_construction_finds_its_registration(toy_flow):
    from toy_model import ToyFlow
    from zoo.denoising import DenoiserConfig

    built = zoo.create_model(toy_flow)
    assert built.name == toy_flow and type(built.default_sampling).__name__ == "ToyFlowSampling"
    direct = ToyFlow(DenoiserConfig(width=8))  # registered once, under toy-flow, as "toy_model:ToyFlow"
    assert direct.name == toy_flow and direct.default_sampling == built.default_sampling


def test_labels_for_an_unconditional_model_are_refused(toy_flow):
    with pytest.raises(zoo.ZooError, match="not conditional"):
        zoo.create_model(toy_flow).sample(2, labels=torch.tensor([0, 1]), sampling={"steps": 1})


def test_a_large_draw_is_sampled_in_chunks_with_labels_in_step_and_one_progress(toy_flow):
    model = zoo.create_model(toy_flow, num_classes=10, conditional=True)
    torch.manual_seed(0)
    with torch.no_grad():  # a fresh network's zero-initialised output would ignore the labels
        for weight in model.parameters():
            weight.add_(0.1 * torch.randn_like(weight))
    heard = []
    images = model.sample(300, seed=0, sampling={"steps": 2}, progress=lambda done, total: heard.append((done, total)))
    assert images.shape == (300, 1, 28, 28)
    assert heard == [(done, 6) for done in range(1, 7)]  # 128 + 128 + 44 images, two steps each
    z = model.latent_for_sampling(300, 0)
    for i in (5, 133, 299):  # one from each chunk, drawn alone with the label it was given (i % 10)
        alone = model.sample(1, z=z[i : i + 1], labels=torch.tensor([i % 10]), sampling={"steps": 2})
        assert torch.allclose(images[i], alone[0], atol=1e-5)
    assert not torch.allclose(images[133], model.sample(1, z=z[133:134], labels=torch.tensor([4]),
                                                        sampling={"steps": 2})[0], atol=1e-5)


def test_a_sampling_option_may_not_shadow_a_command_option(register_plugin, capsys):
    @dataclass
    class Clashing:
        seed: int = option(0, "a sampler seed")

    class Plugin:
        @zoo.hookimpl
        def register_architectures(self, register):
            register("clash", "toy_model:ToyFlow", config=ToyFlowConfig, sampling=Clashing)

    register_plugin(Plugin(), "clash")
    assert "clash" not in zoo.list_models()
    from zoo.registry import plugin_host

    assert any("sampling option seed would shadow" in str(failure) for failure in plugin_host.failures())


def test_a_config_field_makes_a_model_conditional(toy_flow, zoo_cli, tmp_path, tiny_npz):
    assert not zoo.get_model(toy_flow).is_conditional()
    assert zoo.get_model(toy_flow).is_conditional(conditional="true")
    with pytest.raises(zoo.DataError, match="is conditional: it needs a labelled dataset"):
        zoo.create_model(toy_flow, conditional=True)
    unlabelled = tmp_path / "unlabelled.npz"
    np.savez(unlabelled, images=np.load(tiny_npz)["images"])
    code, _, err = zoo_cli("train", toy_flow, "--data", unlabelled, "--set", "conditional=true", "--out", tmp_path / "u")
    assert code == 1 and "labels" in err
    run = tmp_path / "cond"
    assert zoo_cli("train", toy_flow, "--data", tiny_npz, "--set", "conditional=true", "--out", run, "--quiet")[0] == 0
    code, _, err = zoo_cli("sample", run, "--label", "1", "--guidance", "2", "-n", "2", "--out", tmp_path / "one.npz")
    assert code == 0, err
    assert list(np.load(tmp_path / "one.npz")["labels"]) == [1, 1]


def test_a_network_left_out_by_export_is_refused_not_used_with_fresh_weights(flow_run, zoo_cli, tmp_path):
    folder = tmp_path / "exported"
    code, _, err = zoo_cli("export", flow_run, folder)
    assert code == 0, err
    assert json.loads((folder / "config.json").read_text())["weights"]["left_out"] == ["network"]  # the EMA is kept
    assert zoo_cli("sample", folder, "-n", "2", "--out", tmp_path / "ema.png")[0] == 0
    code, _, err = zoo_cli("sample", folder, "-n", "2", "--out", tmp_path / "live.png", "--ema", "false")
    assert code == 1 and "holds no weights for network (zoo export left it out" in err and "Traceback" not in err
    assert not (tmp_path / "live.png").exists()


def test_a_model_folder_samples_with_the_settings_it_was_exported_with(flow_run, zoo_cli, tmp_path):
    from zoo.registry import plugin_host

    code, _, err = zoo_cli("export", flow_run, tmp_path / "folder", "--steps", "2")
    assert code == 0, err
    config = json.loads((tmp_path / "folder" / "config.json").read_text())
    assert config["sampling"] == {"guidance": 1.5, "ema": True, "steps": 2}

    def draw(source, *extra):
        out = tmp_path / f"draw{len(list(tmp_path.glob('draw*')))}.npz"
        code, _, err = zoo_cli("sample", source, "-n", "2", "--out", out, *extra)
        assert code == 0, err
        return np.load(out)["images"]

    exported, run_at_two = draw(tmp_path / "folder"), draw(flow_run, "--steps", "2")
    # a later version of the plugin changes its default: the folder samples as it did, the run by the new default
    @dataclass
    class NewDefault(ToyFlowSampling):
        steps: int = option(3, "Euler steps", minimum=1, maximum=1000)

    class NewVersion:
        @zoo.hookimpl
        def register_architectures(self, register):
            register("toy-flow", "toy_model:ToyFlow", config=ToyFlowConfig, sampling=NewDefault, summary="v2")

    manager = plugin_host.plugin_manager()
    old = manager.get_plugin("toy-flow")
    manager.unregister(old)
    manager.register(NewVersion(), name="toy-flow")
    assert zoo.create_model("toy-flow").default_sampling.steps == 3
    assert np.array_equal(draw(tmp_path / "folder"), exported) and np.array_equal(exported, run_at_two)
    assert not np.array_equal(draw(flow_run), run_at_two)
    assert np.array_equal(draw(tmp_path / "folder", "--steps", "3"), draw(flow_run))  # --steps still overrides
    manager.unregister(name="toy-flow")
    manager.register(old, name="toy-flow")


def test_export_refuses_a_sampling_option_the_model_does_not_have(flow_run, zoo_cli, tmp_path):
    code, _, err = zoo_cli("export", flow_run, tmp_path / "folder", "--stepz", "2")
    assert code == 1 and "stepz" in err and "Traceback" not in err and not (tmp_path / "folder").exists()
