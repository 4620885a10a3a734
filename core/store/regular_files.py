"""Reading files zoo finds rather than files it was handed: run folders and caches under ``$ZOO_HOME``.

Such a file is opened only if it is a regular file, and opened without blocking, so a named pipe, a device
(a link to ``/dev/zero``) or a folder where a file should be is a one-line :class:`UnreadableFile`, never a
hang or an endless read; and no more than a stated number of bytes is read. Standard library only.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from zoo.errors import ZooError

KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
         (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


class UnreadableFile(ZooError):
    """A file zoo reads is not a regular file, or is larger than any such file zoo writes."""


def _kind(mode: int) -> str:
    return next((name for test, name in KINDS if test(mode)), "not a plain file")


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file (after links); raises :class:`UnreadableFile` if
    it is anything else, and OSError if it cannot be opened. O_NONBLOCK keeps a named pipe from blocking the
    open itself; for a regular file the flag changes nothing."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:  # where a folder cannot be opened at all (Windows)
        raise UnreadableFile(f"{path}: not a regular file (a folder)") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnreadableFile(f"{path}: not a regular file ({_kind(mode)})")
    return os.fdopen(fd, "rb")


def is_regular(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a regular file (after links), asked of the file system without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The whole of the regular file ``path``, refused (:class:`UnreadableFile`) if it holds more than ``limit``
    bytes."""
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"{path}: larger than {_size(limit)}, more than zoo ever writes there")
    return data


def read_tail(path: str | os.PathLike, limit: int) -> tuple[bytes, bool]:
    """At most the last ``limit`` bytes of the regular file ``path``, and whether anything before them was left
    unread (a sparse file of terabytes costs ``limit`` bytes of memory, no more)."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        start = max(0, size - limit)
        fh.seek(start)
        return fh.read(limit), start > 0


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"

