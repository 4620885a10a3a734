"""The cached feature vectors of real images (``$ZOO_HOME/features/KEY.npy``), never trusted unchecked.

Beside each array, ``KEY.json`` records the sha256 and size of the .npy file and the array's shape (N, D). A
read verifies all of them, and that N is the number of images asked about; a cache that fails (edited, cut
short, of another shape, not a regular file, or from a zoo that wrote no checksum) is reported in one line on
stderr and computed again, so a figure never rests on an array zoo did not compute for it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path

import numpy as np

from zoo.errors import ZooError
from zoo.store.atomic import write_bytes, write_text
from zoo.store.regular_files import read_regular

log = logging.getLogger(__name__)

SIDECAR_LIMIT = 2**16


def checksum_path(path: Path) -> Path:
    return path.with_suffix(".json")


def load(path: Path, images: int) -> np.ndarray | None:
    """The verified array cached at ``path`` for ``images`` images, or None (saying why on stderr when a cache
    file was there but failed its check)."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return _verified(path, images)
    except (ZooError, OSError, ValueError) as exc:
        problem = str(exc).replace(f"{path}: ", "")
        log.info("%s: cached features not used (%s); computing them again", path, problem)
        return None


def _verified(path: Path, images: int) -> np.ndarray:
    try:
        expected = json.loads(read_regular(checksum_path(path), SIDECAR_LIMIT))
        sha256, size, shape = expected["sha256"], int(expected["bytes"]), tuple(int(d) for d in expected["shape"])
    except FileNotFoundError:
        raise ValueError(f"no checksum beside it ({checksum_path(path).name})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"its checksum file {checksum_path(path).name} is damaged ({type(exc).__name__})") from None
    data = read_regular(path, size)
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("it fails its checksum")
    array = np.load(io.BytesIO(data), allow_pickle=False)
    if array.shape != shape or len(shape) != 2 or shape[0] != images:
        raise ValueError(f"it holds an array of shape {array.shape}, not ({images}, D)")
    return array


def save(path: Path, array: np.ndarray) -> None:
    """Cache ``array`` at ``path`` with its checksum beside it (the array first: a crash between the two leaves
    a cache that fails its check, never one that passes wrongly)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    data = buffer.getvalue()
    write_bytes(path, data)
    write_text(checksum_path(path), json.dumps({"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                                                "shape": list(array.shape)}) + "\n")
