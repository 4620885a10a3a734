"""Download MNIST and Fashion-MNIST: standard file names, sha256-verified, resumable, atomic, cached.

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

from ..errors import DataError
from ..paths import cache_home
from .image_data import ImageData
from .idx import read_idx

CHUNK = 1 << 16
TIMEOUT_S = 30


@dataclass(frozen=True)
class RemoteDataset:
    name: str
    mirrors: tuple[str, ...]
    images: tuple[str, str]  # (file name, sha256)
    labels: tuple[str, str]
    classes: tuple[str, ...]


MNIST_FULL = RemoteDataset(
    "mnist-full",
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    tuple(str(d) for d in range(10)),
)
FASHION_MNIST = RemoteDataset(
    "fashion-mnist",
    (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)


def cache_root() -> Path:
    return cache_home() / "datasets"


def _mirrors(dataset: RemoteDataset) -> list[str]:
    override = os.environ.get("ZOO_DATASET_MIRROR", "").strip()
    bases = [b.strip() for b in override.split(",") if b.strip()] if override else list(dataset.mirrors)
    return [b if b.endswith("/") else b + "/" for b in bases]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
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


def fetch(dataset: RemoteDataset, file_name: str, sha256: str) -> Path:
    """The verified local copy of one file, downloading it if needed."""
    folder = cache_root() / dataset.name
    dest = folder / file_name
    if dest.exists() and sha256_of(dest) == sha256:
        return dest
    folder.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    problems = []
    for base in _mirrors(dataset):
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
        f"could not download {file_name} for {dataset.name} ({'; '.join(problems)}). "
        f"Offline? Copy the file into {folder} or set ZOO_DATASET_MIRROR to a reachable mirror"
    )


def load_remote(dataset: RemoteDataset) -> ImageData:
    images = read_idx(fetch(dataset, *dataset.images))
    labels = read_idx(fetch(dataset, *dataset.labels)).astype(np.int64)
    return ImageData(np.ascontiguousarray(images[:, None]), labels, dataset.name, dataset.classes)
