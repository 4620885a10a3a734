"""zoo.testing.check_sampler: every registered sampler passes it, and it catches the mistakes a sampler's author
makes (walking the path backwards, miscounting its cost, drawing from the training's random stream, changing
the noise in place, no progress), each in a message that says what to do."""

import pytest
import torch

import zoo
from zoo.samplers import get_sampler, list_samplers
from zoo.samplers.paths import flow_times
from zoo.testing import GaussianData, check_sampler, tiny_model


@pytest.mark.parametrize("name", [n for n in list_samplers() if get_sampler(n).distribution == "zoo-core"])
def test_every_sampler_zoo_ships_passes_the_check(name):
    check_sampler(name)


def test_the_stand_in_is_exact_where_a_fine_solver_lands():  # images within [-1, 1], which DPM-Solver++ keeps to
    z = 0.5 * torch.randn(8, 1, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for prediction in GaussianData.PREDICTIONS:
        model = GaussianData(prediction)
        drawn = get_sampler("dpm-solver++").load()(model, z, None, _settings(400))
        assert float((drawn - model.exact(z)).abs().max()) < 1e-3, prediction


def _settings(steps):
    from types import SimpleNamespace

    return SimpleNamespace(steps=steps, order=2, time_shift=3.0, guidance=1.0, ema=True)  # the default shift


def euler(model, z, labels, settings, times=None):
    times = times or flow_times(settings.steps)
    x = z
    for t, t_next in model.progress(list(zip(times[:-1], times[1:]))):
        x = x + (t_next - t) * model.predict(x, t, labels, settings)
    return x


def backwards(model, z, labels, settings):  # t = 1 taken for the noise: the data's end
    return euler(model, z, labels, settings, times=flow_times(settings.steps)[::-1])


def twice(model, z, labels, settings):
    model.predict(z, 0.0, labels, settings)  # a wasted evaluation the declared cost leaves out
    return euler(model, z, labels, settings)


def noisy(model, z, labels, settings):
    return euler(model, z, labels, settings) + 1e-3 * torch.randn_like(z)


def reseeding(model, z, labels, settings):  # the same images for the same noise, but training's stream restarted
    torch.manual_seed(int(z.abs().sum() * 1000))
    return noisy(model, z, labels, settings)


def in_place(model, z, labels, settings):
    x = z
    for i in model.progress(range(settings.steps)):
        x += model.predict(x, i / settings.steps, labels, settings) / settings.steps
    return x


def silent(model, z, labels, settings):
    x = z
    for t, t_next in zip(flow_times(settings.steps)[:-1], flow_times(settings.steps)[1:]):
        x = x + (t_next - t) * model.predict(x, t, labels, settings)
    return x


@pytest.mark.parametrize("sample, says", [
    (backwards, "does not walk from noise"),
    (twice, "3 network evaluations in 2 steps, 2 declared"),
    (noisy, "the same noise drew other images"),
    (reseeding, "drew from the global random stream"),
    (in_place, "changed the noise it was given"),
    (silent, "never reported progress"),
], ids=lambda v: getattr(v, "__name__", "message"))
def test_the_check_catches_a_broken_sampler(register_plugin, sample, says):
    class Plugin:
        @zoo.hookimpl
        def register_samplers(self, register):
            register("broken", sample, serves=("velocity",), summary="a sampler with one mistake")
            register("fine", euler, serves=("velocity",), summary="Euler, as written in a plugin")

    register_plugin(Plugin(), "broken-samplers")
    check_sampler("fine")
    with pytest.raises(AssertionError, match=says):
        check_sampler("broken")


def test_a_prediction_without_a_stand_in_is_checked_on_a_model_that_makes_it(register_plugin):
    class Plugin:
        @zoo.hookimpl
        def register_samplers(self, register):
            register("own", euler, serves=("x0",), summary="for a model predicting the clean image")

    register_plugin(Plugin(), "own-prediction")
    with pytest.raises(AssertionError, match="no stand-in for and no installed model.s class predicts: check_sampler.name, model="):
        check_sampler("own")
    model = tiny_model("flow-matching", width=8, multipliers="1", attention=False)
    with pytest.raises(AssertionError, match="does not serve flow-matching's 'velocity'"):
        check_sampler("own", model=model)
    check_sampler("euler", model=model)
