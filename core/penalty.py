"""Discriminator penalties zoo registers: the gradient penalty of WGAN-GP (Gulrajani et al. 2017) and R1 (Mescheder
et al. 2018). Each is ``penalty(critic, real, fake)`` -> a scalar >= 0 (the contract: docs/plugins.md, "A penalty")."""

from __future__ import annotations

from typing import Callable

import torch


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    target: float = 1.0,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """E[(||grad_x D(x)||_2 - target)^2] at random interpolates x = a*real + (1-a)*fake.

    One mixing factor ``a`` is drawn per example (not per pixel) and the norm is taken per example over all of
    its pixels (not over the batch): the two mistakes often made in public implementations.
    """
    if alpha is None:
        alpha = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    alpha = alpha.reshape(-1, *([1] * (real.dim() - 1)))
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(mixed)
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grads.flatten(1).norm(2, dim=1)
    return ((norms - target) ** 2).mean()


def r1_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
) -> torch.Tensor:
    """E[||grad_x D(x)||_2^2] at the real images (Mescheder et al. 2018): it keeps the discriminator flat on the
    data, which makes non-saturating and hinge GANs converge. ``fake`` is unused. The GAN's ``penalty_weight`` is
    the paper's gamma / 2."""
    real = real.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(real).sum(), real, create_graph=True)
    return grads.flatten(1).pow(2).sum(1).mean()
