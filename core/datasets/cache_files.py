"""Reading back what zoo cached itself: every file is opened only if it is a regular file (through
:mod:`zoo.store.regular_files`: no FIFO, device or folder), read within a bound, and anything that does not
match what was written is :class:`StaleCache`: the caller rebuilds it."""

from __future__ import annotations

import io
import json
import logging
import math
import os
import shutil
from pathlib import Path

import numpy as np

from zoo.store.regular_files import UnreadableFile, read_regular

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 1 << 20


class StaleCache(Exception):
    """A cached file is missing, not a regular file, or not what zoo wrote; the message says which and why."""


def read_bytes(path: Path, limit: int) -> bytes:
    """The regular file ``path``, of at most ``limit`` bytes; else StaleCache."""
    try:
        return read_regular(path, limit)
    except FileNotFoundError:
        raise StaleCache(f"{path}: missing") from None
    except (OSError, UnreadableFile) as exc:
        raise StaleCache(str(exc) if isinstance(exc, UnreadableFile) else f"{path}: unreadable ({exc})") from None


def read_json(path: Path) -> dict:
    """The JSON object in ``path`` (a regular file of at most 1 MiB)."""
    try:
        value = json.loads(read_bytes(path, MAX_JSON_BYTES))
    except ValueError as exc:
        raise StaleCache(f"{path}: not JSON ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise StaleCache(f"{path}: not the JSON object zoo writes")
    return value


def load_array(path: Path, limit: int) -> np.ndarray:
    """The array in the ``.npy`` at ``path`` (at most ``limit`` bytes), without pickle, its header's shape checked
    against the bytes there before anything is allocated."""
    fh = io.BytesIO(read_bytes(path, limit))
    try:
        version = np.lib.format.read_magic(fh)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(fh)
    except (ValueError, SyntaxError) as exc:
        raise StaleCache(f"{path}: not a .npy file ({type(exc).__name__})") from None
    body = fh.getbuffer()[fh.tell():]
    if dtype.hasobject or fortran or min(shape, default=0) < 0 or dtype.itemsize * math.prod(shape) != len(body):
        raise StaleCache(f"{path}: a header of {dtype} {shape} that does not match its {len(body)} bytes")
    return np.frombuffer(body, dtype=dtype).reshape(shape).copy()


def discard(folder: Path, why: str) -> None:
    """Say (one line) why the cache ``folder`` is not used, and remove it: moved aside first, so a process reading
    the same path meanwhile never sees it half deleted."""
    log.info("ignoring the cache %s; building it again", why)
    if not os.path.lexists(folder):
        return
    if not folder.is_dir() or folder.is_symlink():
        folder.unlink(missing_ok=True)
        return
    aside = folder.with_name(f"{folder.name}.{os.getpid()}.stale")
    try:
        folder.rename(aside)
    except OSError:  # another process moved it first
        return
    shutil.rmtree(aside, ignore_errors=True)
