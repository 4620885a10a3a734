"""Autoencoder: a conv encoder to a code z, a DCGAN-style decoder back, trained on a reconstruction loss.

A plain autoencoder has no prior, so after training it fits a Gaussian mixture to the codes of the training
images and samples from that (the "ex-post density estimation" of Ghosh et al. 2020, zoo.latent_density). The
fit is kept in buffers, so it is saved in the checkpoint with the weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zoo.architecture import Architecture, eval_mode
from zoo.latent_density import LatentMixture, load_older_checkpoints
from zoo.networks import ConvEncoder, ConvGenerator

ENCODE_CHUNK = 500


class Autoencoder(Architecture):
    """Convolutional autoencoder with an ex-post Gaussian-mixture latent density."""

    memory_format = "channels_last"  # its networks reshape, never view: faster convolutions

    latent_prior = "empirical"

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        c = config
        self.encoder = ConvEncoder(self.data_shape, c.latent_dim, c.width, c.norm, c.depth)
        self.decoder = ConvGenerator(c.latent_dim, self.data_shape, c.width, output="none", norm=c.norm, depth=c.depth)
        self.density = LatentMixture(c.latent_dim, c.density_components)  # N(0, I) until fit at the end of training
        self._register_load_state_dict_pre_hook(load_older_checkpoints, with_module=True)

    def configure_optimizers(self):
        return {"autoencoder": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raw = self.decoder(z)
        return torch.sigmoid(raw) * 2 - 1 if self.config.loss == "bce" else torch.tanh(raw)

    def reconstruction_loss(self, images: torch.Tensor) -> torch.Tensor:
        """Mean per-pixel loss: BCE against (x+1)/2, or MSE in [-1, 1] units."""
        raw = self.decoder(self.encoder(images))
        if self.config.loss == "bce":
            return F.binary_cross_entropy_with_logits(raw, (images + 1) / 2)
        return F.mse_loss(torch.tanh(raw), images)

    def training_step(self, batch, step):
        loss = self.reconstruction_loss(batch.images)
        self.optimize("autoencoder", loss)
        return {"loss": loss.detach()}

    def validation_logs(self, images, labels):
        losses = [self.reconstruction_loss(chunk) * len(chunk) for chunk in images.split(ENCODE_CHUNK)]
        return {"loss": float(sum(losses) / len(images))}

    def sample_latent(self, n, generator=None):
        """Codes from the fitted mixture; before :meth:`fit_latent_density` has run (at the end of training)
        that is the standard normal, which an autoencoder's codes do not follow, so early samples are poor."""
        return self.density.sample(n, generator)

    def generate(self, z, labels=None):
        return self.decode(z)

    def reconstruct(self, images, labels=None):
        return self.decode(self.encoder(images))

    def on_train_end(self, images, labels):
        self.fit_latent_density(images)

    @torch.no_grad()
    def fit_latent_density(self, images: torch.Tensor) -> None:
        """Fit the latent mixture to the codes of ``images``."""
        with eval_mode(self):
            codes = torch.cat([self.encoder(chunk) for chunk in images.split(ENCODE_CHUNK)])
        self.density.fit(codes)
