"""A folder of images (one subfolder per class, like torchvision's ImageFolder), decoded once into a uint8 ``.npy``
under ``$ZOO_HOME/datasets/folders`` and memory-mapped from then on: a second run does not decode again, and a
folder larger than memory is written image by image and trained on by streaming.

``image_size=S`` crops each image to its centred square and resizes it to SxS with Pillow's Lanczos filter
(deterministic; the filter FFHQ's thumbnails were made with), as face datasets are used; without it, images of
the folder's most common size are kept as they are and others resized to it. 16-bit grey images are scaled to
8 bits (0..65535 onto 0..255), never clipped.

The cache is keyed by the folder's path, every file's name, size and modification time, and the image size, so
an edited folder is decoded again. It is built in a temporary folder and renamed into place: an interrupted build
leaves nothing that a later run would take for a cache. Read back, it is verified: both files regular, the key,
the image count and the shape recorded in ``info.json`` those asked for and those of ``images.npy``'s header, and
the file at least as long as its header says; a cache that fails is said so in one line, removed and decoded again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

from zoo.store.atomic import write_text
from zoo.errors import DataError
from zoo.store.paths import cache_home
from zoo.datasets.cache_files import StaleCache, discard, read_json
from zoo.datasets.image_data import ImageData
from zoo.datasets.image_folder import list_images
from zoo.datasets.mapped import MappedImages
from zoo.datasets.pictures import GREY_MODES, centre_square, eight_bit
from zoo.datasets.pictures import open_image as _open  # a module global: tests replace it to see what is decoded

log = logging.getLogger(__name__)

CACHE_FORMAT = "zoo-folder-cache/2"  # 2: 16-bit images scaled, not clipped; info.json holds the key


def cache_key(root: Path, files: list[Path], image_size: int | None = None) -> str:
    digest = hashlib.sha256(f"{CACHE_FORMAT}\n{root.resolve()}\n{image_size}\n".encode())
    for f in files:
        stat = f.stat()
        digest.update(f"{f.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def cache_folder(root: Path, key: str) -> Path:
    return cache_home() / "datasets" / "folders" / f"{root.name}-{key[:16]}"


def load_folder(root: Path, image_size: int | None = None) -> ImageData:
    files, labels, classes = list_images(root)
    key = cache_key(root, files, image_size)
    cache = cache_folder(root, key)
    try:
        images = _verified(cache, key, len(files), image_size)
    except StaleCache as stale:
        if os.path.lexists(cache):
            discard(cache, str(stale))
        _build(root, files, cache, image_size, key)
        try:
            images = _verified(cache, key, len(files), image_size)
        except StaleCache as again:
            raise DataError(f"the folder cache just built does not read back ({again})") from None
    label_array = np.asarray(labels, dtype=np.int64) if classes else None
    return ImageData(images, label_array, root.name, classes)


def _verified(cache: Path, key: str, count: int, image_size: int | None) -> MappedImages:
    """The cached images, if ``cache`` holds exactly what :func:`_build` wrote for ``key``; else StaleCache."""
    info = read_json(cache / "info.json")
    shape = info.get("shape")
    if info.get("format") != CACHE_FORMAT or info.get("key") != key:
        raise StaleCache(f"{cache / 'info.json'}: written for other files or by another zoo")
    if info.get("images") != count or info.get("image_size") != image_size:
        raise StaleCache(f"{cache / 'info.json'}: records {info.get('images')} images at size "
                         f"{info.get('image_size')}, not {count} at {image_size}")
    if not (isinstance(shape, list) and len(shape) == 3 and shape[0] in (1, 3)):
        raise StaleCache(f"{cache / 'info.json'}: no valid image shape")
    try:
        images = MappedImages(cache / "images.npy")
    except DataError as exc:
        raise StaleCache(str(exc)) from None
    if images.shape != (count, *shape) or images.channels_last:
        raise StaleCache(f"{cache / 'images.npy'}: holds {images.shape}, info.json says {(count, *shape)}")
    return images


def _build(root: Path, files: list[Path], cache: Path, image_size: int | None, key: str) -> None:
    sizes, grey = Counter(), True
    for f in files:
        with _open(f) as img:
            sizes[img.size] += 1
            grey = grey and img.mode in GREY_MODES
    (width, height), _ = sizes.most_common(1)[0]
    if image_size:
        width = height = image_size
    elif len(sizes) > 1:
        log.info("images in %s differ in size; resizing all to %dx%d", root, width, height)
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
                    picture = eight_bit(img, mode)
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
        info = {"format": CACHE_FORMAT, "key": key, "folder": str(root.resolve()), "images": len(files),
                "shape": [channels, height, width], "image_size": image_size}
        write_text(building / "info.json", json.dumps(info) + "\n")
        try:
            building.rename(cache)
        except OSError:  # another process finished the same cache first
            if not (cache / "info.json").exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
