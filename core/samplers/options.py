"""The options of zoo's own samplers (no torch here: they are read when samplers are listed)."""

from __future__ import annotations

from dataclasses import dataclass

from zoo.config import option


@dataclass
class DDIMOptions:
    eta: float = option(0.0, "noise injected at each step: 0 is deterministic DDIM (Song et al. 2021), 1 the "
                        "ancestral sampler's amount", minimum=0.0, maximum=1.0)


@dataclass
class DPMSolverOptions:
    order: int = option(2, "2: DPM-Solver++(2M), second order from the last two predictions; 1: first order "
                        "(DDIM's update)", choices=(1, 2))
