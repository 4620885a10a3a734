"""A tiny GAN registered in-process by the tests, so core tests do not depend on any installed plugin."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.denoising import DenoiserConfig, GuidedSampling
from zoo.gan_config import GANConfig

NAME = "toy-gan"


@dataclass
class ToyConfig(GANConfig):
    latent_dim: int = option(8, "noise size")
    width: int = option(4, "conv width")


class ToyPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register(NAME, "toy_model:ToyGAN", config=ToyConfig, summary="A tiny GAN for tests",
                 data_shapes=[(1, 28, 28), (3, 32, 32)], train_defaults={"steps": 6, "batch_size": 16})


class ExplodingPlugin:
    """Registers ``exploding``: the toy GAN reporting a NaN loss from its fifth step on."""

    @zoo.hookimpl
    def register_architectures(self, register):
        register("exploding", "toy_model:ExplodingGAN", config=ToyConfig, summary="NaN from step 5")


@dataclass
class ToyFlowConfig(DenoiserConfig):
    width: int = option(8)
    multipliers: str = option("1")
    attention: bool = option(False)


@dataclass
class ToyFlowSampling(GuidedSampling):
    steps: int = option(4, "Euler steps", minimum=1, maximum=1000)


class ToyFlowPlugin:
    """Registers ``toy-flow``: a tiny iterative sampler with sampling options (``--steps``)."""

    @zoo.hookimpl
    def register_architectures(self, register):
        register("toy-flow", "toy_model:ToyFlow", config=ToyFlowConfig, sampling=ToyFlowSampling,
                 summary="A tiny flow for tests", data_shapes=[(1, 28, 28)], train_defaults={"steps": 4, "batch_size": 16})
