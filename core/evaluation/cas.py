"""The classification accuracy score (CAS, Ravuri & Vinyals 2019) of a conditional model.

A small CNN is trained on the model's labelled samples and tested on the held-out real images; the same CNN,
trained the same way (same seed, same number of steps, same batch) on the real training images, gives the
figure to read it against. A model whose samples of each label look like the data's images of that label, in
their variety, scores near the real figure; one whose labels are wrong, or that draws one prototype per label,
scores below it. The network is independent of the feature space the other figures live in.

Seeded and trained on one thread, so deterministic; a few seconds on a CPU for 5,000 28x28 samples.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from zoo.datasets import ImageData
from zoo.evaluation.subsets import at_most as _at_most, pick
from zoo.evaluation.threads import one_thread
from zoo.datasets.pixels import to_float

EPOCHS = 3  # passes over the real training images (capped at IMAGES); the samples' classifier takes as many steps
BATCH = 64
LR = 2e-3
IMAGES = 10_000  # images each classifier may learn from (a seeded subset of larger sets)
CHUNK = 1000


class SmallCNN(nn.Module):
    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Linear(32 * 49, num_classes),
        )

    def forward(self, x):
        return self.net(x)


def _subset(images: torch.Tensor, labels: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    chosen = pick(len(images), IMAGES, seed)
    return (images, labels) if chosen is None else (images[chosen], labels[chosen])


def fit(images: torch.Tensor, labels: torch.Tensor, num_classes: int, steps: int, seed: int = 0) -> SmallCNN:
    """A SmallCNN trained for ``steps`` batches drawn epoch by epoch from (``images`` in [-1, 1], ``labels``), on
    one thread (the same network whatever the machine's thread count)."""
    with one_thread():
        return _fit(images, labels, num_classes, steps, seed)


def _fit(images: torch.Tensor, labels: torch.Tensor, num_classes: int, steps: int, seed: int) -> SmallCNN:
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = SmallCNN(images.shape[1], num_classes).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    order = torch.empty(0, dtype=torch.long)
    net.train()
    for _ in range(steps):
        if len(order) == 0:
            order = torch.randperm(len(images), generator=generator)
        index, order = order[:BATCH], order[BATCH:]
        x = images[index].float().contiguous(memory_format=torch.channels_last)
        loss = nn.functional.cross_entropy(net(x), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return net.eval()


@torch.no_grad()
def accuracy(net: SmallCNN, images: torch.Tensor, labels: np.ndarray) -> float:
    predicted = torch.cat([net(chunk.float().contiguous(memory_format=torch.channels_last)).argmax(1)
                           for chunk in images.split(CHUNK)])
    return float((predicted.numpy() == labels).mean())


_real_scores: dict = {}  # (the real images' hashes, steps, seed) -> the real figure, made once a process


def classification_accuracy_score(samples: torch.Tensor, sample_labels: np.ndarray, train: ImageData,
                                  heldout_images: torch.Tensor, heldout_labels: np.ndarray, num_classes: int,
                                  seed: int = 0, real_key: str | None = None) -> dict:
    """{"model": CAS, "real": the same classifier trained on the real training images ``train`` (at most IMAGES
    of them, a seeded subset), both tested on the held-out real images, with the binomial standard error of each
    and what they were trained on}. ``real_key`` names the real images (their hashes), so that an --eval-every
    run trains the real figure's classifier once."""
    real = _at_most(train, IMAGES, seed)
    steps = EPOCHS * math.ceil(len(real) / BATCH)
    fake_images, fake_labels = _subset(samples, torch.from_numpy(sample_labels), seed)
    scores = {"model": accuracy(fit(fake_images, fake_labels, num_classes, steps, seed), heldout_images, heldout_labels)}
    key = None if real_key is None else (real_key, steps, seed)
    scores["real"] = _real_scores.get(key) if key is not None else None
    if scores["real"] is None:
        net = fit(to_float(real.images), torch.from_numpy(real.labels), num_classes, steps, seed)
        scores["real"] = accuracy(net, heldout_images, heldout_labels)
        if key is not None:
            _real_scores[key] = scores["real"]
    n = len(heldout_labels)
    return {**scores, **{f"{name}_se": math.sqrt(value * (1 - value) / n) for name, value in list(scores.items())},
            "heldout_n": n, "model_train_images": len(fake_images), "real_train_images": len(real), "steps": steps,
            "batch": BATCH}
