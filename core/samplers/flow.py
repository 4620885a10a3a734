"""Euler and Heun (2nd order) solvers for a ``velocity`` denoiser: they integrate the predicted velocity from
noise at t = 0 to an image at t = 1, the steps shifted towards the noise (``--time-shift``).

Heun's step onto the image is Euler's, as in EDM (Karras et al. 2022, Algorithm 1): a correction there would ask the
network for the velocity at t = 1, a time logit-normal training almost never shows it. On flow-matching's default
(seed 0, 20 steps) that read FID 91.5 with 39 evaluations against 95.2 with the correction's 40."""

from __future__ import annotations

from zoo.samplers.paths import flow_times


def _solve(model, z, labels, settings, heun: bool):
    times = flow_times(settings.steps, settings.time_shift)
    x = z
    for t, t_next in model.progress(list(zip(times[:-1], times[1:]))):
        velocity = model.predict(x, t, labels, settings)
        proposal = x + (t_next - t) * velocity
        if heun and t_next < 1:  # not onto the image
            velocity = (velocity + model.predict(proposal, t_next, labels, settings)) / 2
            proposal = x + (t_next - t) * velocity
        x = proposal
    return x


def euler(model, z, labels, settings):
    """Euler's method: one network evaluation a step."""
    return _solve(model, z, labels, settings, heun=False)


def heun(model, z, labels, settings):
    """Heun's method: an Euler step, corrected by the velocity at its end (two evaluations a step)."""
    return _solve(model, z, labels, settings, heun=True)
