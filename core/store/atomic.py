"""Every file zoo writes is written here: to a temporary file beside it, fsynced, then renamed into place.

A crash or a full disk mid-write leaves the previous file whole (or no file), never a torn one.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, Iterator


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """``with atomic_write(path) as fh: fh.write(...)``: ``path`` changes only if the block completes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def blocking_file(path: str | os.PathLike) -> Path | None:
    """The file (if any) that stands where one of ``path``'s folders would have to be created."""
    return next((p for p in Path(path).parents if p.exists() and not p.is_dir()), None)


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the temporary files that processes killed mid-write left in ``folder`` (their pid is gone)."""
    removed = []
    for tmp in Path(folder).rglob(".*.tmp"):
        if left_by_dead_process(tmp):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def left_by_dead_process(path: Path) -> bool:
    """Whether ``path``, a temporary file or folder named ``.NAME.PID.SUFFIX``, belongs to a process that is gone."""
    pid = path.name.rsplit(".", 2)[-2] if path.name.count(".") >= 3 else ""
    return pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but is someone else's
        return True
    return True


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_write(path) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))
