"""The base of models that learn to undo noise with a U-Net and sample by integrating from pure noise to an image.

A plugin implements :meth:`Denoiser.loss` (the training objective on a batch of images) and either says what its
network predicts (:attr:`Denoiser.prediction`, with the pieces :mod:`zoo.samplers.paths` lists for it) and
declares a ``sampler`` option with ``choices="samplers"``, so that :meth:`Denoiser.generate` hands the drawing to
the registered sampler chosen, or implements ``generate`` itself (its own loop over ``self.progress(...)``,
calling :meth:`Denoiser.predict` with the settings it was given). The base builds the U-Net from the config,
keeps an EMA of its weights, hides labels for classifier-free guidance, and steps the optimiser.
"""

from __future__ import annotations

import zlib

import torch

from zoo.architecture import Architecture
from zoo.ema import make_ema, update_ema, warmed_up
from zoo.errors import ConfigError
from zoo.networks.unet import UNet
from zoo.samplers import get_sampler


class Denoiser(Architecture):
    """``self.network`` (a :class:`~zoo.networks.unet.UNet`) maps (noisy images, times in [0, 1], labels) to a
    prediction of the images' shape; ``self.network_ema`` is its EMA. Latents are noise images."""

    memory_format = "channels_last"  # the U-Net reshapes, never views

    prediction: str | None = None
    """What the network predicts: ``epsilon`` (the noise), ``v`` or ``velocity`` (flow matching); the registered
    samplers that serve it can draw from the model (:func:`zoo.samplers.samplers_for`)."""

    step_size_conditioned: bool = False
    """Whether the network also takes a step size d per image (``UNet(step_size=True)``; shortcut models): the
    model's calls and :meth:`predict` then give one."""

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        if not 0.0 <= config.ema_decay < 1.0:
            raise ConfigError("ema_decay must be in [0, 1)")
        self.network = UNet(self.data_shape, config.width, config.widths(), config.blocks, config.attention,
                            num_classes if self.conditional else None, config.fold, config.dropout,
                            step_size=self.step_size_conditioned)
        self.network_ema = make_ema(self.network) if config.ema_decay > 0 else None

    # --- what a plugin implements -------------------------------------------------------------------------
    def loss(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The training loss on ``images`` in [-1, 1]; ``labels`` are None, or the batch's with some hidden."""
        raise NotImplementedError

    # --- provided ------------------------------------------------------------------------------------------
    def generate(self, z, labels=None, settings=None):
        """Draw with the registered sampler that the sampling option ``sampler`` names."""
        if settings is None:
            settings = self.settings_in_force()
        if not hasattr(settings, "sampler"):
            raise NotImplementedError(f"{type(self).__name__} implements no generate() and has no sampler option")
        return get_sampler(settings.sampler).load()(self, z, labels, settings)

    def configure_optimizers(self):
        return {"network": torch.optim.Adam(self.network.parameters(), lr=self.config.lr)}

    def training_step(self, batch, step):
        labels = None
        if self.conditional:
            labels = self.network.drop_labels(batch.labels, self.config.label_dropout)
        loss = self.loss(batch.images, labels)
        self.optimize("network", loss)
        if self.network_ema is not None:
            update_ema(self.network_ema, self.network, warmed_up(self.config.ema_decay, step))
        return {"loss": loss.detach()}

    def sample_latent(self, n, generator=None):
        return torch.randn(n, *self.data_shape, generator=generator)

    def predict(self, x: torch.Tensor, t: float | torch.Tensor, labels: torch.Tensor | None,
                settings=None, step_size: float | torch.Tensor | None = None) -> torch.Tensor:
        """The network's output at time ``t`` for a sampler: the EMA weights unless the sampling option ``ema`` of
        ``settings`` (what ``generate`` was given) is false, with its ``guidance`` applied when there are labels.
        Without ``settings`` (a plugin written against API 1.6 or earlier): those :meth:`sample` is drawing with.
        ``step_size`` (a number, or one per image) is the step a :attr:`step_size_conditioned` network is asked for."""
        if settings is None:
            settings = self.settings_in_force()
        use_ema = self.network_ema is not None and getattr(settings, "ema", True)
        network = self.network_ema if use_ema else self.network
        t = torch.as_tensor(t, dtype=torch.float32, device=x.device).expand(len(x))
        guidance = float(getattr(settings, "guidance", 1.0))
        if step_size is None:  # the call every network took before step sizes (a plugin's own network too)
            return network.guided(x, t, labels, guidance)
        step_size = torch.as_tensor(step_size, dtype=torch.float32, device=x.device).expand(len(x))
        return network.guided(x, t, labels, guidance, step_size)

    @staticmethod
    def noise_generator(z: torch.Tensor) -> torch.Generator:
        """A generator for a stochastic sampler's fresh noise, seeded from the starting noise ``z``: the same
        latents give the same images, and sampling never draws from (or disturbs) the training's random stream."""
        seed = zlib.crc32(z.detach().float().cpu().numpy().tobytes())
        return torch.Generator(z.device).manual_seed(seed)
