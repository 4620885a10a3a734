"""Labels read from a user's file: one non-negative integer class id per image, checked before any cast.

The number of classes a labelled dataset has is its largest id plus one, and conditional models size their class
embeddings and sample grids by it. So the ids must be roughly 0 .. K-1: they may skip some values (a subset of
another dataset's classes), but at most as many as are used plus :data:`SPARE_IDS`. With D distinct labels the
largest id must be below ``2 * D + SPARE_IDS``; a label of 2,000,000 among two classes is a mistake, not a class.
"""

from __future__ import annotations

import numpy as np

from zoo.errors import DataError
from zoo.datasets.image_data import MAX_CLASSES

SPARE_IDS = 16


def check_labels(labels, count: int, where: str) -> np.ndarray:
    """``labels`` as an int64 (count,) array of class ids, or a one-line DataError naming ``where``."""
    if not isinstance(labels, np.ndarray):
        raise DataError(f"{where}: 'labels' is not a numpy array (raw bytes in the archive; refused unread)")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (count,):
        raise DataError(f"{where}: labels of shape {labels.shape}; expected one per image: ({count},) or ({count}, 1)")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: labels must be non-negative integers (class ids), got {labels.dtype}")
    if count == 0:
        return labels.astype(np.int64)
    low, high = labels.min(), labels.max()  # in the file's own dtype: a uint64 above 2**63 is still itself
    if low < 0:
        raise DataError(f"{where}: label {int(low)} is negative; labels must be class ids 0, 1, 2, ...")
    if high >= MAX_CLASSES:
        raise DataError(f"{where}: label {int(high)} is above zoo's maximum of {MAX_CLASSES:,} classes "
                        f"(ids 0..{MAX_CLASSES - 1})")
    distinct = len(np.unique(labels))
    if high >= 2 * distinct + SPARE_IDS:
        raise DataError(f"{where}: label {int(high)} but only {distinct} distinct labels; ids may leave at most as "
                        f"many values unused as they use, plus {SPARE_IDS} (largest allowed here: "
                        f"{2 * distinct + SPARE_IDS - 1}). Renumber them 0..{distinct - 1}, e.g. "
                        f"np.unique(labels, return_inverse=True)[1]")
    return labels.astype(np.int64)
