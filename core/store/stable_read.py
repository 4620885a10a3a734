"""Reading a file that another process may replace meanwhile (a run writes its checkpoint atomically, as often as
every step): what is read is one version of it, never a mix of two."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, TypeVar

from zoo.errors import CheckpointError

T = TypeVar("T")
ATTEMPTS = 50  # a run may save every step; each attempt after the first costs one more read of one version


def _identity(path: Path) -> tuple:
    info = os.stat(path)
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def read_unchanged(path: str | os.PathLike, read: Callable[[], T]) -> T:
    """``read()`` (which opens ``path``, perhaps more than once), done again until ``path`` was the same file before
    and after it: a replacement in between could have handed it the header of one version and the tensors of the
    next. A read that fails while ``path`` was replaced is such a mix too (the header of one version promising
    more bytes than the next holds), and is done again; one that fails on an unchanged file raises."""
    for _ in range(ATTEMPTS):
        before = _identity(Path(path))
        try:
            result = read()
        except Exception:
            if _identity(Path(path)) == before:
                raise
            continue
        if _identity(Path(path)) == before:
            return result
    raise CheckpointError(f"{path} was replaced {ATTEMPTS} times while it was read; try again")


__all__ = ["read_unchanged"]
