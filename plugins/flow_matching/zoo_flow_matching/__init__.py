"""zoo plugin: flow matching. This module stays light (no torch); the model loads from ``zoo_flow_matching.model``."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.denoising import DenoiserConfig, GuidedSampling

ZOO_API = "1.7"  # the zoo plugin API this plugin is written against


@dataclass
class FlowMatchingConfig(DenoiserConfig):
    attention: bool = option(False, "self-attention at the U-Net's lowest resolution: off, a step costs 0.88x (as "
                             "ddpm's, the same U-Net), and 5,900 steps fit the minutes of 5,200 with it (FID 67.5 / "
                             "66.7 / 76.5 against 86.4 / 73.4 / 76.9, seeds 0-2)")
    time_sampling: str = option("logit-normal", "training times t: logit-normal (Esser et al. 2024: more weight "
                                "in the middle of the path, where the velocity is hardest to predict) or uniform",
                                choices=("logit-normal", "uniform"))


@dataclass
class FlowMatchingSampling(GuidedSampling):
    sampler: str = option("dpm-solver++", "a registered sampler that serves velocity prediction ('zoo list --kind "
                          "samplers'): dpm-solver++ (2nd order multistep, 1 evaluation a step), heun (2nd order, 2 "
                          "network evaluations a step) or euler (1st order)", choices="samplers")
    steps: int = option(10, "solver steps from noise to image: fewer is faster (on zoo's five-minute default, 10 "
                        "DPM-Solver++ steps scored better than 20)", minimum=1, maximum=10_000)


@zoo.hookimpl
def register_architectures(register):
    register(
        "flow-matching",
        "zoo_flow_matching.model:FlowMatching",
        config=FlowMatchingConfig,
        sampling=FlowMatchingSampling,
        summary="Flow matching on the straight path from noise to data (Lipman et al. 2023; Liu et al. 2023)",
        data_shapes=[(1, 28, 28), (3, 32, 32), (3, 64, 64)],
        # batches of 32 in the minutes of 2,800 of 64 with attention (a step costs 0.54x, 0.88x of that without it),
        # the rate falling to 0 in the second half
        train_defaults={"steps": 5900, "batch_size": 32, "lr_decay": 0.5, "clip_grad_norm": 1.0},
    )
