"""Tiny labelled image sets for the evaluation tests: two classes any classifier separates in one epoch."""

import numpy as np

from zoo.datasets import ImageData


def tiny_labelled(seed=0, n=40):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = np.where(labels[:, None, None, None] == 1, 200, 30).astype(np.uint8) + rng.integers(0, 20, (n, 1, 28, 28), dtype=np.uint8)
    return ImageData(images, labels.astype(np.int64), f"tiny{seed}")
