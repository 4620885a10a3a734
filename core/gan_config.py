"""The config every GAN shares; plugins subclass it to change defaults or add fields. No torch here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zoo.config import option
from zoo.moved import deprecated


@dataclass
class GANConfig:
    latent_dim: int = option(100, "size of the noise vector z", minimum=1, maximum=4096)
    width: int = option(64, "channels of the widest-resolution conv layer; deeper layers double it (max 8x)", minimum=1,
                       maximum=1024)
    loss: str = option("non-saturating", "adversarial loss (zoo list --kind losses)", choices="losses")
    lr_g: float = option(2e-4, "generator learning rate (Adam)", minimum=0.0)
    lr_d: float = option(2e-4, "discriminator learning rate (Adam)", minimum=0.0)
    beta1: float = option(0.5, "Adam beta1", minimum=0.0, maximum=0.9999)
    beta2: float = option(0.999, "Adam beta2", minimum=0.0, maximum=0.9999)
    n_critic: int = option(1, "discriminator updates per generator update", minimum=1)
    penalty_weight: float = option(0.0, "weight of the penalty (0: off; WGAN-GP's gradient penalty uses 10, R1 "
                                   "gamma / 2); gp_weight, its name before zoo 0.5, still works", minimum=0.0)
    penalty: str = option("gradient-penalty", "discriminator penalty weighted by penalty_weight (zoo list --kind "
                          "penalties)", choices="penalties")
    augment: str = option("none", "differentiable augmentation of real and fake images before the discriminator: "
                          "comma-separated translation, cutout, colour (DiffAugment); none: off")
    penalty_every: int = option(1, "apply the penalty every so many discriminator steps, weighted by as many (lazy "
                                   "regularisation, Karras et al. 2020: R1 at 1/4 of the cost)", minimum=1)
    ema_decay: float = option(0.0, "decay of an EMA of the generator used for sampling (0: off, e.g. 0.999)",
                              minimum=0.0, maximum=0.99999)

    RENAMED: ClassVar[dict[str, str]] = {"gp_weight": "penalty_weight"}

    @property
    def gp_weight(self) -> float:
        """Deprecated: ``penalty_weight`` under its name before API 1.4, for plugins that still read or set it (warns
        once; goes in zoo-core 1.0). A config key ``gp_weight`` (``--set``, a run recorded before) stays data: no
        warning."""
        deprecated("GANConfig.gp_weight", "GANConfig.penalty_weight")
        return self.penalty_weight

    @gp_weight.setter
    def gp_weight(self, value: float) -> None:
        deprecated("GANConfig.gp_weight", "GANConfig.penalty_weight")
        self.penalty_weight = value


def penalty_weight(config) -> float:
    """The penalty's weight: ``penalty_weight``. A config written before API 1.4 that declares ``gp_weight`` itself
    has both fields: its ``gp_weight`` counts unless ``penalty_weight`` was set (to anything but 0)."""
    if "gp_weight" in config.__dataclass_fields__ and config.penalty_weight == 0:
        return config.gp_weight
    return config.penalty_weight
