"""Samplers as a registered kind: the built-in ones draw exactly what the samplers welded into ddpm and
flow-matching drew before (bit for bit), cost what they declare, solve a known ODE to their order, and are chosen
with --sampler on zoo sample and zoo eval, which record them."""

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import zoo
from zoo.config import option
from zoo.samplers import get_sampler, list_samplers, samplers_for
from zoo.testing import GaussianData

TINY = dict(width=8, multipliers="1", attention=False)


def _perturbed(name, **config):
    """A tiny model whose network (and EMA) have non-trivial weights, so its samples depend on every step."""
    torch.manual_seed(0)
    model = zoo.create_model(name, **TINY, **config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape))  # drawn in logical order, whatever the layout
    return model.eval()


# --- the samplers as they were welded into the models (zoo 0.8.0), copied verbatim ---------------------------
def old_ddpm_generate(self, z, labels=None, settings=None):
    steps = min(settings.steps, self.config.timesteps)
    ts = torch.linspace(self.config.timesteps - 1, 0, steps).round().long().tolist()
    levels = self.levels.double().tolist()
    stochastic = settings.sampler == "ddpm"
    generator = self.noise_generator(z) if stochastic else None
    x = z
    for i in self.progress(range(steps)):
        a = levels[ts[i]]
        a_next = levels[ts[i + 1]] if i + 1 < steps else 1.0
        image, noise = self.image_and_noise(x, a, self.predict(x, self.time(ts[i]), labels, settings))
        sigma = math.sqrt((1 - a_next) / (1 - a) * (1 - a / a_next)) if stochastic else 0.0
        x = a_next ** 0.5 * image + math.sqrt(max(1 - a_next - sigma ** 2, 0.0)) * noise
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x


def old_flow_generate(self, z, labels=None, settings=None):
    steps, heun = settings.steps, settings.sampler == "heun"
    times = torch.linspace(0.0, 1.0, steps + 1).tolist()
    x = z
    for t, t_next in self.progress(list(zip(times[:-1], times[1:]))):
        velocity = self.predict(x, t, labels, settings)
        proposal = x + (t_next - t) * velocity
        if heun and t_next < 1:  # since zoo 0.10 (EDM's last step): the one deliberate change
            velocity = (velocity + self.predict(proposal, t_next, labels, settings)) / 2
            proposal = x + (t_next - t) * velocity
        x = proposal
    return x


def test_the_time_shift_spends_the_steps_near_the_noise():
    from zoo.samplers.paths import flow_times, solver_path

    assert flow_times(4, 3.0) == pytest.approx([0.0, 0.1, 0.25, 0.5, 1.0])  # u / (u + 3 (1 - u))
    assert flow_times(4, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    ddpm = zoo.create_model("ddpm", **TINY)
    for shift in (1.0, 3.0):
        points = solver_path(ddpm, 10, shift)
        signal = [p.alpha for p in points]
        assert len(points) == 11 and signal == sorted(signal) and signal[-1] == 1.0
    # shifted, the first half of a diffusion's 10 evaluations are at noisier levels than evenly spaced ones
    assert solver_path(ddpm, 10, 3.0)[5].alpha < solver_path(ddpm, 10, 1.0)[5].alpha
    settings = zoo.create_model("flow-matching", **TINY).sampling_settings({"sampler": "euler", "time_shift": 2})
    assert settings.time_shift == 2.0
    with pytest.raises(zoo.ConfigError, match="time_shift"):
        zoo.create_model("flow-matching", **TINY).sampling_settings({"time_shift": 0})


@pytest.mark.parametrize("name, config, sampling, old", [
    # DDIM, 50 steps, v prediction, cosine schedule: zoo-ddpm's default before 0.5
    ("ddpm", {}, {"sampler": "ddim", "steps": 50}, old_ddpm_generate),
    ("ddpm", {"prediction": "epsilon", "schedule": "linear"}, {"sampler": "ddim", "steps": 7}, old_ddpm_generate),
    ("ddpm", {}, {"sampler": "ddpm", "steps": 6}, old_ddpm_generate),
    ("ddpm", {"conditional": True}, {"sampler": "ddim", "steps": 5, "guidance": 2.0}, old_ddpm_generate),
    # flows unshifted, as they stepped before the time shift (zoo 0.10)
    ("flow-matching", {}, {"sampler": "heun", "steps": 20, "time_shift": 1}, old_flow_generate),  # the old default
    ("flow-matching", {}, {"sampler": "euler", "steps": 5, "time_shift": 1}, old_flow_generate),
    ("flow-matching", {"conditional": True}, {"sampler": "heun", "steps": 3, "time_shift": 1}, old_flow_generate),
], ids=["ddim-50", "ddim-epsilon-linear", "ancestral", "ddim-guided", "heun-unshifted", "euler", "heun-guided"])
def test_the_registered_samplers_draw_bit_for_bit_what_the_models_drew_before(name, config, sampling, old):
    conditional = config.get("conditional", False)
    model = _perturbed(name, **config) if not conditional else None
    if conditional:
        torch.manual_seed(0)
        model = zoo.create_model(name, num_classes=3, **TINY, **config)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.05 * torch.randn(p.shape))  # drawn in logical order, whatever the layout
    settings = model.sampling_settings(sampling)
    z = model.latent_for_sampling(4, seed=1)
    labels = torch.tensor([0, 1, 2, 0]) if conditional else None
    with torch.no_grad():
        expected = old(model, z, labels, settings)
        drawn = model.generate(z, labels, settings)
    assert expected.abs().max() > 0.1
    assert torch.equal(drawn, expected)


def test_samplers_are_a_kind_each_serving_the_predictions_it_declares(zoo_cli):
    builtin = [name for name in list_samplers() if get_sampler(name).distribution == "zoo-core"]
    assert builtin == ["ddim", "ddpm", "dpm-solver++", "euler", "heun"]
    assert samplers_for("v") == samplers_for("epsilon") == ["ddim", "ddpm", "dpm-solver++"]
    assert samplers_for("velocity") == ["dpm-solver++", "euler", "heun"]
    code, out, _ = zoo_cli("list", "--kind", "samplers")
    assert code == 0 and "dpm-solver++" in out and "Lu et al. 2022" in out
    code, out, err = zoo_cli("info", "dpm-solver++")
    assert code == 0, err
    assert "serves: epsilon, v, velocity" in out and "--order" in out and "10 steps: 10" in out
    code, out, _ = zoo_cli("info", "--kind", "samplers", "ddpm")  # the sampler, not the model of that name
    assert code == 0 and "ancestral" in out and "serves: epsilon, v" in out
    about = json.loads(zoo_cli("info", "heun", "--json")[1])
    assert about["serves"] == ["velocity"] and about["evaluations"]["10"] == 19 and list(about["options"]) == ["time_shift"]


@pytest.mark.parametrize("name, sampler", [("ddpm", "ddim"), ("ddpm", "ddpm"), ("ddpm", "dpm-solver++"),
                                           ("flow-matching", "euler"), ("flow-matching", "heun"),
                                           ("flow-matching", "dpm-solver++")])
def test_each_sampler_costs_the_network_evaluations_it_declares(name, sampler):
    model = _perturbed(name)
    calls = []
    forward = model.network_ema.forward
    model.network_ema.forward = lambda *args, **kw: calls.append(1) or forward(*args, **kw)
    images = model.sample(3, seed=0, sampling={"sampler": sampler, "steps": 5})
    assert images.shape == (3, 1, 28, 28) and torch.isfinite(images).all()
    assert len(calls) == get_sampler(sampler).evaluations(5)


def test_a_model_is_offered_only_the_samplers_that_serve_it_and_their_options_only_while_chosen():
    model = zoo.create_model("ddpm", **TINY)
    with pytest.raises(zoo.ConfigError, match="ddpm predicts v.*choose one of: ddim, ddpm, dpm-solver"):
        model.sampling_settings({"sampler": "heun"})
    with pytest.raises(zoo.ConfigError, match="order.*choose one of"):
        model.sampling_settings({"order": "3"})
    settings = model.sampling_settings({"order": "1"})
    assert settings.order == 1 and settings.sampler == "dpm-solver++"
    assert model.sampling_settings(settings) is settings
    switched = model.sampling_settings({"sampler": "ddim", "eta": "0.5"})
    assert vars(switched) == {"guidance": 1.5, "ema": True, "sampler": "ddim", "steps": 10, "eta": 0.5}
    with pytest.raises(zoo.ConfigError, match="eta.*at most 1"):
        model.sampling_settings({"sampler": "ddim", "eta": "2"})
    with pytest.raises(zoo.ConfigError, match="unknown sampling option 'eta'"):
        model.sampling_settings({"sampler": "ddpm", "eta": "0.5"})


@dataclass
class _Settings:
    steps: int
    order: int = 2
    eta: float = 0.0
    time_shift: float = 1.0  # evenly: the order of a solver on an exact ODE (the default shift suits trained networks)


@pytest.mark.parametrize("prediction, first_order", [("velocity", "euler"), ("epsilon", "ddim")])
def test_dpm_solver_is_second_order_where_the_first_order_sampler_is_not(prediction, first_order):
    model = GaussianData(prediction)
    z = 0.5 * torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def error(sampler, steps, **options):
        drawn = get_sampler(sampler).load()(model, z, None, _Settings(steps, **options))
        return float((drawn - model.exact(z)).abs().max())

    assert error("dpm-solver++", 10) < 0.3 * error(first_order, 10)
    assert error("dpm-solver++", 10, order=1) > 3 * error("dpm-solver++", 10)
    # four times the steps: a first-order solver's error falls to a quarter, a second-order one's far further
    assert error("dpm-solver++", 160) < 0.15 * error("dpm-solver++", 40)
    # the default shift keeps it converging to the ODE's solution (later: from 160 to 640 steps, 9x)
    assert error("dpm-solver++", 640, time_shift=3.0) < 0.15 * error("dpm-solver++", 160, time_shift=3.0)


def test_a_third_party_sampler_serves_every_model_of_its_prediction_and_can_be_refused(register_plugin):
    @dataclass
    class MidpointOptions:
        shift: float = option(0.5, "where in the step the slope is taken", minimum=0.0, maximum=1.0)

    def midpoint(model, z, labels, settings):
        x, dt = z, 1 / settings.steps
        for i in model.progress(range(settings.steps)):
            t = i * dt
            half = x + settings.shift * dt * model.predict(x, t, labels, settings)
            x = x + dt * model.predict(half, t + settings.shift * dt, labels, settings)
        return x

    class Plugin:
        @zoo.hookimpl
        def register_samplers(self, register):
            register("midpoint", midpoint, serves=("velocity",), options=MidpointOptions,
                     evaluations=lambda steps: 2 * steps, summary="explicit midpoint")
            register("bad", midpoint, serves="velocity")

    register_plugin(Plugin(), "midpoint-plugin")
    assert "midpoint" in samplers_for("velocity") and "bad" not in list_samplers()
    model = _perturbed("flow-matching")
    images = model.sample(2, seed=0, sampling={"sampler": "midpoint", "steps": 3, "shift": "0.25"})
    assert images.shape == (2, 1, 28, 28)
    with pytest.raises(zoo.ConfigError, match="choose one of: ddim, ddpm, dpm-solver"):
        zoo.create_model("ddpm", **TINY).sampling_settings({"sampler": "midpoint"})


def test_an_old_model_folder_setting_still_samples(tmp_path):
    model = zoo.create_model("ddpm", **TINY, sampling_defaults={"sampler": "ddim", "steps": 3, "guidance": 1.5,
                                                                 "ema": True})
    assert vars(model.default_sampling) == {"guidance": 1.5, "ema": True, "sampler": "ddim", "steps": 3, "eta": 0.0}
    assert model.sample(2, seed=0).shape == (2, 1, 28, 28)


@pytest.fixture
def ddpm_run(zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "ddpm"
    code, _, err = zoo_cli("train", "ddpm", "--data", tiny_npz, "--out", out, "--steps", "2", "--batch-size", "8", "--quiet",
                           *[arg for key, value in TINY.items() for arg in ("--set", f"{key}={value}")])
    assert code == 0, err
    return out


def test_sample_and_eval_choose_the_sampler_and_eval_records_it(ddpm_run, zoo_cli, tiny_eval_data, tmp_path):
    drawn = {}
    for sampler in ("ddim", "dpm-solver++"):
        out = tmp_path / f"{sampler}.npz"
        code, _, err = zoo_cli("sample", ddpm_run, "-n", "2", "--out", out, "--sampler", sampler, "--steps", "3")
        assert code == 0, err
        drawn[sampler] = np.load(out)["images"]
    assert not np.array_equal(drawn["ddim"], drawn["dpm-solver++"])
    code, _, err = zoo_cli("sample", ddpm_run, "-n", "2", "--out", tmp_path / "x.png", "--sampler", "heun")
    assert code == 1 and "ddpm predicts v" in err and "choose one of: ddim, ddpm, dpm-solver++" in err
    code, out, err = zoo_cli("eval", ddpm_run, "-n", "10", "--sampler", "ddim", "--steps", "2", "--eta", "0.5",
                             "--data", tiny_eval_data)
    assert code == 0, err
    assert "sampler ddim, steps 2, eta 0.5; 2 network evaluations per image" in out
    saved = json.loads((ddpm_run / "eval.json").read_text())
    assert saved["info"]["sampler"] == {"name": "ddim", "options": {"eta": 0.5}, "evaluations": 2}
    assert "2 network evaluations per image" in (ddpm_run / "report.html").read_text()


def test_eval_prints_quality_against_cost_for_a_list_of_settings(ddpm_run, zoo_cli, tiny_eval_data):
    code, out, err = zoo_cli("eval", ddpm_run, "-n", "10", "--steps", "1,3", "--sampler", "ddim,dpm-solver++",
                             "--data", tiny_eval_data)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["sampler", "steps", "eta", "time_shift", "order", "evaluations", "FID", "s", "/",
                                "1,000", "images"]
    assert [line.split()[:6] for line in lines[1:]] == [  # every combination, the first option given outermost
        ["ddim", "1", "0.0", "-", "-", "1"], ["dpm-solver++", "1", "-", "3.0", "2", "1"],
        ["ddim", "3", "0.0", "-", "-", "3"], ["dpm-solver++", "3", "-", "3.0", "2", "3"]]
    rows = json.loads(zoo_cli("eval", ddpm_run, "-n", "10", "--steps", "1,2", "--json", "--data", tiny_eval_data)[1])
    assert [row["evaluations"] for row in rows] == [1, 2] and all(row["fid"] > 0 for row in rows)
