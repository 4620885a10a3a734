"""A folder of images (one subfolder per class, like torchvision's ImageFolder), decoded once into a uint8 ``.npy``
under ``$ZOO_HOME/datasets/folders`` and memory-mapped from then on: a second run does not decode again, and a
folder larger than memory is written image by image and trained on by streaming.

``image_size=S`` crops each image to its centred square and resizes it to SxS with Pillow's Lanczos filter
(deterministic; the filter FFHQ's thumbnails were made with), as face datasets are used; without it, images of
the folder's most common size are kept as they are and others resized to it.

The cache is keyed by the folder's path, every file's name, size and modification time, and the image size, so
an edited folder is decoded again. It is built in a temporary folder and renamed into place: an interrupted build leaves nothing
that a later run would take for a cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from zoo.store.atomic import write_text
from zoo.errors import DataError
from zoo.store.paths import cache_home
from zoo.datasets.image_data import ImageData
from zoo.datasets.mapped import MappedImages

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
GREY_MODES = ("1", "L", "LA", "I", "I;16")
CACHE_FORMAT = "zoo-folder-cache/1"


def list_images(root: Path) -> tuple[list[Path], list[int], tuple[str, ...] | None]:
    """The image files of ``root``, their class indices, and the class names (None without subfolders)."""
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    groups = subdirs or [root]
    files, labels = [], []
    for index, folder in enumerate(groups):
        for f in sorted(folder.rglob("*") if subdirs else folder.iterdir()):
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
                files.append(f)
                labels.append(index)
    if not files:
        raise DataError(f"{root}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return files, labels, tuple(d.name for d in subdirs) if subdirs else None


def cache_folder(root: Path, files: list[Path], image_size: int | None = None) -> Path:
    digest = hashlib.sha256(f"{CACHE_FORMAT}\n{root.resolve()}\n{image_size}\n".encode())
    for f in files:
        stat = f.stat()
        digest.update(f"{f.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return cache_home() / "datasets" / "folders" / f"{root.name}-{digest.hexdigest()[:16]}"


def load_folder(root: Path, image_size: int | None = None) -> ImageData:
    files, labels, classes = list_images(root)
    cache = cache_folder(root, files, image_size)
    if not (cache / "info.json").exists():
        _build(root, files, cache, image_size)
    label_array = np.asarray(labels, dtype=np.int64) if classes else None
    return ImageData(MappedImages(cache / "images.npy"), label_array, root.name, classes)


def _open(f: Path):
    from PIL import Image

    try:
        return Image.open(f)  # reads the header only
    except Exception as exc:
        raise DataError(f"{f}: not a readable image ({type(exc).__name__})") from None


def centre_square(picture, side: int):
    """The centred square of ``picture``, resized to ``side`` x ``side`` with the Lanczos filter."""
    from PIL import Image

    width, height = picture.size
    edge = min(width, height)
    left, top = (width - edge) // 2, (height - edge) // 2
    return picture.crop((left, top, left + edge, top + edge)).resize((side, side), Image.Resampling.LANCZOS)


def _build(root: Path, files: list[Path], cache: Path, image_size: int | None) -> None:
    sizes, grey = Counter(), True
    for f in files:
        with _open(f) as img:
            sizes[img.size] += 1
            grey = grey and img.mode in GREY_MODES
    (width, height), _ = sizes.most_common(1)[0]
    if image_size:
        width = height = image_size
    elif len(sizes) > 1:
        print(f"zoo: images in {root} differ in size; resizing all to {width}x{height}", file=sys.stderr)
    mode, channels = ("L", 1) if grey else ("RGB", 3)
    building = cache.with_name(f"{cache.name}.{os.getpid()}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        images = np.lib.format.open_memmap(building / "images.npy", mode="w+", dtype=np.uint8,
                                           shape=(len(files), channels, height, width))
        for i, f in enumerate(files):
            with _open(f) as img:
                try:
                    picture = img.convert(mode)
                except Exception as exc:
                    raise DataError(f"{f}: not a readable image ({type(exc).__name__})") from None
            if image_size:
                picture = centre_square(picture, image_size)
            elif picture.size != (width, height):
                picture = picture.resize((width, height))
            pixels = np.asarray(picture)
            images[i] = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
        images.flush()
        del images
        write_text(building / "info.json", json.dumps({"format": CACHE_FORMAT, "folder": str(root.resolve()),
                                                       "images": len(files), "shape": [channels, height, width],
                                                       "image_size": image_size}) + "\n")
        try:
            building.rename(cache)
        except OSError:  # another process finished the same cache first
            if not (cache / "info.json").exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
