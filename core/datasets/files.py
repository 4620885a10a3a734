"""User data: a folder of images (one subfolder per class, like torchvision's ImageFolder) or an ``.npz``."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import DataError
from .image_data import ImageData

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MIN_SIDE = 8


def load_path(path: Path) -> ImageData:
    if path.is_dir():
        return load_folder(path)
    if path.suffix.lower() == ".npz":
        return load_npz(path)
    raise DataError(f"{path}: unsupported data file; give a folder of images or an .npz with 'images'")


def _check_size(data: ImageData) -> ImageData:
    _, h, w = data.shape
    if min(h, w) < MIN_SIDE:
        raise DataError(f"{data.name}: images of {h}x{w} are too small (at least {MIN_SIDE}x{MIN_SIDE})")
    return data


def load_npz(path: Path) -> ImageData:
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
    if images.ndim == 3:
        images = images[:, None]
    elif images.ndim == 4 and images.shape[1] not in (1, 3) and images.shape[-1] in (1, 3):
        images = images.transpose(0, 3, 1, 2)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise DataError(f"{path}: images of shape {images.shape}; expected (N, H, W), (N, C, H, W) or (N, H, W, C) with C 1 or 3")
    if images.dtype != np.uint8:
        if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
            bad = (~np.isfinite(images)).reshape(len(images), -1).any(axis=1)
            raise DataError(f"{path}: {int(bad.sum())} images hold NaN or infinite pixels (the first is image "
                            f"{int(np.argmax(bad))})")
        if not np.issubdtype(images.dtype, np.floating) or images.min() < 0 or images.max() > 1:
            raise DataError(f"{path}: images must be uint8 or floats in [0, 1], got {images.dtype}")
        images = np.round(images * 255).astype(np.uint8)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if not np.issubdtype(labels.dtype, np.integer) or (len(labels) and labels.min() < 0):
            raise DataError(f"{path}: labels must be non-negative integers")
        labels = labels.astype(np.int64)
    return _check_size(ImageData(np.ascontiguousarray(images), labels, path.stem))


def load_folder(root: Path) -> ImageData:
    from PIL import Image

    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    groups = [(d.name, d) for d in subdirs] if subdirs else [(None, root)]
    files, labels = [], []
    for index, (_, folder) in enumerate(groups):
        for f in sorted(folder.rglob("*") if subdirs else folder.iterdir()):
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
                files.append(f)
                labels.append(index)
    if not files:
        raise DataError(f"{root}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    pictures = []
    for f in files:
        try:
            with Image.open(f) as img:
                img.load()
                pictures.append(img.copy())
        except Exception as exc:
            raise DataError(f"{f}: not a readable image ({type(exc).__name__})") from None
    mode = "L" if all(p.mode in ("1", "L", "LA", "I", "I;16") for p in pictures) else "RGB"
    size, _ = Counter(p.size for p in pictures).most_common(1)[0]
    if any(p.size != size for p in pictures):
        print(f"zoo: images in {root} differ in size; resizing all to {size[0]}x{size[1]}", file=sys.stderr)
    arrays = [np.asarray(p.convert(mode).resize(size) if p.size != size else p.convert(mode)) for p in pictures]
    images = np.stack(arrays)
    images = images[:, None] if mode == "L" else images.transpose(0, 3, 1, 2)
    classes = tuple(name for name, _ in groups) if subdirs else None
    label_array = np.asarray(labels, dtype=np.int64) if subdirs else None
    return _check_size(ImageData(np.ascontiguousarray(images, dtype=np.uint8), label_array, root.name, classes))
