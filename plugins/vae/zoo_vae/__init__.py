"""zoo plugin: variational autoencoder. This module stays light (no torch); the model loads from ``.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option

ZOO_API = "1.8"  # the zoo plugin API this plugin is written against


@dataclass
class VAEConfig:
    latent_dim: int = option(16, "size of the latent code z (prior N(0, I))", minimum=1, maximum=4096)
    width: int = option(32, "channels of the first encoder conv layer; deeper layers double it (max 8x)",
                        minimum=1, maximum=1024)
    norm: str = option("batch", "normalisation in the conv stacks", choices=("batch", "layer", "none"))
    depth: int = option(2, "extra 3x3 convolutions at each resolution of the encoder and the decoder (FID 64 against "
                        "125 without, seed 0, docs/quality.md)", minimum=0, maximum=8, before=0)
    likelihood: str = option("bernoulli", "decoder p(x|z): bernoulli on (x+1)/2 (MNIST-like) or gaussian", choices=("bernoulli", "gaussian"))
    decoder_std: float = option(0.1, "std of the gaussian likelihood in [-1, 1] pixel units (unused for bernoulli)", minimum=1e-6)
    beta: float = option(1.0, "weight of the KL term in the training loss (beta-VAE; 1: the ELBO)", minimum=0.0)
    kl_warmup_steps: int = option(0, "steps over which the KL weight rises linearly from 0 to beta (0: off)", minimum=0)
    lr: float = option(1e-3, "learning rate (Adam)", minimum=0.0)
    sampling: str = option("fitted", "latents to sample: fitted (a Gaussian mixture fitted to the training codes "
                                     "after training: sharper samples) or prior (N(0, I))", choices=("fitted", "prior"))
    density_components: int = option(40, "Gaussians in the fitted mixture; 40 fits held-out codes best and "
                                         "scored FID 41.0 against 10's 83.2 (median of 3 seeds, docs/quality.md)", minimum=1)


@zoo.hookimpl
def register_architectures(register):
    register(
        "vae",
        "zoo_vae.model:VAE",
        config=VAEConfig,
        summary="Variational autoencoder (Kingma & Welling 2014)",
        data_shapes=[(1, 28, 28), (3, 32, 32)],
        train_defaults={"steps": 4000, "batch_size": 64},
    )
