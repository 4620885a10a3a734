"""Batches by index from uint8 images: a seeded permutation per epoch, sliced, converted to floats on the device.

No per-sample Python work and no DataLoader workers. Images stay uint8 (a quarter of float32's memory): either
one tensor on the training device, or a memory-mapped file read batch by batch when the data is too large to
hold (:class:`zoo.datasets.mapped.MappedImages`). The state (epoch, position) is two integers and each epoch's order is
derived from (seed, epoch), so a resumed run sees exactly the batches it would have.

With several processes, each step takes ``batch_size`` images per rank from one stretch of the permutation:
rank r gets the r-th slice, so the ranks' shards of an epoch are disjoint and together equal what one process
with ``batch_size * world`` images per step would see.
"""

from __future__ import annotations

import numpy as np
import torch

from zoo.architecture import Batch
from zoo.training.devices import memory_bytes
from zoo.datasets.pixels import to_float


class Batches:
    def __init__(self, images, labels: torch.Tensor | None, batch_size: int, seed: int, *,
                 device: str | torch.device = "cpu", rank: int = 0, world: int = 1, channels_last: bool = False):
        """``images``: a uint8 (N, C, H, W) tensor on ``device``, or an array-like read per batch (a memory-mapped
        file); batches are float tensors on ``device``."""
        self.images, self.labels = images, labels
        self.batch_size, self.seed, self.rank, self.world = batch_size, seed, rank, world
        self.streamed = not torch.is_tensor(images)
        self.device = torch.device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.epoch, self.position = 0, 0
        self._order: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def epoch_finished(self) -> bool:
        return self.position + self.batch_size * self.world > len(self)

    def _permutation(self) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(len(self), generator=generator)
        return order if self.streamed else order.to(self.images.device)

    def next(self) -> Batch:
        if self.epoch_finished:
            self.epoch, self.position, self._order = self.epoch + 1, 0, None
        if self._order is None:
            self._order = self._permutation()
        start = self.position + self.rank * self.batch_size
        index = self._order[start : start + self.batch_size]
        self.position += self.batch_size * self.world
        labels = None if self.labels is None else self.labels[index.to(self.labels.device)]
        return Batch(self._images(index).contiguous(memory_format=self.memory_format), labels)

    def _images(self, index: torch.Tensor) -> torch.Tensor:
        if not self.streamed:
            return to_float(self.images[index], self.device)
        pixels = torch.from_numpy(self.images[index.numpy()])  # read, and its pages handed back
        if self.device.type == "cuda":
            pixels = pixels.pin_memory()
        return to_float(pixels, self.device)

    def sample(self, limit: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Up to ``limit`` training images as floats (all of them when there are fewer), with their labels."""
        index = torch.arange(len(self))
        if len(self) > limit:
            index = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:limit].sort().values
        labels = None if self.labels is None else self.labels[index.to(self.labels.device)]
        images = self.images[index.numpy()] if self.streamed else self.images[index.to(self.images.device)]
        return to_float(images if torch.is_tensor(images) else np.asarray(images), self.device), labels

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        epoch, position = int(state["epoch"]), int(state["position"])
        if epoch < 0 or not 0 <= position <= len(self):
            raise ValueError(f"data position (epoch {epoch}, image {position}) is outside this dataset")
        self.epoch, self.position, self._order = epoch, position, None


HELDOUT_LIMIT = 2000  # held-out images kept on the device for the validation figures
IN_MEMORY_FRACTION = 0.25  # --data-access auto streams images that would take more of the machine's memory


def data_batches(data, config, device: torch.device, world, channels_last: bool) -> Batches:
    """A run's training batches: on the device, or streamed from a memory-mapped file when ``--data-access``
    says so (``auto``: when the images would take more than a quarter of the machine's memory)."""
    labels = None if data.labels is None else torch.from_numpy(data.labels).to(device)
    stream = data.mapped and (config.data_access == "stream" or (
        config.data_access == "auto" and data.images.nbytes > IN_MEMORY_FRACTION * memory_bytes()))
    images = data.images if stream else torch.from_numpy(np.asarray(data.images)).to(device)
    if data.mapped and not stream:
        data.images.release()  # read once; the copy in memory is the one used
    return Batches(images, labels, config.batch_size, config.seed, device=device, rank=world.rank, world=world.size,
                   channels_last=channels_last)


def held_out(data, device: torch.device, limit: int = HELDOUT_LIMIT) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The first ``limit`` held-out images (as floats) and labels, on the device, for the validation figures."""
    count = min(len(data), limit)
    labels = None if data.labels is None else torch.from_numpy(data.labels[:count]).to(device)
    return to_float(data.images[:count], device), labels
