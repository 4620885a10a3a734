"""Datasets: the bundled MNIST subset, downloads (MNIST, Fashion-MNIST, CIFAR archives), and user files or
folders, each loaded by name or path into an :class:`ImageData`: uint8 images (N, C, H, W), in memory or
memory-mapped, with optional labels (numpy only). The trainer converts each batch to floats in [-1, 1] on the
device (:mod:`zoo.training.batches`, through the pixel convention of ``pixels``); nothing here is per sample.

bundled, download, cifar: the registered datasets; files, image_folder, pictures, folder_cache, mapped: what a
path may be (.npz, .npy, a folder of images and its decoded cache); labels, cache_files: their checks; catalog:
what ``zoo data`` shows; image_data: :class:`ImageData`; pixels: uint8 pixels to the floats models see and back
(torch); idx: the file format MNIST and Fashion-MNIST come in; make_mnist_5k: the script that rebuilt the bundled
subset.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from zoo.registry.lookup import lookup, registered
from zoo.datasets.image_data import ImageData

__all__ = ["ImageData", "load", "split", "DEFAULT"]

DEFAULT = "mnist"
"""The data of a run that names none (``zoo train`` without ``--data``), and so of a checkpoint that records none."""
HELDOUT_FRACTION = 0.1
SPLIT_SEED = 0


def split(data: ImageData, part: str) -> ImageData:
    """The fixed ``train`` or ``heldout`` part (90/10, same permutation every time) shared by train and eval."""
    if len(data) < 2:
        from zoo.errors import DataError

        raise DataError(f"{data.name}: {len(data)} image is too few to split into training and held-out images "
                        f"(at least 2)")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(data))
    cut = len(data) - max(1, int(round(len(data) * HELDOUT_FRACTION)))
    if part == "train":
        return data.subset(np.sort(order[:cut]), "train")
    if part == "heldout":
        return data.subset(np.sort(order[cut:]), "heldout")
    raise ValueError(f"unknown split {part!r}")


def load(name_or_path: str, image_size: int | None = None) -> ImageData:
    """A registered dataset by name, or a folder of images / an ``.npz`` / ``.npy`` file by path; ``image_size``
    decodes a folder at that size (centred square, Lanczos)."""
    from zoo.errors import DataError

    source = str(name_or_path)
    path = Path(source).expanduser()
    if source not in registered("datasets") and path.exists():
        from zoo.datasets.files import load_path

        if image_size and not path.is_dir():
            raise DataError(f"--image-size applies to image folders; {path} is a file")
        return replace(load_path(path, image_size), source=str(path.resolve()))  # a run found again from any folder
    data = lookup("datasets", source, not_found=" (not a registered name, nor an existing file or folder)").value()
    if image_size and data.shape[1:] != (image_size, image_size):
        raise DataError(f"--image-size applies to image folders; {source} has {data.shape[1]}x{data.shape[2]} images")
    return replace(data, source=source)
