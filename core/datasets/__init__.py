"""Datasets: the bundled MNIST subset, downloadable MNIST/Fashion-MNIST, and user files or folders.

Everything here is numpy: a dataset is an :class:`ImageData` of uint8 images (N, C, H, W) with optional labels.
The trainer turns it into one float tensor in [-1, 1] once, so batching never does per-sample Python work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import DataError

HELDOUT_FRACTION = 0.1
SPLIT_SEED = 0


@dataclass(frozen=True)
class ImageData:
    images: np.ndarray  # uint8, (N, C, H, W)
    labels: np.ndarray | None  # int64, (N,)
    name: str
    classes: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise DataError(f"{self.name}: images must be uint8 (N, C, H, W), got {self.images.dtype} {self.images.shape}")
        if len(self.images) == 0:
            raise DataError(f"{self.name}: no images")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise DataError(f"{self.name}: {len(self.labels)} labels for {len(self.images)} images")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int | None:
        if self.labels is None:
            return None
        return len(self.classes) if self.classes else int(self.labels.max()) + 1

    def subset(self, index: np.ndarray, suffix: str) -> "ImageData":
        labels = None if self.labels is None else self.labels[index]
        return replace(self, images=self.images[index], labels=labels, name=f"{self.name}:{suffix}")


def split(data: ImageData, part: str) -> ImageData:
    """The fixed ``train`` or ``heldout`` part (90/10, same permutation every time) shared by train and eval."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(data))
    cut = len(data) - max(1, int(round(len(data) * HELDOUT_FRACTION)))
    if part == "train":
        return data.subset(np.sort(order[:cut]), "train")
    if part == "heldout":
        return data.subset(np.sort(order[cut:]), "heldout")
    raise ValueError(f"unknown split {part!r}")


def available() -> dict:
    """Registered datasets by name (zoo's own and plugins')."""
    from ..collect import collect

    return collect("register_datasets", "dataset").entries


def load(name_or_path: str) -> ImageData:
    """A registered dataset by name, or a folder of images / an ``.npz`` file by path."""
    registered = available()
    if name_or_path in registered:
        return registered[name_or_path].value()
    path = Path(name_or_path).expanduser()
    if path.exists():
        from .files import load_path

        return load_path(path)
    names = ", ".join(sorted(registered))
    raise DataError(f"unknown dataset '{name_or_path}': not a registered name ({names}) nor an existing path")
