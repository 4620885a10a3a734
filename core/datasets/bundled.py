"""The 5,000-digit MNIST subset (500 per class) that ships inside zoo, so training works offline."""

from __future__ import annotations

from importlib.resources import files

import numpy as np

from zoo.datasets.image_data import ImageData

DIGITS = tuple(str(d) for d in range(10))
PATH = files(__package__).joinpath("mnist_5k.npz")


def load_mnist_5k() -> ImageData:
    with PATH.open("rb") as fh, np.load(fh) as npz:
        images = npz["images"][:, None, :, :]
        labels = npz["labels"].astype(np.int64)
    return ImageData(images, labels, "mnist", DIGITS)
