"""zoo plugin: DCGAN. This module stays light (no torch); the networks load from ``zoo_dcgan.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.gan_config import GANConfig

ZOO_API = "1.6"  # the zoo plugin API this plugin is written against


@dataclass
class DCGANConfig(GANConfig):
    latent_dim: int = option(64, "size of the noise vector z", maximum=4096)
    width: int = option(32, "channels of the widest-resolution conv layer; deeper layers double it (max 8x)", maximum=1024)
    beta1: float = option(0.0)
    beta2: float = option(0.99)
    depth: int = option(1, "extra 3x3 convolutions at each resolution of both networks", maximum=8)
    upsample: str = option("transposed", "how the generator doubles its resolution: a 4x4 transposed convolution "
                           "(DCGAN's) or nearest-neighbour then a 3x3 convolution", choices=("transposed", "nearest"))
    penalty: str = option("r1")
    penalty_weight: float = option(1.0, "weight of the penalty: R1's gamma / 2 (0: off)")
    penalty_every: int = option(4, "apply the penalty every so many steps, at that many times the weight")
    ema_decay: float = option(0.99, "decay of an EMA of the generator used for sampling (0: off)")
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
        train_defaults={"steps": 4000, "batch_size": 64},
    )
