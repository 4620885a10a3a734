"""A seeded random subset of a dataset, so that evaluating a large (memory-mapped) one stays bounded."""

from __future__ import annotations

import numpy as np

from zoo.datasets import ImageData


def at_most(data: ImageData, limit: int, seed: int) -> ImageData:
    """``data`` itself when it holds at most ``limit`` images, else ``limit`` of them chosen with ``seed`` (in
    their order in ``data``)."""
    if len(data) <= limit:
        return data
    pick = np.sort(np.random.default_rng(seed).choice(len(data), limit, replace=False))
    return data.subset(pick, data.part or "subset")
