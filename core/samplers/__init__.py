"""Samplers, a registered kind: the ways to walk a denoiser from pure noise to an image (DDIM, DDPM's ancestral
sampler, Euler, Heun, DPM-Solver++), chosen when sampling with the ``sampler`` option, not when training.

A sampler is registered with ``register_samplers(register)``: a function ``sample(model, z, labels, settings)``,
the predictions it serves (what a denoiser's network predicts: ``epsilon``, ``v`` or ``velocity``), its options
(a dataclass, as configs are) and its cost (network evaluations per image for N steps). A model offers the
registered samplers by declaring ``sampler: str = option("heun", ..., choices="samplers")`` and ``steps`` among
its sampling options (:mod:`zoo.samplers.settings` then adds the chosen sampler's options to them). This module,
:mod:`zoo.samplers.spec` (what the registry knows of a sampler) and :mod:`zoo.samplers.options` (zoo's samplers'
options) stay light (no torch); the samplers load when they draw: :mod:`zoo.samplers.diffusion` (DDIM, DDPM's
ancestral), :mod:`zoo.samplers.flow` (Euler, Heun) and :mod:`zoo.samplers.dpm_solver` (DPM-Solver++), on the
noise levels :mod:`zoo.samplers.paths` reads from a denoiser."""

from zoo.samplers.spec import SamplerSpec, get_sampler, list_samplers, samplers_for

__all__ = ["SamplerSpec", "get_sampler", "list_samplers", "samplers_for"]
