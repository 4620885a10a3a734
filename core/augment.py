"""Differentiable augmentation (DiffAugment, Zhao et al. 2020): the same random transforms are applied to real
and generated images before the discriminator sees them, and gradients flow through them to the generator.

With a few thousand training images a discriminator memorises them within minutes and its feedback turns to
noise; transforming both sides keeps it from memorising without teaching the generator to make transformed
images. Each transform draws its own parameters per image, so two calls on the same batch differ.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from zoo.errors import ConfigError


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its side in x and y (whole pixels), filling with zeros."""
    b, _, h, w = x.shape
    sy, sx = max(1, round(h * ratio)), max(1, round(w * ratio))
    dy = torch.randint(-sy, sy + 1, (b, 1), device=x.device)
    dx = torch.randint(-sx, sx + 1, (b, 1), device=x.device)
    padded = F.pad(x, [sx, sx, sy, sy])
    rows = (torch.arange(h, device=x.device) + sy - dy)[:, None, :, None].expand(b, x.shape[1], h, padded.shape[3])
    cols = (torch.arange(w, device=x.device) + sx - dx)[:, None, None, :].expand(b, x.shape[1], h, w)
    return padded.gather(2, rows).gather(3, cols)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ``ratio`` of the side per image, centred anywhere in it (it may hang over the edge)."""
    b, _, h, w = x.shape
    ch, cw = max(1, round(h * ratio)), max(1, round(w * ratio))
    cy = torch.randint(0, h, (b, 1, 1), device=x.device)
    cx = torch.randint(0, w, (b, 1, 1), device=x.device)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    inside = ((ys - cy).abs() <= ch // 2) & ((xs - cx).abs() <= cw // 2)
    return x * (~inside)[:, None].to(x.dtype)


def colour(x: torch.Tensor) -> torch.Tensor:
    """Random brightness (+-0.5), saturation (x0..2, colour images only) and contrast (x0.5..1.5) per image."""
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)
    if x.shape[1] > 1:
        grey = x.mean(dim=1, keepdim=True)
        x = (x - grey) * (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + grey
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(b, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean


TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "translation": translation,
    "cutout": cutout,
    "colour": colour,
}


def parse(spec: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> the transform names, in order; ``""`` or ``"none"`` -> no augmentation."""
    names = tuple(part.strip() for part in spec.split(",") if part.strip() and part.strip() != "none")
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown:
        raise ConfigError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(TRANSFORMS)} (comma-separated)")
    return names


def augment(x: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    for name in names:
        x = TRANSFORMS[name](x)
    return x
