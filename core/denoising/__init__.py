"""Building blocks for models that learn to undo noise and sample by integrating from pure noise to an image
(diffusion, flow matching): :class:`DenoiserConfig` and :class:`GuidedSampling` (``config``, no torch), the
:class:`~zoo.denoising.model.Denoiser` base in :mod:`zoo.denoising.model`."""

from zoo.denoising.config import DenoiserConfig, GuidedSampling

__all__ = ["DenoiserConfig", "GuidedSampling"]
