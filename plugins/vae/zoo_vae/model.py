"""VAE: a Gaussian encoder q(z|x), the prior N(0, I) and a decoder p(x|z), trained on the ELBO.

Every figure is in nats per image: ``log_likelihood`` is log p(x|z) summed over pixels, ``kl`` is
KL(q(z|x) || p(z)) in closed form, and ELBO = log_likelihood - kl <= log p(x).

Samples come from a Gaussian mixture fitted to the posterior means of the training images at the end of
training (``sampling = "fitted"``, zoo.latent_density; Ghosh et al. 2020): a VAE's codes do not fill N(0, I),
and its holes decode to blends of digits. ``sampling = "prior"`` draws from N(0, I). The likelihood figures
(ELBO, IW-NLL) are the model's with its N(0, I) prior either way.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from zoo.architecture import Architecture, eval_mode
from zoo.errors import ConfigError
from zoo.latent_density import LatentMixture, load_older_checkpoints
from zoo.networks import ConvEncoder, ConvGenerator

EVAL_CHUNK = 500
IW_IMAGES_PER_PASS = 4096
LOG_2PI = math.log(2 * math.pi)


def bernoulli_log_likelihood(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """log p(x|z) per image for pixel probabilities sigmoid(logits) and targets (x+1)/2."""
    targets = (images + 1) / 2
    return -F.binary_cross_entropy_with_logits(logits, targets, reduction="none").flatten(1).sum(1)


def gaussian_log_likelihood(mean: torch.Tensor, images: torch.Tensor, std: float) -> torch.Tensor:
    """log N(x; mean, std^2) per image, a density over [-1, 1] pixel values."""
    per_pixel = -0.5 * ((images - mean) / std) ** 2 - math.log(std) - 0.5 * LOG_2PI
    return per_pixel.flatten(1).sum(1)


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per row."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)


def standard_normal_log_density(eps: torch.Tensor) -> torch.Tensor:
    return -0.5 * (eps**2 + LOG_2PI).sum(-1)


class VAE(Architecture):
    """Variational autoencoder (Kingma & Welling 2014)."""

    memory_format = "channels_last"  # its networks reshape, never view: faster convolutions

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        c = config
        if c.decoder_std <= 0 or c.beta < 0 or c.kl_warmup_steps < 0:
            raise ConfigError("vae needs decoder_std > 0, beta >= 0 and kl_warmup_steps >= 0")
        self.encoder = ConvEncoder(self.data_shape, 2 * c.latent_dim, c.width, c.norm, c.depth)
        self.decoder = ConvGenerator(c.latent_dim, self.data_shape, c.width, output="none", norm=c.norm, depth=c.depth)
        self.density = LatentMixture(c.latent_dim, c.density_components)  # N(0, I) until fit at the end of training
        self._register_load_state_dict_pre_hook(load_older_checkpoints, with_module=True)
        if c.sampling == "fitted":
            self.latent_prior = "empirical"

    def configure_optimizers(self):
        return {"vae": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    # --- the model's densities ---------------------------------------------------------------------------------
    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x)."""
        mu, logvar = self.encoder(images).chunk(2, dim=1)
        return mu, logvar

    def log_likelihood(self, decoded: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        if self.config.likelihood == "bernoulli":
            return bernoulli_log_likelihood(decoded, images)
        return gaussian_log_likelihood(decoded, images, self.config.decoder_std)

    def elbo_terms(self, images: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(log p(x|z) with one reparameterised z ~ q(z|x), KL(q(z|x) || p(z))), each per image."""
        mu, logvar = self.encode(images)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + (0.5 * logvar).exp() * eps
        return self.log_likelihood(self.decoder(z), images), kl_to_standard_normal(mu, logvar)

    def kl_weight(self, step: int) -> float:
        warmup = self.config.kl_warmup_steps
        return self.config.beta * (min(1.0, (step + 1) / warmup) if warmup else 1.0)

    @torch.no_grad()
    def importance_weighted_nll(self, images: torch.Tensor, k: int = 1000,
                                generator: torch.Generator | None = None) -> torch.Tensor:
        """-log p(x) per image in nats, estimated with ``k`` samples of q(z|x) (the IWAE bound, Burda et al.
        2016). It is an upper bound of the true NLL in expectation, tighter as ``k`` grows, and at most -ELBO."""
        with eval_mode(self):
            mu, logvar = self.encode(images)
            std = (0.5 * logvar).exp()
            per_pass = max(1, IW_IMAGES_PER_PASS // len(images))
            log_weights = []
            for start in range(0, k, per_pass):
                eps = torch.randn((min(per_pass, k - start), *mu.shape), generator=generator, device=mu.device)
                z = mu + std * eps  # (samples, images, latent)
                decoded = self.decoder(z.flatten(0, 1))
                repeated = images.expand(len(z), *images.shape).flatten(0, 1)
                log_px_z = self.log_likelihood(decoded, repeated).view(len(z), len(images))
                log_q = standard_normal_log_density(eps) - (0.5 * logvar).sum(1)  # change of variables z = mu + std*eps
                log_weights.append(log_px_z + standard_normal_log_density(z) - log_q)
        return -(torch.logsumexp(torch.cat(log_weights), dim=0) - math.log(k))

    # --- the Architecture contract -----------------------------------------------------------------------------
    def training_step(self, batch, step):
        log_likelihood, kl = self.elbo_terms(batch.images)
        loss = (-log_likelihood + self.kl_weight(step) * kl).mean()
        self.optimize("vae", loss)
        log_likelihood, kl = log_likelihood.detach().mean(), kl.detach().mean()
        return {"elbo": log_likelihood - kl, "recon": -log_likelihood, "kl": kl}

    def validation_logs(self, images, labels):
        """The held-out ELBO (nats per image), with fixed noise so repeated evaluations are comparable."""
        generator = torch.Generator(images.device).manual_seed(0)
        total = 0.0
        for chunk in images.split(EVAL_CHUNK):
            log_likelihood, kl = self.elbo_terms(chunk, generator)
            total += float((log_likelihood - kl).sum())
        return {"elbo": total / len(images)}

    def sample_latent(self, n, generator=None):
        if self.config.sampling == "fitted":
            return self.density.sample(n, generator)
        return torch.randn(n, self.config.latent_dim, generator=generator)

    def on_train_end(self, images, labels):
        if self.config.sampling == "fitted":
            with torch.no_grad(), eval_mode(self):
                self.density.fit(torch.cat([self.encode(chunk)[0] for chunk in images.split(EVAL_CHUNK)]))

    def generate(self, z, labels=None):
        """The decoder's mean image for each z (not a noisy draw from p(x|z)), in [-1, 1]."""
        decoded = self.decoder(z)
        return torch.sigmoid(decoded) * 2 - 1 if self.config.likelihood == "bernoulli" else decoded.clamp(-1, 1)

    def reconstruct(self, images, labels=None):
        """Decode the mean of q(z|x): deterministic."""
        return self.generate(self.encode(images)[0])
