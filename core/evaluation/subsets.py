"""A seeded random subset of a dataset, so that evaluating a large (memory-mapped) one stays bounded."""

from __future__ import annotations

import numpy as np

from zoo.datasets import ImageData


def pick(count: int, limit: int, seed: int) -> np.ndarray | None:
    """The sorted indices of ``limit`` of ``count`` items chosen with ``seed``; None when all of them fit."""
    if count <= limit:
        return None
    return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))


def at_most(data: ImageData, limit: int, seed: int) -> ImageData:
    """``data`` itself when it holds at most ``limit`` images, else ``limit`` of them chosen with ``seed`` (in
    their order in ``data``)."""
    chosen = pick(len(data), limit, seed)
    return data if chosen is None else data.subset(chosen, data.part or "subset")
