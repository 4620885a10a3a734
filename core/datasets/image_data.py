"""A dataset: uint8 images (N, C, H, W), in memory or memory-mapped, optional labels, and where it came from.

Labels are class ids 0 .. K-1 with K at most :data:`MAX_CLASSES`: a conditional model sizes its class embeddings
by the largest id, so one stray huge id (2,000,000) would make it allocate tens of gigabytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from zoo.errors import DataError

MAX_CLASSES = 10_000  # the most classes a dataset may have (class ids 0 .. MAX_CLASSES - 1)


@dataclass(frozen=True)
class ImageData:
    images: np.ndarray  # uint8, (N, C, H, W); or a MappedImages, read from disk by index
    labels: np.ndarray | None  # int64, (N,)
    name: str
    classes: tuple[str, ...] | None = None
    source: str | None = None  # what datasets.load was given (a registered name or a path); None: built in memory
    part: str | None = None  # "train" or "heldout" for a split(), None for the whole dataset

    def __post_init__(self):
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise DataError(f"{self.name}: images must be uint8 (N, C, H, W), got {self.images.dtype} {self.images.shape}")
        if len(self.images) == 0:
            raise DataError(f"{self.name}: no images")
        if self.labels is not None:
            object.__setattr__(self, "labels", self._checked_labels())  # frozen: set past the dataclass's guard

    def _checked_labels(self) -> np.ndarray:
        """The labels as int64, after checking they are class ids within bounds (before any cast could wrap)."""
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or len(labels) != len(self.images):
            raise DataError(f"{self.name}: labels of shape {labels.shape} for {len(self.images)} images; "
                            f"expected one label per image, shape ({len(self.images)},)")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{self.name}: labels must be integer class ids, got {labels.dtype}")
        if self.classes and len(self.classes) > MAX_CLASSES:
            raise DataError(f"{self.name}: {len(self.classes):,} classes; zoo takes at most {MAX_CLASSES:,}")
        limit = len(self.classes) if self.classes else MAX_CLASSES
        if len(labels) and (labels.min() < 0 or labels.max() >= limit):
            bad = labels.min() if labels.min() < 0 else labels.max()
            bound = f"{len(self.classes)} class names" if self.classes else f"zoo's maximum of {MAX_CLASSES:,} classes"
            raise DataError(f"{self.name}: label {int(bad)} is outside 0..{limit - 1} ({bound})")
        return labels.astype(np.int64, copy=False)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int | None:
        if self.labels is None:
            return None
        return len(self.classes) if self.classes else int(self.labels.max()) + 1

    def sha256(self) -> str:
        """A fingerprint of the pixels and labels: equal data, equal hash, wherever and however it was loaded.
        Computed once per object (the classifier cache, the feature cache and eval.json all ask)."""
        if "_sha256" in self.__dict__:
            return self.__dict__["_sha256"]
        digest = hashlib.sha256(str(tuple(self.images.shape)).encode())
        for start in range(0, len(self), 10_000):  # in pieces: a memory-mapped dataset is never read whole
            digest.update(np.ascontiguousarray(self.images[start : start + 10_000]).tobytes())
        if self.labels is not None:
            digest.update(np.ascontiguousarray(self.labels, dtype=np.int64).tobytes())
        object.__setattr__(self, "_sha256", digest.hexdigest())  # frozen: set past the dataclass's guard
        return self._sha256

    @property
    def mapped(self) -> bool:
        """Whether the images stay on disk (memory-mapped) until indexed."""
        return hasattr(self.images, "release")

    def subset(self, index: np.ndarray, part: str) -> "ImageData":
        labels = None if self.labels is None else self.labels[index]
        images = self.images.view(index) if self.mapped else self.images[index]
        return replace(self, images=images, labels=labels, name=f"{self.name}:{part}", part=part)
