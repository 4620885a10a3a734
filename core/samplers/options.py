"""The options of zoo's own samplers (no torch here: they are read when samplers are listed)."""

from __future__ import annotations

from dataclasses import dataclass

from zoo.config import option


@dataclass
class DDIMOptions:
    eta: float = option(0.0, "noise injected at each step: 0 is deterministic DDIM (Song et al. 2021), 1 the "
                        "ancestral sampler's amount", minimum=0.0, maximum=1.0)


@dataclass
class TimeShiftOptions:
    time_shift: float = option(3.0, "spread the steps towards the noise: times u / (u + s (1 - u)) for u evenly "
                               "from 0 (noise) to 1 (image), as Esser et al. 2024 shift theirs; 1: evenly",
                               minimum=0.1, maximum=100.0)


@dataclass
class DPMSolverOptions(TimeShiftOptions):
    order: int = option(2, "2: DPM-Solver++(2M), second order from the last two predictions; 1: first order "
                        "(DDIM's update)", choices=(1, 2))
