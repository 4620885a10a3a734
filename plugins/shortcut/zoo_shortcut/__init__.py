"""zoo plugin: shortcut models (Frans, Hafner, Levine, Abbeel 2024), and the ``shortcut`` sampler that draws from
them in any number of steps. This module stays light (no torch); the model loads from ``zoo_shortcut.model``, the
sampler from ``zoo_shortcut.sampler``."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.denoising import DenoiserConfig, GuidedSampling

ZOO_API = "1.8"  # the zoo plugin API this plugin is written against

PREDICTION = "shortcut-velocity"
"""What a shortcut model's network predicts: the mean velocity s(x_t, t, d) over a step of size d, so that
x_{t+d} = x_t + d s (d = 0: the flow's velocity image - noise, on x_t = (1 - t) noise + t image)."""


@dataclass
class ShortcutConfig(DenoiserConfig):
    base_steps: int = option(128, "M: the finest step, 1/M, that self-consistency targets are built from (the "
                             "flow, d = 0, shares its embedding); from it the model learns jumps of 2/M, 4/M, ... 1",
                             choices=(8, 16, 32, 64, 128, 256, 512, 1024))
    consistency_share: float = option(0.25, "k: share of each batch trained to make one step of 2d match two "
                                      "steps of d (self-consistency); the rest learn the flow (d = 0)",
                                      minimum=0.0, maximum=0.9)
    consistency_targets: str = option("live", "the weights that build the self-consistency targets (without "
                                      "gradient): live (those being trained, as the authors' code) or ema",
                                      choices=("live", "ema"))
    time_sampling: str = option("logit-normal", "the flow's training times t: logit-normal (as flow-matching's, "
                                "more weight mid-path) or uniform; self-consistency times lie on the grid of "
                                "their step", choices=("logit-normal", "uniform"))


@dataclass
class ShortcutSampling(GuidedSampling):
    sampler: str = option("shortcut", "a registered sampler that serves shortcut models ('zoo list --kind "
                          "samplers'): shortcut (one network evaluation a step)", choices="samplers")
    steps: int = option(4, "steps from noise to image, one network evaluation each: the model learned 1, 2, 4, "
                        "... up to base_steps (powers of two)", minimum=1, maximum=10_000)


@zoo.hookimpl
def register_architectures(register):
    register(
        "shortcut",
        "zoo_shortcut.model:Shortcut",
        config=ShortcutConfig,
        sampling=ShortcutSampling,
        summary="Shortcut models (Frans et al. 2024): flow matching conditioned on the step size, sampling in "
                "1, 2, 4 ... steps",
        data_shapes=[(1, 28, 28), (3, 32, 32), (3, 64, 64)],
        train_defaults={"steps": 2350, "batch_size": 64, "clip_grad_norm": 1.0},
    )


@zoo.hookimpl
def register_samplers(register):
    register("shortcut", "zoo_shortcut.sampler:shortcut", serves=(PREDICTION,),
             summary="A shortcut model's own jumps, x + d s(x, t, d) with d = 1 / steps: 1 evaluation a step")
