"""Adversarial losses, registered by name. A loss only computes a value: optimisation belongs to the step.

Each loss maps discriminator outputs (raw scores, shape (B,)) to a scalar for each player.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F



class AdversarialLoss:
    name = ""

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class NonSaturating(AdversarialLoss):
    """Goodfellow et al.'s GAN loss with the non-saturating generator objective: -log D(G(z))."""

    name = "non-saturating"

    def discriminator(self, real, fake):
        return F.softplus(-real).mean() + F.softplus(fake).mean()

    def generator(self, fake):
        return F.softplus(-fake).mean()


class Wasserstein(AdversarialLoss):
    """The critic's loss E[D(fake)] - E[D(real)] (Arjovsky et al.); pair it with a Lipschitz penalty."""

    name = "wasserstein"

    def discriminator(self, real, fake):
        return fake.mean() - real.mean()

    def generator(self, fake):
        return -fake.mean()


class Hinge(AdversarialLoss):
    """The hinge loss of Lim & Ye and Miyato et al."""

    name = "hinge"

    def discriminator(self, real, fake):
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()

    def generator(self, fake):
        return -fake.mean()


class LeastSquares(AdversarialLoss):
    """LSGAN (Mao et al.) with targets 0 (fake) and 1 (real)."""

    name = "least-squares"

    def discriminator(self, real, fake):
        return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()

    def generator(self, fake):
        return 0.5 * ((fake - 1.0) ** 2).mean()


BUILTIN = (NonSaturating(), Wasserstein(), Hinge(), LeastSquares())
