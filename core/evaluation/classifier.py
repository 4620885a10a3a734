"""The domain classifier whose feature space zoo's metrics live in.

A small CNN trained on the dataset's labelled training split (about a minute on a 2-core CPU for the bundled
MNIST subset), cached as safetensors under ``$ZOO_HOME/classifiers`` keyed by a hash of the training data, so
no weights are downloaded and a changed dataset gets a new classifier.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from safetensors.torch import save as st_save
from torch import nn

from zoo.store.atomic import write_bytes
from zoo.datasets import ImageData
from zoo.errors import DataError
from zoo.outputs.images import to_float
from zoo.store.paths import cache_home

VERSION = "cnn-v2"  # change when the network or its training changes, so old caches are not reused
EPOCHS = 6
FEATURES = 128
BATCH = 128
CHUNK = 512


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
        self.trained_now = not self.path.exists()
        if self.trained_now:
            print(f"zoo: training the evaluation classifier for {train.name} (cached for next time)", file=sys.stderr)
            self.net = train_classifier(train, epochs)
            write_bytes(self.path, st_save({k: v.contiguous() for k, v in self.net.state_dict().items()},
                                           metadata={"version": VERSION, "dataset": train.name}))
        else:
            self.net.load_state_dict(load_file(str(self.path)))
        self.net.eval()
        self.weights_sha256 = hashlib.sha256(self.path.read_bytes()).hexdigest()

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
