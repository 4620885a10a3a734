"""Sample grids and PNG files, of images in the pixel convention of :mod:`zoo.datasets.pixels` (``to_float``,
which lived here, still comes from here with a DeprecationWarning)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from zoo.datasets.pixels import to_uint8
from zoo.store.atomic import atomic_write


VIEWABLE_TILE = 96  # pixels: grids of small images are enlarged until each tile is about this big


def viewable_scale(side: int) -> int:
    """The whole-number enlargement that brings a tile of ``side`` pixels near VIEWABLE_TILE (28 -> 3, 64 -> 1)."""
    return max(1, round(VIEWABLE_TILE / side))


def grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, scale: int | None = None,
         rows_by: np.ndarray | None = None) -> np.ndarray:
    """Tile uint8 (N, C, H, W) images into one (H', W', C) array, ``nrow`` images per row, each enlarged
    ``scale`` times by pixel repetition (nearest neighbour; default: :func:`viewable_scale`), ``pad`` dark
    pixels between tiles. With ``rows_by`` (a label per image), one row per label, shorter rows left dark."""
    scale = viewable_scale(images.shape[2]) if scale is None else scale
    images = images.repeat(scale, axis=2).repeat(scale, axis=3)
    n, c, h, w = images.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows, places = math.ceil(n / nrow), [divmod(i, nrow) for i in range(n)]
    if rows_by is not None:
        row_of = {label: r for r, label in enumerate(sorted(set(rows_by.tolist())))}
        places = [(row_of[label], int((rows_by[:i] == label).sum())) for i, label in enumerate(rows_by.tolist())]
        rows, nrow = len(row_of), max(col for _, col in places) + 1
    canvas = np.zeros((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for i, (r, col) in enumerate(places):
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


def balanced_labels(num_classes: int, n: int) -> torch.Tensor:
    """``n`` labels, as many of each class as can be (the first ``n % num_classes`` classes one more), in order."""
    counts = [n // num_classes + (label < n % num_classes) for label in range(num_classes)]
    return torch.arange(num_classes).repeat_interleave(torch.tensor(counts))


def labelled_grid(model, n: int, seed: int, scale: int | None = None) -> np.ndarray:
    """A grid of ``n`` samples of ``model`` drawn with ``seed``; a conditional model's labels balanced
    (:func:`balanced_labels`), one row per label."""
    labels = balanced_labels(model.num_classes, n) if model.conditional else None
    images = model.sample(n, seed=seed, labels=labels).cpu()
    return grid(to_uint8(images), scale=scale, rows_by=None if labels is None else labels.numpy())


def __getattr__(name: str):
    from zoo.moved import old_name

    return old_name(__name__, name)  # to_float, with its warning; an AttributeError for a name that never was
