"""Walks through latent space for interpolation grids."""

from __future__ import annotations

import torch


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows of ``a`` and ``b`` at fractions ``t`` (for Gaussian latents)."""
    a_n, b_n = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((a_n * b_n).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return a + t * (b - a)


def interpolation_latents(model, rows: int, steps: int, seed: int | None = None) -> torch.Tensor:
    """(rows * steps, latent) latents: each row walks from one random latent to another."""
    z = model.sample_latent(2 * rows, torch.Generator().manual_seed(seed) if seed is not None else None)
    start, end = z[:rows, None, :], z[rows:, None, :]
    t = torch.linspace(0, 1, steps)[None, :, None]
    walk = slerp if model.latent_prior == "gaussian" else lerp
    return walk(start, end, t).reshape(rows * steps, -1)
