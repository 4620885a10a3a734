"""DDIM (Song et al. 2021) and DDPM's ancestral sampler (Ho et al. 2020) for a diffusion denoiser (``epsilon``
or ``v`` prediction): each step predicts the image and its noise, then moves to the next level along them, with
fresh noise in proportion to ``eta`` (0: DDIM, deterministic; 1: the ancestral sampler)."""

from __future__ import annotations

import math

import torch

from zoo.samplers.paths import diffusion_path


def walk(model, z: torch.Tensor, labels, settings, eta: float) -> torch.Tensor:
    points = diffusion_path(model, settings.steps)
    generator = model.noise_generator(z) if eta > 0 else None
    x = z
    for here, there in model.progress(list(zip(points[:-1], points[1:]))):
        a, a_next = here.level, there.level
        image, noise = model.image_and_noise(x, a, model.predict(x, here.time, labels, settings))
        sigma = eta * math.sqrt((1 - a_next) / (1 - a) * (1 - a / a_next)) if eta > 0 else 0.0
        x = a_next ** 0.5 * image + math.sqrt(max(1 - a_next - sigma ** 2, 0.0)) * noise
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x


def ddim(model, z, labels, settings):
    """Deterministic DDIM, or with ``eta`` > 0 some fresh noise at each step."""
    return walk(model, z, labels, settings, settings.eta)


def ancestral(model, z, labels, settings):
    """DDPM's ancestral sampler: the posterior's noise at each step."""
    return walk(model, z, labels, settings, 1.0)
