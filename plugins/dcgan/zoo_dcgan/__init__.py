"""zoo plugin: DCGAN. This module stays light (no torch); the networks load from ``zoo_dcgan.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.gan_config import GANConfig

ZOO_API = "1.1"  # the zoo plugin API this plugin is written against


@dataclass
class DCGANConfig(GANConfig):
    latent_dim: int = option(64, "size of the noise vector z")
    width: int = option(64, "channels of the widest-resolution conv layer; deeper layers double it (max 8x)")
    ema_decay: float = option(0.999, "decay of an EMA of the generator used for sampling (0: off)")
    d_norm: str = option("batch", "normalisation in the discriminator; spectral with loss=hinge is an SN-GAN",
                         choices=("batch", "layer", "none", "spectral"))


@zoo.hookimpl
def register_architectures(register):
    register(
        "dcgan",
        "zoo_dcgan.model:DCGAN",
        config=DCGANConfig,
        summary="Deep convolutional GAN (Radford et al. 2015)",
        data_shapes=[(1, 28, 28), (3, 32, 32), (3, 64, 64)],
        train_defaults={"steps": 3000, "batch_size": 64},
    )
