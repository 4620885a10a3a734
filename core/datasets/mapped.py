"""Images in an ``.npy`` file, memory-mapped: a dataset many times the machine's memory trains with bounded
resident memory. Indexing reads only the rows asked for; :meth:`MappedImages.release` hands the pages read so
far back to the page cache (they stay cached, but no longer count against the process). Release often: the
kernel maps page-cache blocks far larger than one image on each read (about 0.5 MB per random row measured
here), so a few hundred random rows already map gigabytes.

``zoo train --data big.npy`` takes such a file directly (uint8, (N, C, H, W) or (N, H, W[, C])); image folders
are converted into one once (:mod:`zoo.datasets.folder_cache`).
"""

from __future__ import annotations

import math
import mmap
from pathlib import Path

import numpy as np

from zoo.errors import DataError
from zoo.store.regular_files import UnreadableFile, open_regular


READ_ROWS = 512  # rows read between page releases (random rows map about 0.5 MB each)


class MappedImages:
    """A read-only uint8 (N, C, H, W) view of an ``.npy`` file, or of some of its rows (``rows``)."""

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, path: str | Path, rows: np.ndarray | None = None, *, _shared=None):
        self.path = Path(path)
        self._file, self._all, self.channels_last = _shared or _open(self.path)
        self.rows = rows

    @property
    def shape(self) -> tuple[int, int, int, int]:
        n, *rest = self._all.shape
        if self.channels_last:
            rest = [rest[2], rest[0], rest[1]]
        return (n if self.rows is None else len(self.rows), *rest)  # type: ignore[return-value]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        """Rows ``index`` (an int, slice or integer array) read into memory as (n, C, H, W), in pieces, each
        piece's pages handed back before the next is read."""
        rows = np.arange(len(self))[index] if isinstance(index, slice) else np.asarray(index)
        if self.rows is not None:
            rows = self.rows[rows]
        if rows.ndim == 0:
            return self[np.asarray([rows])][0]
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.uint8)
        for start in range(0, len(rows), READ_ROWS):
            piece = self._all[rows[start : start + READ_ROWS]]
            out[start : start + READ_ROWS] = np.moveaxis(piece, -1, -3) if self.channels_last else piece
            self.release()
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[slice(None)]
        return whole if dtype is None else whole.astype(dtype)

    def view(self, index: np.ndarray) -> "MappedImages":
        """The rows ``index`` of this one, still on disk."""
        index = np.asarray(index, dtype=np.int64)
        return MappedImages(self.path, index if self.rows is None else self.rows[index],
                            _shared=(self._file, self._all, self.channels_last))

    def release(self) -> None:
        self._file.madvise(mmap.MADV_DONTNEED)


def _open(path: Path):
    try:
        with open_regular(path) as fh:  # a FIFO would block a plain open, a device never end
            version = np.lib.format.read_magic(fh)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(fh)
            offset = fh.tell()
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except UnreadableFile as exc:
        raise DataError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({type(exc).__name__}: {exc})") from None
    if dtype != np.uint8 or fortran or len(shape) not in (3, 4):
        raise DataError(f"{path}: a memory-mapped dataset must be a C-ordered uint8 array of (N, C, H, W), (N, H, W) "
                        f"or (N, H, W, C); got {dtype} {shape}{' in Fortran order' if fortran else ''}")
    if any(side < 0 for side in shape):
        raise DataError(f"{path}: the header's shape {shape} has a negative side; not a valid .npy file")
    if len(shape) == 3:
        shape = (shape[0], 1, *shape[1:])
    channels_last = shape[1] not in (1, 3) and shape[3] in (1, 3)
    if not channels_last and shape[1] not in (1, 3):
        raise DataError(f"{path}: images of shape {shape}; expected 1 or 3 channels")
    count = math.prod(shape)  # Python ints: a header's huge shape cannot wrap around
    if offset + count > len(mapped):
        raise DataError(f"{path}: the file is shorter than its header says (truncated?): {shape} needs {count:,} bytes "
                        f"of pixels, the file holds {len(mapped) - offset:,}")
    array = np.frombuffer(mapped, dtype=np.uint8, count=count, offset=offset).reshape(shape)
    return mapped, array, channels_last
