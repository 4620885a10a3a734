"""Downloads (MNIST, Fashion-MNIST, CIFAR archives): standard file names, sha256-verified, resumable, atomic, cached.

Files are cached under ``$ZOO_HOME/datasets`` (or the user cache directory). A download goes to ``NAME.part``
and resumes from there with an HTTP Range request; only a file whose sha256 matches is renamed into place.
``ZOO_DATASET_MIRROR`` (comma-separated base URLs) replaces the built-in mirrors, e.g. for a local copy.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.errors import DataError
from zoo.store.paths import cache_home
from zoo.store.regular_files import open_regular
from zoo.datasets.image_data import ImageData
from zoo.datasets.idx import read_idx

CHUNK = 1 << 16
TIMEOUT_S = 30


@dataclass(frozen=True)
class RemoteFile:
    name: str  # the file's standard name, kept as is in the cache
    sha256: str
    mirrors: tuple[str, ...]  # base URLs, tried in turn


@dataclass(frozen=True)
class RemoteDataset:
    """An image file and a label file in the IDX format (MNIST's)."""

    name: str
    images: RemoteFile
    labels: RemoteFile
    classes: tuple[str, ...]


_MNIST = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/")
_FASHION = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")
MNIST_FULL = RemoteDataset(
    "mnist-full",
    RemoteFile("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", _MNIST),
    RemoteFile("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", _MNIST),
    tuple(str(d) for d in range(10)),
)
FASHION_MNIST = RemoteDataset(
    "fashion-mnist",
    RemoteFile("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", _FASHION),
    RemoteFile("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", _FASHION),
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)


def cache_root() -> Path:
    return cache_home() / "datasets"


def _mirrors(remote: RemoteFile) -> list[str]:
    override = os.environ.get("ZOO_DATASET_MIRROR", "").strip()
    bases = [b.strip() for b in override.split(",") if b.strip()] if override else list(remote.mirrors)
    return [b if b.endswith("/") else b + "/" for b in bases]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, part: Path) -> None:
    """Fetch ``url`` into ``part``, continuing a partial file when the server honours Range."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part file is already whole
            return
        raise
    with response, open(part, "ab" if have and response.status == 206 else "wb") as out:
        while chunk := response.read(CHUNK):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())


def cached(dataset: str, remote: RemoteFile) -> Path:
    """Where the verified copy of ``remote`` lives (whether or not it is there yet)."""
    return cache_root() / dataset / remote.name


def fetch(dataset: str, remote: RemoteFile, folder: Path | None = None) -> Path:
    """The verified local copy of one file of ``dataset`` (in ``folder``, by default the dataset's cache folder),
    downloading it if needed."""
    file_name, sha256 = remote.name, remote.sha256
    dest = cached(dataset, remote) if folder is None else Path(folder) / remote.name
    folder = dest.parent
    part = dest.with_name(dest.name + ".part")
    for path in (dest, part):
        if os.path.lexists(path) and not path.is_file():  # a folder, a FIFO (reading it would block), a broken link
            raise DataError(f"{path}: not a regular file, where zoo keeps a download; remove it and run again")
    if dest.exists() and sha256_of(dest) == sha256:
        return dest
    folder.mkdir(parents=True, exist_ok=True)
    problems = []
    for base in _mirrors(remote):
        for _attempt in range(2):  # a resumed file that fails its checksum is fetched once more from scratch
            try:
                _download(base + file_name, part)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                problems.append(f"{base}: {getattr(exc, 'reason', exc)}")
                break
            if sha256_of(part) == sha256:
                os.replace(part, dest)
                return dest
            part.unlink()
            problems.append(f"{base}: sha256 mismatch")
    raise DataError(
        f"could not download {file_name} for {dataset} ({'; '.join(problems)}). "
        f"Offline? Copy the file into {folder} or set ZOO_DATASET_MIRROR to a reachable mirror"
    )


def load_remote(dataset: RemoteDataset) -> ImageData:
    images = read_idx(fetch(dataset.name, dataset.images))
    labels = read_idx(fetch(dataset.name, dataset.labels)).astype(np.int64)
    return ImageData(np.ascontiguousarray(images[:, None]), labels, dataset.name, dataset.classes)
