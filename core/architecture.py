"""The architecture contract: what a plugin implements and the trainer, sampler and checkpoints rely on.

An architecture is an ``nn.Module`` that owns its networks as submodules (so one ``state_dict`` holds them all),
builds its optimisers, and does one optimisation step per call of :meth:`training_step` (manual optimisation,
as GANs need). It never runs a loop: the core's Trainer does. Images are float tensors in [-1, 1], (B, C, H, W).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping

import torch
from torch import nn

from zoo.errors import ConfigError, ZooError
from zoo.optimization.steps import OptimizerSteps
from zoo.registry.models import identity_of
from zoo.samplers.settings import build_sampling

_progress: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar("zoo_progress", default=None)
_in_force: contextvars.ContextVar[Any] = contextvars.ContextVar("zoo_sampling_in_force", default=None)


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Run the block with ``module`` in eval mode, then put back the mode it had."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@dataclass
class Batch:
    images: torch.Tensor
    labels: torch.Tensor | None = None


class Architecture(nn.Module):
    """Base class of every zoo model. Subclasses set ``conditional``/``latent_prior`` where they differ."""

    conditional: ClassVar[bool] = False
    """True when the model needs class labels (training data must have them; sampling can pick them). A config
    field ``conditional`` overrides it per model (see :meth:`is_conditional`)."""

    latent_prior: ClassVar[str] = "gaussian"
    """``gaussian`` latents are interpolated spherically, ``empirical`` ones linearly."""

    memory_format: ClassVar[str] = "contiguous"
    """``channels_last`` when the networks only reshape (never ``view``) their activations: convolutions are then
    faster on CPUs and GPUs; :func:`zoo.create_model` lays a model out so, and ``zoo train --memory-format auto``
    (the default) trains it so."""

    def __init__(self, config: Any, data_shape=(1, 28, 28), num_classes: int | None = None):
        super().__init__()
        identity = identity_of(type(self))
        self.name = identity.name
        """The name the model is registered under (given by the registry as it is built)."""
        self.config = config
        self.data_shape = tuple(int(s) for s in data_shape)
        self.num_classes = num_classes
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.conditional = type(self).is_conditional(config)
        self.sampling_class: type | None = identity.sampling_class
        """The dataclass of the model's sampling options (``register(..., sampling=...)``); None when it has none."""
        self.default_sampling: Any = None
        """The settings :meth:`sample` uses where it is given none: the options' declared defaults, or those a
        model folder stored when it was exported."""
        if self.sampling_class is not None:
            self.default_sampling = build_sampling(self, self.sampling_class, {}, dict(identity.sampling))
        self._steps = OptimizerSteps()  # a model outside a trainer: backward and step, fp32

    # --- what a plugin implements -------------------------------------------------------------------------
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimisers by name (``generator``, ``discriminator``, ...); the trainer stores them in ``self.optimizers``."""
        raise NotImplementedError

    def training_step(self, batch: Batch, step: int) -> dict[str, torch.Tensor | float]:
        """Do one optimisation step on ``batch`` (``step`` counts from 0) and return scalar figures to log."""
        raise NotImplementedError

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` latent vectors from the model's prior, drawn on the CPU (same numbers on every device)."""
        raise NotImplementedError

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None, settings: Any = None) -> torch.Tensor:
        """Images for latents ``z`` (already on the model's device), drawn with ``settings``: an instance of the
        model's sampling dataclass, checked (None for a model without sampling options). A plugin written against
        API 1.6 or earlier may leave ``settings`` out and read ``self.sampling`` (deprecated)."""
        raise NotImplementedError

    def reconstruct(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Encode and decode ``images``; only models with an encoder implement it."""
        raise ZooError(f"{self.name} cannot reconstruct images: it has no encoder")

    def on_train_end(self, images: torch.Tensor, labels: torch.Tensor | None) -> None:
        """Called once after the last step with training images (all of them, or 10,000 chosen at random from a
        larger dataset), e.g. to fit a latent density. Only called for models that override it."""

    def importance_weighted_nll(self, images: torch.Tensor, k: int = 1000,
                                generator: torch.Generator | None = None) -> torch.Tensor | None:
        """-log p(x) per image in nats, for models with a tractable likelihood bound (VAEs); None otherwise."""
        return None

    def validation_logs(self, images: torch.Tensor, labels: torch.Tensor | None) -> dict[str, float]:
        """Figures on held-out images, logged at each sample interval (e.g. a VAE's ELBO); none by default."""
        return {}

    # --- provided ------------------------------------------------------------------------------------------
    @classmethod
    def is_conditional(cls, config: Any) -> bool:
        """Whether a model of this class built with ``config`` takes labels: the config's ``conditional`` field
        where it has one (``--set conditional=true``), else the class's ``conditional``."""
        return bool(getattr(config, "conditional", cls.conditional))

    def optimize(self, name: str, loss: torch.Tensor) -> None:
        """Backpropagate ``loss`` and step the optimiser ``name``: call it in ``training_step`` instead of
        ``zero_grad()``, ``loss.backward()`` and ``step()``. The run's settings then apply: fp16 loss scaling,
        ``--accumulate N`` (each micro-batch's loss divided by N; the step after the last), ``--clip-grad-norm``
        and the averaging of gradients over processes."""
        self._steps.backward_and_step(self.optimizers[name], loss)

    def set_optimizer_steps(self, steps: OptimizerSteps) -> None:
        """Step the optimisers through ``steps`` from now on: the trainer hands each run's precision and step
        settings to the model once, before its first step. A model used outside a trainer steps plainly."""
        self._steps = steps

    @property
    def can_reconstruct(self) -> bool:
        return type(self).reconstruct is not Architecture.reconstruct

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def networks(self) -> dict[str, nn.Module]:
        return dict(self.named_children())

    def latent_for_sampling(self, n: int, seed: int | None = None) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.sample_latent(n, generator).to(self.device)

    def sampling_settings(self, overrides: Any = None) -> Any:
        """The settings to sample with, checked once: ``overrides`` (strings as given on a command line, or values)
        over :attr:`default_sampling`, as an instance of the sampling dataclass (an instance given is used as it
        is); None for a model without sampling options. A ConfigError names the valid options."""
        if self.sampling_class is None:
            if overrides:
                raise ConfigError(f"{self.name} has no sampling options (got {', '.join(map(str, overrides))})")
            return None
        if isinstance(overrides, self.sampling_class):
            return overrides
        return build_sampling(self, self.sampling_class, vars(self.default_sampling), dict(overrides or {}))

    @property
    def sampling(self) -> Any:
        """Deprecated (API 1.7): the settings in force while :meth:`sample` runs. ``generate`` takes them as its
        third argument; plugins written against API 1.6 or earlier still read them here."""
        from zoo.moved import deprecated

        deprecated("Architecture.sampling", "the settings argument of generate(z, labels, settings)")
        return self.settings_in_force()

    def settings_in_force(self) -> Any:
        """The settings :meth:`sample` is drawing with now, or :attr:`default_sampling` outside it: for helpers
        (``Denoiser.predict``) that a plugin written against API 1.6 or earlier calls without settings."""
        in_force = _in_force.get()
        return in_force if in_force is not None else self.default_sampling

    def progress(self, steps: Iterable) -> Iterator:
        """Iterate over ``steps`` (a sized iterable: an iterative sampler's loop in :meth:`generate`), telling
        whoever called :meth:`sample` with ``progress=`` how far it is: ``zoo sample`` shows it as a bar."""
        steps = list(steps)
        report = _progress.get()
        for done, item in enumerate(steps, 1):
            yield item
            if report is not None:
                report(done, len(steps))

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, labels: torch.Tensor | None = None,
               z: torch.Tensor | None = None, sampling: Any = None,
               progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1], in eval mode; the same ``seed`` gives the same images. ``sampling`` overrides
        the model's sampling options (``{"steps": 10}``, or the checked settings from :meth:`sampling_settings`);
        ``progress(done, total)`` hears from :meth:`progress`."""
        settings = self.sampling_settings(sampling)
        if z is None:
            z = self.latent_for_sampling(n, seed)
        if labels is not None and not self.conditional:
            raise ZooError(f"{self.name} is not conditional: it draws no labels (leave out labels / --label)")
        if self.conditional and labels is None:
            labels = torch.arange(n, device=z.device) % self.num_classes
        size = sample_chunk(z.device)
        parts = range(0, len(z), size)
        images = []
        passes_settings = _takes_settings(type(self).generate)
        in_force = _in_force.set(settings)
        try:
            with eval_mode(self):
                for index, start in enumerate(parts):
                    overall = None if progress is None else (
                        lambda done, total, i=index: progress(i * total + done, len(parts) * total))
                    token = _progress.set(overall)
                    try:
                        part = None if labels is None else labels[start : start + size].to(z.device)
                        chunk = z[start : start + size]
                        drawn = self.generate(chunk, part, settings) if passes_settings else self.generate(chunk, part)
                        images.append(drawn.float().clamp(-1, 1).contiguous())
                    finally:
                        _progress.reset(token)
        finally:
            _in_force.reset(in_force)
        return torch.cat(images) if images else z.new_empty(0, *self.data_shape)

    # --- state that is not a parameter, under several processes ----------------------------------------------
    def all_reduce_mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` (floating point) replaced in place by its mean over every process of the run, and returned
        (in one process: unchanged). For statistics a step gathers into buffers (a codebook's moving averages):
        average them before the update, so every rank applies the same one. Every rank calls it at the same
        point, with a tensor of the same shape."""
        from zoo.optimization.collectives import all_reduce_mean

        return all_reduce_mean(tensor)

    def broadcast_from_rank_zero(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` overwritten in place by rank 0's, and returned (in one process: unchanged). For choices a
        step draws at random (codes to restart): every rank then makes rank 0's. Called by every rank alike."""
        from zoo.optimization.collectives import broadcast_state

        broadcast_state([tensor])
        return tensor


@functools.lru_cache(maxsize=None)
def _takes_settings(generate: Callable) -> bool:
    """Whether a ``generate`` takes the settings as an argument (API 1.7) or reads ``self.sampling`` (up to 1.6)."""
    parameters = list(inspect.signature(generate).parameters.values())
    return len(parameters) >= 4 or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters)


def sample_chunk(device: torch.device) -> int:
    """Images per :meth:`Architecture.generate` call. On a CPU a sampler's batches beyond ~128 images fall out of
    its caches: one batch of 2,000 ran 2.3-2.6x slower per image (``benchmarks/sampling_speed.py``); elsewhere a
    bound on memory (512 on a GPU is not measured)."""
    return 128 if device.type == "cpu" else 512
