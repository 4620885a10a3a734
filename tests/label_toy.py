"""Ten classes any classifier tells apart (class c: a bright block in cell c of a 2 x 5 grid), and a conditional
model that draws them: right (``stamp``) or for a shuffled label (``stamp --set shuffle=true``)."""

from dataclasses import dataclass

import numpy as np
import torch

import zoo
from zoo.architecture import Architecture
from zoo.config import option
from zoo.datasets import ImageData

CLASSES = 10
SHUFFLED = torch.tensor([3, 7, 0, 9, 1, 6, 8, 2, 5, 4])  # no label keeps its class


def stamps(labels: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1]: ``noise`` (N, 1, 28, 28) in [0, 1] as faint speckle, with the block of each label."""
    images = noise * 0.3 - 1
    for index, label in enumerate(labels.tolist()):
        row, column = divmod(label, 5)
        images[index, :, 2 + 13 * row : 13 + 13 * row, 1 + 5 * column : 6 + 5 * column] += 1.6
    return images.clamp(-1, 1)


def stamp_data(seed: int = 0, n: int = 300, name: str = "stamps", doubles: float = 0.0) -> ImageData:
    """``n`` images, labels 0..9 in turn; a share ``doubles`` of them (chosen at random) also carry the block of
    another class, as bright: images a classifier can only guess at, so its floor on them is below 100 %."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % CLASSES
    images = stamps(labels, torch.rand(n, 1, 28, 28, generator=generator))
    double = torch.rand(n, generator=generator) < doubles
    others = (labels + torch.randint(1, CLASSES, (n,), generator=generator)) % CLASSES
    images[double] = torch.maximum(images[double], stamps(others[double], torch.zeros(int(double.sum()), 1, 28, 28)))
    pixels = ((images + 1) * 127.5).round().to(torch.uint8).numpy()
    return ImageData(pixels, labels.numpy().astype(np.int64), name)


@dataclass
class StampConfig:
    shuffle: bool = option(False, "draw each label's block for another label")


class Stamp(Architecture):
    conditional = True

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        self.gain = torch.nn.Parameter(torch.ones(()))

    def configure_optimizers(self):
        return {"main": torch.optim.SGD(self.parameters(), lr=0.0)}

    def training_step(self, batch, step):
        loss = (self.gain - 1) ** 2
        self.optimize("main", loss)
        return {"loss": loss.detach()}

    def sample_latent(self, n, generator=None):
        return torch.rand(n, 1, 28, 28, generator=generator)

    def generate(self, z, labels=None):
        labels = SHUFFLED[labels.cpu()] if self.config.shuffle else labels.cpu()
        return stamps(labels, z.cpu()).to(z.device) * self.gain


class StampPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register("stamp", "label_toy:Stamp", config=StampConfig, summary="draws the block of each class",
                 data_shapes=[(1, 28, 28)], train_defaults={"steps": 1, "batch_size": 16})
