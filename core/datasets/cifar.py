"""CIFAR-10 and CIFAR-100 from the authors' *binary* archives, read without pickle.

The archive is fetched once through :func:`zoo.datasets.download.fetch` (sha256-verified, resumable, atomic,
``ZOO_DATASET_MIRROR``), then its training records are converted once into a uint8 ``.npy`` beside it, which
later runs memory-map. Each record is a label byte (CIFAR-100: coarse, then fine) and 3,072 pixel bytes: the
red, green and blue 32x32 planes, row by row. zoo uses the 50,000 training images (and splits off its own
held-out 10%); class names come from the archive's text files.

Members are read into memory by name, never extracted, so no name in the archive (``../x``, ``/etc/x``) can
write anywhere; a wanted member must be a regular file (a link, even one within the archive, is refused: it could
loop or point outside). The converted copy is verified when read back (the archive's sha256, the image count,
shapes, dtypes and label range); one that does not match is said so in one line and converted again.
"""

from __future__ import annotations

import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.store.atomic import atomic_write, write_text
from zoo.errors import DataError
from zoo.datasets.cache_files import StaleCache, discard, load_array, read_json
from zoo.datasets.download import RemoteFile, cached, fetch
from zoo.datasets.image_data import ImageData
from zoo.datasets.mapped import MappedImages

PIXELS = 3 * 32 * 32
MAX_MEMBER_BYTES = 256 << 20  # the largest real member (CIFAR-100's train.bin) is 150 MB
MAX_LABELS_BYTES = 1 << 20  # the converted labels.npy: 50,000 int64, 400 kB


@dataclass(frozen=True)
class CifarArchive:
    name: str
    archive: RemoteFile
    train_members: tuple[str, ...]  # paths inside the archive, in order
    classes_member: str
    label_bytes: int  # 1 for CIFAR-10; 2 for CIFAR-100, whose second byte is the fine label used


MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)

CIFAR10 = CifarArchive(
    "cifar10",
    RemoteFile("cifar-10-binary.tar.gz", "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", MIRRORS),
    tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)),
    "cifar-10-batches-bin/batches.meta.txt",
    1,
)
CIFAR100 = CifarArchive(
    "cifar100",
    RemoteFile("cifar-100-binary.tar.gz", "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec", MIRRORS),
    ("cifar-100-binary/train.bin",),
    "cifar-100-binary/fine_label_names.txt",
    2,
)


def converted(dataset: CifarArchive) -> list[Path]:
    """The files of the prepared copy (present once :func:`load` has run)."""
    folder = cached(dataset.name, dataset.archive).parent / "converted"
    return [folder / "images.npy", folder / "labels.npy", folder / "info.json"]


def load(dataset: CifarArchive) -> ImageData:
    archive = fetch(dataset.name, dataset.archive)
    folder = archive.parent / "converted"
    try:
        return _verified(dataset, folder)
    except StaleCache as stale:
        if os.path.lexists(folder):
            discard(folder, str(stale))
    _convert(dataset, archive, folder)
    try:
        return _verified(dataset, folder)
    except StaleCache as again:
        raise DataError(f"the converted {dataset.name} just written does not read back ({again})") from None


def _verified(dataset: CifarArchive, folder: Path) -> ImageData:
    """The converted copy in ``folder``, if it is exactly what :func:`_convert` wrote for this archive."""
    info = read_json(folder / "info.json")
    count, classes = info.get("images"), info.get("classes")
    if info.get("sha256") != dataset.archive.sha256:
        raise StaleCache(f"{folder / 'info.json'}: converted from another archive")
    if not (isinstance(count, int) and count > 0 and isinstance(classes, list) and classes
            and all(isinstance(c, str) for c in classes)):
        raise StaleCache(f"{folder / 'info.json'}: no valid image count and class names")
    labels = load_array(folder / "labels.npy", MAX_LABELS_BYTES)
    if labels.shape != (count,) or labels.dtype != np.int64 or labels.min() < 0 or labels.max() >= len(classes):
        raise StaleCache(f"{folder / 'labels.npy'}: not {count} int64 labels below {len(classes)}")
    try:
        images = MappedImages(folder / "images.npy")
    except DataError as exc:
        raise StaleCache(str(exc)) from None
    if images.shape != (count, 3, 32, 32) or images.channels_last:
        raise StaleCache(f"{folder / 'images.npy'}: holds {images.shape}, not ({count}, 3, 32, 32)")
    return ImageData(images, labels, dataset.name, tuple(classes))


def read_records(raw: bytes, label_bytes: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) and labels (N,) of one binary batch file."""
    size = label_bytes + PIXELS
    if len(raw) == 0 or len(raw) % size:
        raise DataError(f"{where}: {len(raw)} bytes is not a whole number of {size}-byte CIFAR records")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size)
    return records[:, label_bytes:].reshape(-1, 3, 32, 32), records[:, label_bytes - 1].astype(np.int64)


def _convert(dataset: CifarArchive, archive: Path, folder: Path) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            def member(name: str) -> bytes:
                try:
                    info = tar.getmember(name)
                except KeyError:
                    raise DataError(f"{archive}: no {name} inside; not a CIFAR binary archive") from None
                if not info.isreg():
                    raise DataError(f"{archive}: {name} is a link or a folder, not a file; not a CIFAR binary archive")
                if info.size > MAX_MEMBER_BYTES:
                    raise DataError(f"{archive}: {name} claims {info.size:,} bytes; no CIFAR file is that large")
                return tar.extractfile(info).read()

            parts = [read_records(member(m), dataset.label_bytes, f"{archive}:{m}") for m in dataset.train_members]
            classes = [line.strip() for line in member(dataset.classes_member).decode().splitlines() if line.strip()]
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{archive}: not a readable archive ({type(exc).__name__}: {exc})") from None
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if labels.max() >= len(classes):
        raise DataError(f"{archive}: label {int(labels.max())} but only {len(classes)} class names")
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in (("images.npy", images), ("labels.npy", labels)):
        with atomic_write(folder / name) as fh:
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
    write_text(folder / "info.json", json.dumps({"source": archive.name, "sha256": dataset.archive.sha256,
                                                 "images": len(images), "classes": classes}) + "\n")

