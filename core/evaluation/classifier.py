"""The domain classifier whose feature space zoo's metrics live in.

A small CNN trained on the dataset's labelled training split (about a minute on a 2-core CPU for the bundled
MNIST subset), cached as safetensors under ``$ZOO_HOME/classifiers`` keyed by a hash of the training data, so
no weights are downloaded and a changed dataset gets a new classifier. A cache file that cannot be read back
(not a regular file, not safetensors, tensors of another network) is trained again, with a line on stderr.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from zoo.store.atomic import write_bytes
from zoo.datasets import ImageData
from zoo.errors import DataError, ZooError
from zoo.outputs.images import to_float
from zoo.store.paths import cache_home
from zoo.store.regular_files import read_regular

VERSION = "cnn-v2"  # change when the network or its training changes, so old caches are not reused
EPOCHS = 6
FEATURES = 128
BATCH = 128
CHUNK = 512
CACHE_LIMIT = 64 * 2**20  # the cached classifier is about 1.7 MB


class ClassifierNet(nn.Module):
    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, x):
        return self.head(self.body(x))


def data_key(data: ImageData) -> str:
    return hashlib.sha256(f"{VERSION}\n{data.sha256()}".encode()).hexdigest()[:32]


def train_classifier(data: ImageData, epochs: int = EPOCHS, seed: int = 0) -> ClassifierNet:
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = ClassifierNet(data.shape[0], data.num_classes)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    images, labels = to_float(data.images), torch.from_numpy(data.labels)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), BATCH):
            index = order[start : start + BATCH]
            x = images[index]
            shift = torch.randint(-2, 3, (2,), generator=generator).tolist()  # small translations
            x = torch.roll(x, shifts=shift, dims=(2, 3))
            loss = nn.functional.cross_entropy(net(x), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net.eval()


class DomainFeatures:
    """Features (the CNN's last hidden layer) and class logits, from a classifier trained on ``train``."""

    def __init__(self, train: ImageData, epochs: int = EPOCHS):
        if train.labels is None:
            raise DataError(f"{train.name} has no labels: zoo's evaluation classifier trains on a labelled dataset "
                            "(one subfolder per class, or 'labels' in the .npz)")
        self.num_classes = train.num_classes
        self.path = cache_home() / "classifiers" / f"{data_key(train)}.safetensors"
        self.net = ClassifierNet(train.shape[0], self.num_classes)
        cached = self._load_cached()
        self.trained_now = cached is None
        if self.trained_now:
            if not self.path.exists() and not self.path.is_symlink():
                print(f"zoo: training the evaluation classifier for {train.name} (cached for next time)", file=sys.stderr)
            self.net = train_classifier(train, epochs)
            cached = st_save({k: v.contiguous() for k, v in self.net.state_dict().items()},
                             metadata={"version": VERSION, "dataset": train.name})
            write_bytes(self.path, cached)
        self.net.eval()
        self.weights_sha256 = hashlib.sha256(cached).hexdigest()

    def _load_cached(self) -> bytes | None:
        """The cached file's bytes, once its weights are in ``self.net``; None when there is no cache or it cannot
        be read back (then said on stderr: it is trained again and replaced)."""
        if not self.path.exists() and not self.path.is_symlink():
            return None
        try:
            data = read_regular(self.path, CACHE_LIMIT)
            self.net.load_state_dict(st_load(data))
        except (ZooError, OSError, SafetensorError, RuntimeError, ValueError) as exc:
            problem = " ".join(str(exc).replace(f"{self.path}: ", "").split())[:120]
            print(f"zoo: {self.path}: the cached evaluation classifier cannot be read ({problem}); training it "
                  "again", file=sys.stderr)
            return None
        return data

    @torch.no_grad()
    def _run(self, images: torch.Tensor, part) -> np.ndarray:
        return torch.cat([part(chunk.float().cpu()) for chunk in images.split(CHUNK)]).numpy()

    def features(self, images: torch.Tensor) -> np.ndarray:
        return self._run(images, self.net.body)

    def logits(self, images: torch.Tensor) -> np.ndarray:
        return self._run(images, self.net)

    def accuracy(self, data: ImageData) -> float:
        predicted = self.logits(to_float(data.images)).argmax(1)
        return float((predicted == data.labels).mean())
