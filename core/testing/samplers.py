"""The check every sampler passes (:func:`check_sampler`), and :class:`GaussianData`, a stand-in denoiser whose
network is exact, so a sampler's result can be compared with the answer."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import torch

from zoo.denoising.model import Denoiser
from zoo.registry.models import get_model, list_models
from zoo.samplers import get_sampler
from zoo.testing.architectures import tiny_model

STEPS_TO_CONVERGE = 200  # DDPM's ancestral sampler is 8.5 % short of the spread at 50, 2.4 % at 200


def stand_in_levels(steps: int) -> torch.Tensor:
    """a_t, the signal kept at each of ``steps`` steps, noise last: evenly spaced in log-SNR from 0.9999 to 1e-4.
    Any decreasing levels serve a sampler's check; these are no model's schedule."""
    edge = math.log(0.9999 / 1e-4)
    return torch.sigmoid(torch.linspace(edge, -edge, steps, dtype=torch.float64)).float()


class GaussianData:
    """A denoiser of data N(0, s^2 I) with the exact network for its ``prediction`` (``velocity``, ``epsilon`` or
    ``v``): every sampler that walks the path as documented (:mod:`zoo.samplers.paths`) draws images of standard
    deviation ``s`` from noise of standard deviation 1, and a deterministic one lands on :meth:`exact`. It offers
    what a sampler may use of a model: ``prediction``, ``predict``, ``progress`` and ``noise_generator``, and for
    diffusion ``levels``, ``time`` and ``image_and_noise``."""

    PREDICTIONS = ("velocity", "epsilon", "v")
    noise_generator = staticmethod(Denoiser.noise_generator)

    def __init__(self, prediction: str, s: float = 0.4):
        if prediction not in self.PREDICTIONS:
            raise ValueError(f"no Gaussian stand-in predicts {prediction!r}: one of {', '.join(self.PREDICTIONS)}")
        self.prediction, self.s, self.name = prediction, s, f"gaussian-{prediction}"
        self.levels = stand_in_levels(1000)

    def progress(self, steps):
        return iter(steps)

    def time(self, t):
        return t

    def predict(self, x, t, labels=None, settings=None, step_size=None):
        s2 = self.s ** 2
        if self.prediction == "velocity":  # the mean of image - noise given x_t = (1 - t) noise + t image
            t = float(t)
            return (t * s2 - (1 - t)) / (t * t * s2 + (1 - t) ** 2) * x
        a = float(self.levels.double()[int(t)])
        alpha, sigma = math.sqrt(a), math.sqrt(1 - a)
        noise = sigma / (a * s2 + 1 - a) * x
        if self.prediction == "epsilon":
            return noise
        return (alpha * sigma * (1 - s2)) / (a * s2 + 1 - a) * x  # v = alpha noise - sigma image

    def image_and_noise(self, x, a, output):
        alpha, sigma = math.sqrt(a), math.sqrt(1 - a)
        if self.prediction == "epsilon":
            return (x - sigma * output) / alpha, output
        return alpha * x - sigma * output, sigma * x + alpha * output

    def exact(self, z: torch.Tensor) -> torch.Tensor:
        """Where the probability-flow ODE from the noise ``z`` ends."""
        if self.prediction == "velocity":
            return self.s * z
        a = float(self.levels.double()[-1])
        return self.s * z / math.sqrt(a * self.s ** 2 + 1 - a)


def _settings(spec, model, steps: int):
    if hasattr(model, "sampling_settings"):  # a real model checks them as zoo sample does
        return model.sampling_settings({"sampler": spec.name, "steps": steps})
    own = vars(spec.options()) if spec.options is not None else {}
    return SimpleNamespace(sampler=spec.name, steps=steps, guidance=1.0, ema=True, **own)


def _draw(spec, model, z, steps: int) -> tuple[torch.Tensor, int, int]:
    """The images drawn from ``z`` in ``steps`` steps, the network evaluations and the progress reports taken."""
    counted = {"predict": 0, "progress": 0}
    predict, progress = model.predict, model.progress

    def counting_predict(*args, **kwargs):
        counted["predict"] += 1
        return predict(*args, **kwargs)

    def counting_progress(items):
        counted["progress"] += 1
        return progress(items)

    model.predict, model.progress = counting_predict, counting_progress
    try:
        with torch.no_grad():
            images = spec.load()(model, z, None, _settings(spec, model, steps))
    finally:
        del model.predict, model.progress
    return images, counted["predict"], counted["progress"]


def check_sampler(name: str, tmp_path: Path | None = None, model=None) -> None:
    """The sampler describes itself (a summary, the predictions it serves, help for every option, a cost that
    grows with the steps); drawing takes exactly the network evaluations it declares, reports progress, gives
    images of the noise's shape, finite and the same for the same noise, and neither changes the noise nor draws
    from the global random stream (training's). On :class:`GaussianData` of each prediction it serves, its images
    after 200 steps have the data's spread (within 10 %) (it walks the path in zoo's direction and convention).

    A sampler serving a prediction zoo has no stand-in for is checked, for everything but the data's spread, on
    ``model`` (``zoo.testing.tiny_model("shortcut")``), or else on every installed model whose class predicts it."""
    spec = get_sampler(name)
    assert spec.summary, f"sampler {name}: no one-line summary"
    assert spec.serves, f"sampler {name}: serves no prediction"
    assert all(o.help for o in spec.describe_options()), f"sampler {name}: an option has no help"
    costs = [spec.evaluations(steps) for steps in range(1, 21)]
    assert all(isinstance(c, int) and c >= 1 for c in costs) and costs == sorted(costs) and costs[-1] > costs[0], (
        f"sampler {name}: evaluations(steps) for 1 to 20 steps gave {costs}: whole numbers >= 1, growing with the steps")
    if model is None:
        models = [GaussianData(p) for p in spec.serves if p in GaussianData.PREDICTIONS]
        models = models or [tiny_model(m) for m in list_models() if getattr(get_model(m).load(), "prediction", None)
                            in spec.serves]
        assert models, (f"sampler {name} serves {', '.join(spec.serves)}, which zoo.testing has no stand-in for and "
                        "no installed model's class predicts: check_sampler(name, model=a model predicting it)")
    else:
        assert model.prediction in spec.serves, f"sampler {name} does not serve {model.name}'s {model.prediction!r}"
        models = [model.eval()]
    for served in models:
        shape = getattr(served, "data_shape", (1, 8, 8))
        _draws_as_declared(spec, served, torch.randn(4, *shape, generator=torch.Generator().manual_seed(0)))
        if isinstance(served, GaussianData):
            _draws_the_data(spec, served)


def _draws_as_declared(spec, model, z: torch.Tensor) -> None:
    where = f"sampler {spec.name} on {model.name} ({model.prediction})"
    noise, stream = z.clone(), torch.get_rng_state()
    for steps in (2, 5):
        images, evaluations, progress = _draw(spec, model, z, steps)
        assert evaluations == spec.evaluations(steps), (
            f"{where}: {evaluations} network evaluations in {steps} steps, {spec.evaluations(steps)} declared")
        assert progress >= 1, f"{where}: never reported progress (loop over model.progress(...))"
        assert images.shape == z.shape and torch.isfinite(images).all(), f"{where}: images {tuple(images.shape)} or not finite"
        again, _, _ = _draw(spec, model, z, steps)
        assert torch.equal(images, again), f"{where}: the same noise drew other images (seed fresh noise from model.noise_generator(z))"
    assert torch.equal(z, noise), f"{where}: changed the noise it was given, in place"
    assert torch.equal(stream, torch.get_rng_state()), (
        f"{where}: drew from the global random stream, so sampling during training would change the training "
        "(draw fresh noise from model.noise_generator(z))")


def _draws_the_data(spec, model: GaussianData) -> None:
    z = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    images, _, _ = _draw(spec, model, z, STEPS_TO_CONVERGE)
    spread, centre = float(images.std()), float(images.mean())
    assert abs(spread / model.s - 1) < 0.1 and abs(centre) < 0.05, (
        f"sampler {spec.name} does not walk from noise (t = 0, the last level) to the image (t = 1, the first) as "
        f"zoo.samplers.paths describes: on data N(0, {model.s}^2) with an exact {model.prediction} network it drew "
        f"images of mean {centre:.3f} and spread {spread:.3f} in {STEPS_TO_CONVERGE} steps")
