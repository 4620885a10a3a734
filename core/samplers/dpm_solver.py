"""DPM-Solver++(2M) (Lu et al. 2022), multistep and in data-prediction form, for any denoiser on a Gaussian path
x = alpha * image + sigma * noise (diffusion with epsilon or v prediction, flow matching with velocity).

With lambda = log(alpha / sigma) and h the step in lambda, each step is exact for a constant predicted image D:
x' = (sigma' / sigma) x - alpha' (e^-h - 1) D. The second order takes D from the last two predictions,
D = (1 + 1/(2r)) image - 1/(2r) previous image, r the ratio of the previous step in lambda to this one. The steps
are spread on the flow's clock alpha / (alpha + sigma), shifted towards the noise, on a flow and a diffusion alike
(:func:`zoo.samplers.paths.solver_path`).
The first step (no previous image, or one from pure noise at lambda = -inf) and the last (onto the clean
image, lambda = inf) are first order, as the authors' solver takes its last step for few steps."""

from __future__ import annotations

import math

from zoo.samplers.paths import predicted_image, solver_path


def dpm_solver_pp(model, z, labels, settings):
    points = solver_path(model, settings.steps, settings.time_shift)
    x, previous, previous_h = z, None, math.inf
    for here, there in model.progress(list(zip(points[:-1], points[1:]))):
        image = predicted_image(model, x, here, labels, settings)
        h = there.log_snr - here.log_snr
        if there.sigma == 0:  # onto the image: h is infinite, the step first order
            x = there.alpha * image
        else:
            estimate = image
            if settings.order == 2 and previous is not None and math.isfinite(previous_h):
                r = previous_h / h
                estimate = (1 + 1 / (2 * r)) * image - (1 / (2 * r)) * previous
            x = (there.sigma / here.sigma) * x - there.alpha * math.expm1(-h) * estimate
        previous, previous_h = image, h
    return x
