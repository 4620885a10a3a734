"""Shortcut models (Frans, Hafner, Levine, Abbeel 2024, "One Step Diffusion via Shortcut Models").

On flow matching's straight path x_t = (1 - t) noise + t image (t = 0 noise, t = 1 image) the U-Net predicts
s(x_t, t, d), the mean velocity over a step of size d, so that x_{t+d} = x_t + d s. One network, one training
phase (the paper's algorithm 1): per batch, a share 1 - k of the images learn the flow (d = 0, target image -
noise) and a share k learn self-consistency: one step of 2d must land where two steps of d do, the target being
the mean of s(x_t, t, d) and s(x_t + d s(x_t, t, d), t + d, d), without gradient. The steps d are 1/M ... 1/2
(M = ``base_steps``), so the model learns jumps of 2/M ... 1 and samples in 1, 2, 4 ... M steps.

The network embeds log2 d (``zoo.networks.unet.step_size_embedding``). The flow (d = 0) shares the embedding of
the finest step 1/M: the paper queries d = 0 where d reaches 1/M, and the authors' code trains the flow at 1/M.
"""

import math

import torch

from zoo.denoising.model import Denoiser
from zoo.errors import ConfigError
from zoo_shortcut import PREDICTION

TARGET_BOUND = 4.0
"""Self-consistency targets and the midpoints they go through are clipped to +-4, as in the authors' code: an
early network's wild jump must not become a target."""


class Shortcut(Denoiser):
    """A shortcut model: a velocity network conditioned on the step size too; draws with the ``shortcut`` sampler."""

    prediction = PREDICTION
    step_size_conditioned = True

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        if config.consistency_targets == "ema" and self.network_ema is None:
            raise ConfigError("consistency_targets=ema needs an EMA of the weights (ema_decay > 0)")

    def network_step_size(self, d: torch.Tensor) -> torch.Tensor:
        """The step size the network is given for ``d``: at least 1 / base_steps, which the flow (d = 0) shares."""
        return d.clamp(min=1.0 / self.config.base_steps)

    def predict(self, x, t, labels, settings=None, step_size=None):
        """The mean velocity over a step of ``step_size`` (None or 0: the flow's velocity at ``t``)."""
        d = torch.as_tensor(0.0 if step_size is None else step_size, dtype=torch.float32, device=x.device)
        return super().predict(x, t, labels, settings, self.network_step_size(d))

    def loss(self, images, labels):
        n = len(images)
        k = int(self.config.consistency_share * n)
        noise = torch.randn_like(images)
        t_flow = self.flow_times(n - k, images.device)
        d, t_consistency = self.consistency_steps(k, images.device)
        t = torch.cat([t_consistency, t_flow])
        x_t = torch.lerp(noise, images, t[:, None, None, None])
        targets = [(images - noise)[k:]]
        if k:
            part = None if labels is None else labels[:k]
            targets.insert(0, self.consistency_target(x_t[:k], t_consistency, d, part))
        d = torch.cat([2 * d, torch.zeros(n - k, device=images.device)])
        output = self.network(x_t, t, labels, self.network_step_size(d))
        return (output - torch.cat(targets)).square().mean()

    def flow_times(self, n: int, device) -> torch.Tensor:
        if self.config.time_sampling == "logit-normal":
            return torch.sigmoid(torch.randn(n, device=device))
        return torch.rand(n, device=device)

    def consistency_steps(self, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` half steps d, uniform over 1/M ... 1/2 in log2, and times on the grid of their full step 2d."""
        levels = int(math.log2(self.config.base_steps))
        jumps = 2 ** torch.randint(0, levels, (n,), device=device)  # 1 / (2d): 1, 2, ... M/2 jumps of 2d to t = 1
        t = torch.floor(torch.rand(n, device=device) * jumps) / jumps
        return 0.5 / jumps, t

    @torch.no_grad()
    def consistency_target(self, x_t, t, d, labels) -> torch.Tensor:
        """The mean velocity of two steps of ``d`` from ``x_t``: what one step of 2d must predict."""
        network = self.network_ema if self.config.consistency_targets == "ema" else self.network
        training = network.training
        network.eval()  # no dropout in a target
        step = self.network_step_size(d)
        first = network(x_t, t, labels, step)
        midpoint = (x_t + d[:, None, None, None] * first).clamp(-TARGET_BOUND, TARGET_BOUND)
        second = network(midpoint, t + d, labels, step)
        network.train(training)
        return ((first + second) / 2).clamp(-TARGET_BOUND, TARGET_BOUND)
