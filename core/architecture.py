"""The architecture contract: what a plugin implements and the trainer, sampler and checkpoints rely on.

An architecture is an ``nn.Module`` that owns its networks as submodules (so one ``state_dict`` holds them all),
builds its optimisers, and does one optimisation step per call of :meth:`training_step` (manual optimisation,
as GANs need). It never runs a loop: the core's Trainer does. Images are float tensors in [-1, 1], (B, C, H, W).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

import torch
from torch import nn

from zoo.errors import ZooError
from zoo.training.optimizer_steps import PLAIN


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
    """True when the model needs class labels (training data must have them; sampling can pick them)."""

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

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, labels: torch.Tensor | None = None,
               z: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images in [-1, 1], in eval mode; the same ``seed`` gives the same images."""
        if z is None:
            z = self.latent_for_sampling(n, seed)
        if self.conditional and labels is None:
            labels = torch.arange(n, device=z.device) % self.num_classes
        with eval_mode(self):
            images = self.generate(z, None if labels is None else labels.to(z.device))
        return images.float().clamp(-1, 1)
