"""zoo plugin: WGAN-GP. This module stays light (no torch); the networks load from ``zoo_wgan_gp.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.gan_config import GANConfig

ZOO_API = "1.8"  # the zoo plugin API this plugin is written against


@dataclass
class WGANGPConfig(GANConfig):
    latent_dim: int = option(64, "size of the noise vector z", maximum=4096)
    width: int = option(32, "channels of the widest-resolution conv layer; deeper layers double it (max 8x)", maximum=1024)
    depth: int = option(2, "extra 3x3 convolutions at each resolution of both networks", maximum=8)
    upsample: str = option("transposed", "how the generator doubles its resolution: a 4x4 transposed convolution "
                           "(DCGAN's) or nearest-neighbour then a 3x3 convolution", choices=("transposed", "nearest"))
    loss: str = option("wasserstein", "adversarial loss: wasserstein (the paper's), or another registered one")
    lr_g: float = option(2e-4, "generator learning rate (Adam); 2e-4 with the generator's EMA scored FID 56.9 "
                         "against 1e-4's 86.8 (docs/quality.md)")
    lr_d: float = option(2e-4, "critic learning rate (Adam)")
    beta1: float = option(0.0, "Adam beta1 (the paper uses 0.5 for DCGAN-style nets, 0 for ResNets; 0 scored better "
                          "here: 155.8 against 171.1, docs/quality.md)")
    beta2: float = option(0.9, "Adam beta2")
    n_critic: int = option(2, "critic updates per generator update (the paper's 5 leaves the generator too few "
                                 "updates in a few CPU minutes: FID 38 against 19 with 2 on the bundled digits, zoo 0.5's feature space)")
    penalty_weight: float = option(10.0, "weight lambda of the gradient penalty")
    penalty_every: int = option(4, "apply the penalty every so many critic steps, weighted by as many: its double "
                                "backward is the dearest part of a step, so 4 makes a step 0.65x the cost",
                                minimum=1, before=1)
    ema_decay: float = option(0.99, "decay of an EMA of the generator used for sampling (0: off)", maximum=0.99999)
    critic_norm: str = option("layer", "normalisation in the critic; never batch norm, which breaks the penalty",
                              choices=("layer", "none", "spectral"))


@zoo.hookimpl
def register_architectures(register):
    register(
        "wgan-gp",
        "zoo_wgan_gp.model:WGANGP",
        config=WGANGPConfig,
        summary="Wasserstein GAN with gradient penalty (Gulrajani et al. 2017)",
        data_shapes=[(1, 28, 28), (3, 32, 32), (3, 64, 64)],
        # a step is one critic update, so 6800 steps are 3400 generator updates; batches of 32 and the lazy penalty
        # make them cheap (the time 4500 steps took with the penalty at every step)
        train_defaults={"steps": 6800, "batch_size": 32},
    )
