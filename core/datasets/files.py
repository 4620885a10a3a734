"""User data: a folder of images (one subfolder per class, like torchvision's ImageFolder; decoded once into a
cache), an ``.npz``, or a uint8 ``.npy`` read memory-mapped."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from zoo.errors import DataError
from zoo.datasets.image_data import ImageData
from zoo.datasets.labels import check_labels

MIN_SIDE = 8


def load_path(path: Path, image_size: int | None = None) -> ImageData:
    if path.is_dir():
        from zoo.datasets.folder_cache import load_folder

        return _check_size(load_folder(path, image_size))
    if not path.is_file():  # a FIFO or a device would block or never end
        raise DataError(f"{path}: not a regular file or a folder")
    if path.suffix.lower() == ".npz":
        return load_npz(path)
    if path.suffix.lower() == ".npy":
        from zoo.datasets.mapped import MappedImages

        return _check_size(ImageData(MappedImages(path), None, path.stem))
    raise DataError(f"{path}: unsupported data file; give a folder of images, an .npz with 'images' or a uint8 .npy")


def _check_size(data: ImageData) -> ImageData:
    _, h, w = data.shape
    if min(h, w) < MIN_SIDE:
        raise DataError(f"{data.name}: images of {h}x{w} are too small (at least {MIN_SIDE}x{MIN_SIDE})")
    return data


def load_npz(path: Path) -> ImageData:
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a valid .npz (an .npz is a zip archive of .npy arrays; this is not a zip)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "images" not in npz.files:
                raise DataError(f"{path}: no 'images' array (found: {', '.join(npz.files) or 'nothing'})")
            images = npz["images"]
            labels = npz["labels"] if "labels" in npz.files else None
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: not a readable .npz ({type(exc).__name__}: {exc})") from None
    if not isinstance(images, np.ndarray):  # numpy hands back a member that is not a .npy as raw bytes
        raise DataError(f"{path}: 'images' is not a .npy array inside the .npz (raw bytes, e.g. a pickle; "
                        f"refused unread)")
    if images.ndim == 3:
        images = images[:, None]
    elif images.ndim == 4 and images.shape[1] not in (1, 3) and images.shape[-1] in (1, 3):
        images = images.transpose(0, 3, 1, 2)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise DataError(f"{path}: images of shape {images.shape}; expected (N, H, W), (N, C, H, W) or (N, H, W, C) with C 1 or 3")
    if len(images) == 0:
        raise DataError(f"{path}: no images (the 'images' array is empty)")
    if images.dtype != np.uint8:
        if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
            bad = (~np.isfinite(images)).reshape(len(images), -1).any(axis=1)
            raise DataError(f"{path}: {int(bad.sum())} images hold NaN or infinite pixels (the first is image "
                            f"{int(np.argmax(bad))})")
        if not np.issubdtype(images.dtype, np.floating) or images.min() < 0 or images.max() > 1:
            raise DataError(f"{path}: images must be uint8 or floats in [0, 1], got {images.dtype}")
        images = np.round(images * 255).astype(np.uint8)
    if labels is not None:
        labels = check_labels(labels, len(images), str(path))
    return _check_size(ImageData(np.ascontiguousarray(images), labels, path.stem))
