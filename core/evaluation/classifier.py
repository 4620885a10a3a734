"""The domain classifier whose feature space zoo's metrics live in.

A small CNN trained on the dataset's labelled training split (about a minute on one CPU thread for the bundled
MNIST subset, whose held-out digits it then reads 99 % right). For the bundled subset its weights ship inside
the package (``feature_network_mnist_5k.safetensors``), so every machine scores MNIST in the one feature space of
docs/quality.md. For other data it is trained once and cached as safetensors under ``$ZOO_HOME/classifiers``,
keyed by a hash of the training data, so no weights are downloaded and a changed dataset gets a new classifier;
a lock beside the cache makes a second process that needs it wait for the first rather than train its own. A
cache file that cannot be read back (not a regular file, not safetensors, tensors of another network) is trained
again, with a line on stderr.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from zoo.store.atomic import write_bytes
from zoo.store.file_lock import exclusive
from zoo.datasets import ImageData
from zoo.errors import DataError, ZooError
from zoo.evaluation.threads import one_thread
from zoo.datasets.pixels import to_float
from zoo.store.paths import cache_home
from zoo.store.regular_files import read_regular

log = logging.getLogger(__name__)

VERSION = "cnn-v3"  # change when the network or its training changes, so old caches are not reused (and, with
# them, every figure's provenance: the weights' sha256 differs, so old eval.json files are not compared with new)
EPOCHS = 15
WIDTH = 32  # channels of the first stage; the second has twice as many
FEATURES = 128
DROPOUT = 0.25
BATCH = 64
LR = 3e-3  # the peak of the one-cycle schedule
WEIGHT_DECAY = 5e-4
MIN_SCHEDULE = 10  # OneCycleLR needs a few steps; a shorter training (tests) stops early in the cycle
SHIFT = 2  # random translations of up to so many pixels each way, per image
CHUNK = 512
CACHE_LIMIT = 64 * 2**20  # the cached classifier is about 1.8 MB
SHIPPED = {"170fb60210841fa6c1e9b15ad649661d": "feature_network_mnist_5k.safetensors"}  # data_key -> file here


def _conv(inputs: int, outputs: int) -> list[nn.Module]:
    return [nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU()]


class ClassifierNet(nn.Module):
    """Two stages of two 3x3 convolutions (batch-normalised) each, then a 128-wide hidden layer: the features."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.body = nn.Sequential(
            *_conv(in_channels, WIDTH), *_conv(WIDTH, WIDTH), nn.MaxPool2d(2),
            *_conv(WIDTH, 2 * WIDTH), *_conv(2 * WIDTH, 2 * WIDTH), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Dropout(DROPOUT), nn.Linear(2 * WIDTH * 49, FEATURES), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(FEATURES, num_classes))

    def forward(self, x):
        return self.head(self.body(x))


def translate(x: torch.Tensor, generator: torch.Generator, most: int = SHIFT) -> torch.Tensor:
    """Each image moved by its own random offset of up to ``most`` pixels each way (edges replicated)."""
    n, c, h, w = x.shape
    padded = nn.functional.pad(x, (most,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * most + 1, (2, n), generator=generator)
    rows = (dy[:, None] + torch.arange(h)).view(n, 1, h, 1).expand(n, c, h, w + 2 * most)
    cols = (dx[:, None] + torch.arange(w)).view(n, 1, 1, w).expand(n, c, h, w)
    return padded.gather(2, rows).gather(3, cols)


def data_key(data: ImageData) -> str:
    return hashlib.sha256(f"{VERSION}\n{data.sha256()}".encode()).hexdigest()[:32]


def train_classifier(data: ImageData, epochs: int | None = None, seed: int = 0, progress=None) -> ClassifierNet:
    """AdamW with a one-cycle learning rate over ``epochs`` (default EPOCHS) passes, each image translated at
    random; seeded, on one thread (the same weights for the same data, whatever the machine's thread count).
    ``progress(done, total)`` hears of each optimiser step."""
    with one_thread():
        return _train(data, EPOCHS if epochs is None else epochs, seed, progress)


def _train(data: ImageData, epochs: int, seed: int, progress) -> ClassifierNet:
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = ClassifierNet(data.shape[0], data.num_classes).to(memory_format=torch.channels_last)
    images, labels = to_float(data.images), torch.from_numpy(data.labels)
    steps = epochs * math.ceil(len(images) / BATCH)
    optimizer = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=max(steps, MIN_SCHEDULE))
    net.train()
    done = 0
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # dropout's masks
        for _ in range(epochs):
            order = torch.randperm(len(images), generator=generator)
            for start in range(0, len(images), BATCH):
                index = order[start : start + BATCH]
                x = translate(images[index], generator).contiguous(memory_format=torch.channels_last)
                loss = nn.functional.cross_entropy(net(x), labels[index])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                done += 1
                if progress is not None:
                    progress(done, steps)
    return net.eval()


def weights_file(net: ClassifierNet) -> bytes:
    """The network's weights as a safetensors file: the same bytes for the same weights in every process (one
    metadata key: safetensors writes several in an order that changes from process to process)."""
    return st_save({k: v.contiguous() for k, v in net.state_dict().items()}, metadata={"version": VERSION})


class DomainFeatures:
    """Features (the CNN's last hidden layer) and class logits, from a classifier trained on ``train``."""

    def __init__(self, train: ImageData, epochs: int | None = None, progress=None):
        """``progress(done, total)`` hears of the training steps, when the network has to be trained."""
        if train.labels is None:
            raise DataError(f"{train.name} has no labels: zoo's evaluation classifier trains on a labelled dataset "
                            "(one subfolder per class, or 'labels' in the .npz)")
        self.num_classes = train.num_classes
        key = data_key(train)
        self.path = cache_home() / "classifiers" / f"{key}.safetensors"
        self.net = ClassifierNet(train.shape[0], self.num_classes)
        self.trained_now = False
        if key in SHIPPED:
            self._load_shipped(SHIPPED[key])
        elif not self._load_cached(quiet=True):
            lock = self.path.with_suffix(".lock")
            with exclusive(lock, waiting=lambda: log.info("another process is training the evaluation classifier "
                                                          "for %s; waiting for it (%s)", train.name, lock)):
                if not self._load_cached():  # the process waited for may have cached it
                    self._train_and_cache(train, epochs, progress)
        self.net.eval().to(memory_format=torch.channels_last)
        self.weights_sha256 = hashlib.sha256(weights_file(self.net)).hexdigest()

    def _train_and_cache(self, train: ImageData, epochs: int | None, progress) -> None:
        if not self.path.exists() and not self.path.is_symlink():
            log.info("training the evaluation classifier for %s, once (cached for next time)", train.name)
        self.net = train_classifier(train, epochs, progress=progress)
        write_bytes(self.path, weights_file(self.net))
        self.trained_now = True

    def _load_shipped(self, name: str) -> None:
        path = Path(__file__).with_name(name)
        try:
            self.net.load_state_dict(st_load(path.read_bytes()))
        except (OSError, SafetensorError, RuntimeError) as exc:
            raise ZooError(f"{path}: the feature network shipped with zoo cannot be read ({type(exc).__name__}); "
                           "reinstall zoo-core") from None

    def _load_cached(self, quiet: bool = False) -> bool:
        """Whether the cached weights are now in ``self.net``; False when there is no cache or it cannot be read
        back (then said on stderr unless ``quiet``: it is trained again and replaced)."""
        if not self.path.exists() and not self.path.is_symlink():
            return False
        try:
            self.net.load_state_dict(st_load(read_regular(self.path, CACHE_LIMIT)))
        except (ZooError, OSError, SafetensorError, RuntimeError, ValueError) as exc:
            if not quiet:
                problem = " ".join(str(exc).replace(f"{self.path}: ", "").split())[:120]
                log.info("%s: the cached evaluation classifier cannot be read (%s); training it again", self.path,
                         problem)
            return False
        return True

    @torch.no_grad()
    def _run(self, images: torch.Tensor, part) -> np.ndarray:
        return torch.cat([part(chunk.float().cpu().contiguous(memory_format=torch.channels_last))
                          for chunk in images.split(CHUNK)]).numpy()

    def features(self, images: torch.Tensor) -> np.ndarray:
        return self._run(images, self.net.body)

    def logits(self, images: torch.Tensor) -> np.ndarray:
        return self._run(images, self.net)

    def accuracy(self, data: ImageData) -> float:
        predicted = self.logits(to_float(data.images)).argmax(1)
        return float((predicted == data.labels).mean())
