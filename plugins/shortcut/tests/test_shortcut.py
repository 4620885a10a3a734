import numpy as np
import pytest
import torch

import zoo
from zoo.architecture import Batch
from zoo.samplers import get_sampler, samplers_for
from zoo.testing import ARCHITECTURE_CHECKS, check_resume_exact, check_sampler

TINY = dict(width=8, multipliers="1", attention=False)


def run_zoo(capsys, *args):
    """The real ``zoo`` entry point in-process: (exit code, stdout, stderr)."""
    from zoo.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def perturbed(**config):
    """A tiny model whose network and EMA have non-trivial weights, the step size's embedding included."""
    torch.manual_seed(0)
    model = zoo.create_model("shortcut", **{**TINY, **config})
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape))  # drawn in logical order, whatever the layout
    return model.eval()


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check("shortcut", tmp_path)


def test_its_sampler_passes_zoos_sampler_check_on_the_installed_model_and_a_perturbed_one():
    check_sampler("shortcut")
    check_sampler("shortcut", model=perturbed())


def test_the_conditional_variant_resumes_exactly(tmp_path):
    check_resume_exact("shortcut", tmp_path, conditional=True, **TINY)


def test_registry_finds_it_after_install():
    spec = zoo.get_model("shortcut")
    assert spec.distribution == "zoo-shortcut" and "Frans" in spec.summary
    defaults = {o.name: o.default for o in spec.describe_sampling()}
    assert defaults.keys() == {"sampler", "steps", "guidance", "ema"}
    assert defaults["sampler"] == "shortcut" and defaults["steps"] == 4


def test_the_loss_falls_on_a_tiny_batch():
    torch.manual_seed(0)
    model = zoo.create_model("shortcut", lr=3e-3, **TINY).train()
    model.optimizers = model.configure_optimizers()
    images = (torch.rand(1, 1, 28, 28).round() * 2 - 1).expand(8, -1, -1, -1)  # one image: the flow is learnable
    losses = [model.training_step(Batch(images, None), step)["loss"].item() for step in range(60)]
    assert np.mean(losses[-10:]) < 0.85 * np.mean(losses[:10]), losses


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_it_samples_in_one_two_and_four_steps_one_evaluation_each(steps):
    model = perturbed()
    heard = []
    images = model.sample(3, seed=0, sampling={"steps": steps}, progress=lambda done, total: heard.append(done))
    assert images.shape == (3, 1, 28, 28) and torch.isfinite(images).all()
    assert heard == list(range(1, steps + 1))
    assert get_sampler("shortcut").evaluations(4) == 4


def test_a_conditional_model_draws_a_label_with_guidance_in_one_step():
    model = perturbed(conditional=True, num_classes=3)
    labels = torch.tensor([0, 2])
    guided = model.sample(2, seed=0, labels=labels, sampling={"steps": 1, "guidance": 2.0})
    plain = model.sample(2, seed=0, labels=labels, sampling={"steps": 1, "guidance": 1.0})
    assert torch.isfinite(guided).all() and not torch.equal(guided, plain)


def test_the_sampler_jumps_from_noise_to_the_image_in_steps_of_one_over_steps():
    """Given the exact mean velocity toward one image, (image - x) / (1 - t), every step count lands on it, asking
    for times 0, d, 2d, ... and the step d = 1 / steps."""
    model, image, asked = zoo.create_model("shortcut", **TINY), torch.rand(1, 1, 28, 28) * 2 - 1, []

    def predict(x, t, labels, settings, step_size):
        asked.append((t, step_size))
        return (image - x) / (1 - t)

    model.predict = predict
    for steps in (1, 2, 4):
        asked.clear()
        assert torch.allclose(model.sample(2, seed=0, sampling={"steps": steps}), image.expand(2, -1, -1, -1), atol=1e-5)
        assert asked == [(i / steps, 1 / steps) for i in range(steps)]


def test_the_network_is_told_the_step_and_the_flow_shares_the_finest_ones_embedding():
    model, x, t = perturbed(base_steps=64), torch.randn(2, 1, 28, 28), 0.25
    settings = model.sampling_settings()
    flow = model.predict(x, t, None, settings)
    assert torch.equal(flow, model.predict(x, t, None, settings, step_size=1 / 64))
    assert torch.equal(flow, model.predict(x, t, None, settings, step_size=1 / 512))  # finer than trained: the flow
    assert not torch.allclose(flow, model.predict(x, t, None, settings, step_size=0.5))


def test_self_consistency_steps_halve_powers_of_two_on_their_grid():
    model = zoo.create_model("shortcut", base_steps=16, **TINY)
    torch.manual_seed(0)
    d, t = model.consistency_steps(4000, "cpu")
    assert set(d.tolist()) == {1 / 2, 1 / 4, 1 / 8, 1 / 16}
    assert torch.equal(torch.remainder(t, 2 * d), torch.zeros_like(t)) and (t + 2 * d <= 1).all()
    assert (t[d == 1 / 2] == 0).all() and len(set(t[d == 1 / 16].tolist())) == 8


@pytest.mark.parametrize("targets", ["live", "ema"])
def test_one_jump_of_2d_is_trained_to_land_where_two_of_d_do(targets):
    model = perturbed(consistency_targets=targets)
    network = model.network if targets == "live" else model.network_ema
    x, t, d = torch.randn(3, 1, 28, 28), torch.tensor([0.0, 0.25, 0.5]), torch.tensor([0.5, 0.125, 0.25])
    with torch.no_grad():
        step = model.network_step_size(d)
        middle = x + d[:, None, None, None] * network(x, t, None, step)
        two_steps = middle + d[:, None, None, None] * network(middle, t + d, None, step)
    one_jump = x + 2 * d[:, None, None, None] * model.consistency_target(x, t, d, None)
    torch.testing.assert_close(one_jump, two_steps)


def test_ema_targets_need_an_ema():
    with pytest.raises(zoo.ConfigError, match="ema_decay"):
        zoo.create_model("shortcut", consistency_targets="ema", ema_decay=0.0, **TINY)


def test_its_sampler_is_listed_and_offered_to_shortcut_models_only(capsys):
    code, out, _ = run_zoo(capsys, "list", "--kind", "samplers")
    assert code == 0 and "shortcut" in out
    assert samplers_for("shortcut-velocity") == ["shortcut"]
    assert not {"shortcut"} & set(samplers_for("velocity") + samplers_for("epsilon") + samplers_for("v"))
    for name in ("flow-matching", "ddpm"):
        with pytest.raises(zoo.ConfigError, match="choose one of"):
            zoo.create_model(name, **TINY).sampling_settings({"sampler": "shortcut"})


def test_trained_on_the_command_line_it_samples_in_one_step(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    data = tmp_path / "tiny.npz"
    np.savez(data, images=np.random.default_rng(0).integers(0, 256, (32, 28, 28), dtype=np.uint8))
    run = tmp_path / "run"
    code, _, err = run_zoo(capsys, "train", "shortcut", "--data", data, "--steps", 3, "--batch-size", 8, "--out", run,
                           "--set", "width=8", "--set", "multipliers=1", "--set", "attention=false")
    assert code == 0, err
    for steps in (1, 2):
        grid = tmp_path / f"steps-{steps}.png"
        code, _, err = run_zoo(capsys, "sample", run, "-n", 4, "--steps", steps, "--out", grid)
        assert code == 0 and grid.stat().st_size > 0, err
