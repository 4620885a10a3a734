"""zoo plugin: conditional GAN. This module stays light (no torch); the networks load from ``zoo_cgan.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.gan_config import GANConfig

ZOO_API = "1.1"  # the zoo plugin API this plugin is written against


@dataclass
class CGANConfig(GANConfig):
    latent_dim: int = option(64, "size of the noise vector z", maximum=4096)
    width: int = option(32, "channels of the widest-resolution conv layer; deeper layers double it (max 8x)", maximum=1024)
    embed_dim: int = option(16, "size of the label embedding concatenated to z in the generator", minimum=1, maximum=4096)
    conditioning: str = option(
        "concat", "label in the discriminator: an input plane (concat) or a projection head (Miyato & Koyama 2018)",
        choices=("concat", "projection"))
    ema_decay: float = option(0.999, "decay of an EMA of the generator used for sampling (0: off)")
    d_norm: str = option("batch", "normalisation in the discriminator (spectral: Miyato et al. 2018)",
                         choices=("batch", "layer", "none", "spectral"))


@zoo.hookimpl
def register_architectures(register):
    register(
        "cgan",
        "zoo_cgan.model:CGAN",
        config=CGANConfig,
        summary="Conditional GAN: class labels into both networks (Mirza & Osindero 2014)",
        data_shapes=[(1, 28, 28), (3, 32, 32), (3, 64, 64)],
        train_defaults={"steps": 5000, "batch_size": 64},
    )
