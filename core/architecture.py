"""The architecture contract: what a plugin implements and the trainer, sampler and checkpoints rely on.

An architecture is an ``nn.Module`` that owns its networks as submodules (so one ``state_dict`` holds them all),
builds its optimisers, and does one optimisation step per call of :meth:`training_step` (manual optimisation,
as GANs need). It never runs a loop: the core's Trainer does. Images are float tensors in [-1, 1], (B, C, H, W).
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping

import torch
from torch import nn

from zoo.registry.configs import build_config
from zoo.errors import ConfigError, ZooError
from zoo.training.optimizer_steps import PLAIN

_progress: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar("zoo_progress", default=None)


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
    faster on CPUs and GPUs, and ``zoo train --memory-format auto`` (the default) uses it."""

    def __init__(self, config: Any, data_shape=(1, 28, 28), num_classes: int | None = None):
        super().__init__()
        self.name = type(self).__name__.lower()
        self.config = config
        self.data_shape = tuple(int(s) for s in data_shape)
        self.num_classes = num_classes
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.conditional = type(self).is_conditional(config)
        self.sampling: Any = None
        """The sampling settings in force, read by :meth:`generate`: an instance of the ``sampling=`` dataclass the
        model was registered with (its defaults, set by ``create_model``), or what :meth:`sample` was given."""

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

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images for latents ``z`` (already on the model's device)."""
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
        steps = getattr(self, "_optimizer_steps", None) or PLAIN
        steps.backward_and_step(self.optimizers[name], loss)

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

    def sampling_settings(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """The model's sampling settings with ``overrides`` (strings as given on a command line, or values)
        applied and checked; a ConfigError names the valid ones."""
        if self.sampling is None:
            if overrides:
                raise ConfigError(f"{self.name} has no sampling options (got {', '.join(map(str, overrides))})")
            return None
        return build_config(type(self.sampling), {**vars(self.sampling), **(overrides or {})}, model=self.name,
                            kind="sampling option")

    @contextlib.contextmanager
    def sampling_with(self, overrides: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Run the block with :attr:`sampling` set from ``overrides``, then put back the settings it had."""
        before = self.sampling
        self.sampling = self.sampling_settings(overrides)
        try:
            yield self.sampling
        finally:
            self.sampling = before

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
               z: torch.Tensor | None = None, sampling: Mapping[str, Any] | None = None,
               progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1], in eval mode; the same ``seed`` gives the same images. ``sampling`` overrides
        the model's sampling options (``{"steps": 10}``); ``progress(done, total)`` hears from :meth:`progress`."""
        if z is None:
            z = self.latent_for_sampling(n, seed)
        if self.conditional and labels is None:
            labels = torch.arange(n, device=z.device) % self.num_classes
        size = sample_chunk(z.device)
        parts = range(0, len(z), size)
        images = []
        with eval_mode(self), self.sampling_with(sampling):
            for index, start in enumerate(parts):
                overall = None if progress is None else (
                    lambda done, total, i=index: progress(i * total + done, len(parts) * total))
                token = _progress.set(overall)
                try:
                    part = None if labels is None else labels[start : start + size].to(z.device)
                    images.append(self.generate(z[start : start + size], part).float().clamp(-1, 1))
                finally:
                    _progress.reset(token)
        return torch.cat(images) if images else z.new_empty(0, *self.data_shape)


def sample_chunk(device: torch.device) -> int:
    """Images per :meth:`Architecture.generate` call. On a CPU a sampler's batches beyond ~128 images fall out of
    its caches and run up to 2x slower per image (``benchmarks/sampling_speed.py``); elsewhere a bound on memory."""
    return 128 if device.type == "cpu" else 512
