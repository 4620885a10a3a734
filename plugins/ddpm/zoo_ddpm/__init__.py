"""zoo plugin: denoising diffusion. This module stays light (no torch); the model loads from ``zoo_ddpm.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.denoising import DenoiserConfig, GuidedSampling

ZOO_API = "1.8"  # the zoo plugin API this plugin is written against


@dataclass
class DDPMConfig(DenoiserConfig):
    schedule: str = option("cosine", "noise schedule: cosine (Nichol & Dhariwal 2021) or linear (Ho et al. 2020)",
                           choices=("cosine", "linear"))
    prediction: str = option("v", "what the network predicts: v (Salimans & Ho 2022: stable at every noise level) "
                             "or epsilon, the noise (Ho et al. 2020)", choices=("v", "epsilon"))
    loss_weighting: str = option("min-snr", "weight of each noise level in the loss: min-snr (Hang et al. 2023: "
                                 "levels whose signal-to-noise ratio exceeds 5 weigh as if it were 5, so the nearly "
                                 "clean ones stop dominating; FID 126 against 163 uniform, seed 0) or uniform",
                                 choices=("uniform", "min-snr"), before="uniform")
    timesteps: int = option(1000, "diffusion steps T of the forward process", minimum=10, maximum=100_000)
    attention: bool = option(False, "self-attention at the U-Net's lowest resolution: off, a step costs 0.88x, "
                             "and 5,200 steps fit the minutes of 4,600 with it (FID 84.7 / 96.3 / 93.2 against "
                             "94.2 / 116.3 / 109.2, seeds 0-2)")
    time_sampling: str = option("uniform", "training steps: uniform over the T, or logit-normal on the flow's clock "
                                "alpha / (alpha + sigma) (Esser et al. 2024, as flow-matching samples its times; "
                                "FID 94.7 against 93.5 uniform, seed 0)",
                                choices=("uniform", "logit-normal"), before="uniform")


@dataclass
class DDPMSampling(GuidedSampling):
    sampler: str = option("dpm-solver++", "a registered sampler that serves epsilon or v prediction ('zoo list "
                          "--kind samplers'): dpm-solver++, 2nd order multistep (Lu et al. 2022); ddim, deterministic "
                          "(Song et al. 2021); ddpm, ancestral (Ho et al. 2020)", choices="samplers")
    steps: int = option(10, "denoising steps (network evaluations, for these samplers): fewer is faster (on zoo's "
                        "five-minute default, 10 DPM-Solver++ steps scored better than 20)", minimum=1, maximum=100_000)


@zoo.hookimpl
def register_architectures(register):
    register(
        "ddpm",
        "zoo_ddpm.model:DDPM",
        config=DDPMConfig,
        sampling=DDPMSampling,
        summary="Denoising diffusion probabilistic model with DDPM and DDIM sampling (Ho et al. 2020; Song et al. 2021)",
        data_shapes=[(1, 28, 28), (3, 32, 32), (3, 64, 64)],
        # batches of 32 in the minutes of 2,600 of 64 with attention (a step costs 0.56x, 0.88x of that without it),
        # the rate falling to 0 in the second half
        train_defaults={"steps": 5200, "batch_size": 32, "lr_decay": 0.5, "clip_grad_norm": 1.0},
    )
