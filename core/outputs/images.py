"""The image convention, stated once: data and files hold uint8 pixels (N, C, H, W); models see float32 in
[-1, 1] (0 -> -1, 255 -> 1). Also grids and PNG files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from zoo.store.atomic import atomic_write


def to_float(images: np.ndarray | torch.Tensor, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 (N, C, H, W), an array or a tensor -> float32 tensor in [-1, 1] on ``device``."""
    if not torch.is_tensor(images):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8, got {images.dtype}")
    return images.to(device, non_blocking=True).to(torch.float32).div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) floats in [-1, 1] -> uint8 array of the same shape."""
    scaled = (images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5
    return scaled.round().to(torch.uint8).numpy()


VIEWABLE_TILE = 96  # pixels: grids of small images are enlarged until each tile is about this big


def viewable_scale(side: int) -> int:
    """The whole-number enlargement that brings a tile of ``side`` pixels near VIEWABLE_TILE (28 -> 3, 64 -> 1)."""
    return max(1, round(VIEWABLE_TILE / side))


def grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, scale: int | None = None) -> np.ndarray:
    """Tile uint8 (N, C, H, W) images into one (H', W', C) array, ``nrow`` images per row, each enlarged
    ``scale`` times by pixel repetition (nearest neighbour; default: :func:`viewable_scale`), ``pad`` dark
    pixels between tiles."""
    scale = viewable_scale(images.shape[2]) if scale is None else scale
    images = images.repeat(scale, axis=2).repeat(scale, axis=3)
    n, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    canvas = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        canvas[y : y + h, x : x + w] = images[i].transpose(1, 2, 0)
    return canvas


def save_png(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    with atomic_write(path) as fh:
        img.save(fh, format="PNG")


def save_grid(images: torch.Tensor, path: Path, nrow: int | None = None, scale: int | None = None) -> None:
    save_png(grid(to_uint8(images), nrow, scale=scale), path)


def class_rows(num_classes: int, n: int) -> tuple[torch.Tensor, int]:
    """Labels for ``n`` images laid out one row per class, and the row length."""
    per_class = max(1, math.ceil(n / num_classes))
    labels = torch.arange(num_classes).repeat_interleave(per_class)[:n]
    return labels, per_class
