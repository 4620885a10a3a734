"""zoo plugin: convolutional autoencoder. This module stays light (no torch); the model loads from ``.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option

ZOO_API = "1.8"  # the zoo plugin API this plugin is written against


@dataclass
class AutoencoderConfig:
    latent_dim: int = option(16, "size of the latent code", minimum=1, maximum=4096)
    width: int = option(32, "channels of the first encoder conv layer; deeper layers double it (max 8x)",
                        minimum=1, maximum=1024)
    norm: str = option("batch", "normalisation in the conv stacks", choices=("batch", "layer", "none"))
    depth: int = option(0, "extra 3x3 convolutions at each resolution of the encoder and the decoder",
                        minimum=0, maximum=8)
    loss: str = option("bce", "reconstruction loss: bce on (x+1)/2 (sigmoid output) or mse (tanh output)", choices=("bce", "mse"))
    lr: float = option(1e-3, "learning rate (Adam)", minimum=0.0)
    density_components: int = option(40, "Gaussians in the mixture fitted to the codes for sampling (1: one "
                                         "full-covariance Gaussian); 40 fits held-out codes best and scored FID "
                                         "34.4 against 10's 101.3 (median of 3 seeds, docs/quality.md)", minimum=1)


@zoo.hookimpl
def register_architectures(register):
    register(
        "autoencoder",
        "zoo_autoencoder.model:Autoencoder",
        config=AutoencoderConfig,
        summary="Convolutional autoencoder, sampled from a Gaussian mixture fitted to its codes (Ghosh et al. 2020)",
        data_shapes=[(1, 28, 28), (3, 32, 32)],
        train_defaults={"steps": 4000, "batch_size": 64},
    )
