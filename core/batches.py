"""Batches from a dataset held in memory as one tensor: a seeded permutation per epoch, sliced by index.

No per-sample Python work and no DataLoader workers: for datasets that fit in memory this is several times
faster than the usual per-sample DataLoader on a small CPU. The state (epoch, position) is two integers, and
each epoch's order is derived from (seed, epoch), so a resumed run sees exactly the batches it would have.
"""

from __future__ import annotations

import torch

from .architecture import Batch


class InMemoryBatches:
    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None, batch_size: int, seed: int):
        self.images, self.labels = images, labels
        self.batch_size, self.seed = batch_size, seed
        self.epoch, self.position = 0, 0
        self._order: torch.Tensor | None = None

    @property
    def epoch_finished(self) -> bool:
        return self.position + self.batch_size > len(self.images)

    def _permutation(self) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.randperm(len(self.images), generator=generator).to(self.images.device)

    def next(self) -> Batch:
        if self.epoch_finished:
            self.epoch, self.position, self._order = self.epoch + 1, 0, None
        if self._order is None:
            self._order = self._permutation()
        index = self._order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return Batch(self.images[index], None if self.labels is None else self.labels[index])

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        epoch, position = int(state["epoch"]), int(state["position"])
        if epoch < 0 or not 0 <= position <= len(self.images):
            raise ValueError(f"data position (epoch {epoch}, image {position}) is outside this dataset")
        self.epoch, self.position, self._order = epoch, position, None
