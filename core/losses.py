"""Adversarial losses, registered by name. A loss only computes a value: optimisation belongs to the step.

Each loss maps discriminator outputs (raw scores, shape (B,)) to a scalar for each player.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F



class AdversarialLoss:
    """Subclasses implement both players' losses from raw scores. A loss whose generator objective also needs
    the real images' scores (the relativistic losses) sets ``uses_real_scores = True`` and implements
    ``generator(fake, real)``; the GAN step then passes the real scores (from the discriminator as it is after
    its own update, without gradient). Losses written before this existed keep ``generator(fake)``."""

    name = ""
    uses_real_scores = False

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def generator(self, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


class NonSaturating(AdversarialLoss):
    """Goodfellow et al.'s GAN loss with the non-saturating generator objective: -log D(G(z))."""

    name = "non-saturating"

    def discriminator(self, real, fake):
        return F.softplus(-real).mean() + F.softplus(fake).mean()

    def generator(self, fake, real=None):
        return F.softplus(-fake).mean()


class Wasserstein(AdversarialLoss):
    """The critic's loss E[D(fake)] - E[D(real)] (Arjovsky et al.); pair it with a Lipschitz penalty."""

    name = "wasserstein"

    def discriminator(self, real, fake):
        return fake.mean() - real.mean()

    def generator(self, fake, real=None):
        return -fake.mean()


class Hinge(AdversarialLoss):
    """The hinge loss of Lim & Ye and Miyato et al."""

    name = "hinge"

    def discriminator(self, real, fake):
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()

    def generator(self, fake, real=None):
        return -fake.mean()


class LeastSquares(AdversarialLoss):
    """LSGAN (Mao et al.) with targets 0 (fake) and 1 (real)."""

    name = "least-squares"

    def discriminator(self, real, fake):
        return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()

    def generator(self, fake, real=None):
        return 0.5 * ((fake - 1.0) ** 2).mean()


class RelativisticAverage(AdversarialLoss):
    """RaGAN (Jolicoeur-Martineau 2018): each player asks whether real data looks more real than the average
    fake (and the generator, the reverse), with the non-saturating log loss."""

    name = "ragan"
    uses_real_scores = True

    def discriminator(self, real, fake):
        return F.softplus(-(real - fake.mean())).mean() + F.softplus(fake - real.mean()).mean()

    def generator(self, fake, real=None):
        return F.softplus(-(fake - real.mean())).mean() + F.softplus(real - fake.mean()).mean()


class RelativisticAverageHinge(AdversarialLoss):
    """The relativistic average hinge loss (Jolicoeur-Martineau 2018), as in ESRGAN-style and SN-GAN variants."""

    name = "rahinge"
    uses_real_scores = True

    def discriminator(self, real, fake):
        return F.relu(1.0 - (real - fake.mean())).mean() + F.relu(1.0 + (fake - real.mean())).mean()

    def generator(self, fake, real=None):
        return F.relu(1.0 - (fake - real.mean())).mean() + F.relu(1.0 + (real - fake.mean())).mean()


BUILTIN = (NonSaturating(), Wasserstein(), Hinge(), LeastSquares(), RelativisticAverage(), RelativisticAverageHinge())
