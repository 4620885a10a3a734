"""The adversarial step shared by every GAN: k discriminator updates per generator update, any registered
loss, an optional registered penalty and an optional EMA generator. A GAN plugin only builds its two networks."""

from __future__ import annotations

import torch

from zoo import augment
from zoo.architecture import Architecture
from zoo.ema import make_ema, update_ema, warmed_up
from zoo.errors import ConfigError
from zoo.gan_config import penalty_weight
from zoo.registry.lookup import lookup
from zoo.networks import Discriminator, Generator


class GAN(Architecture):
    """Subclasses implement :meth:`build_generator` and :meth:`build_discriminator`; the config is a GANConfig."""

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        if not 0.0 <= config.ema_decay < 1.0:
            raise ConfigError("ema_decay must be in [0, 1)")
        self.loss = lookup("losses", config.loss).value
        self.penalty_weight = penalty_weight(config)
        self.penalty = lookup("penalties", config.penalty).value if self.penalty_weight > 0 else None
        self.augmentations = augment.parse(getattr(config, "augment", "none"))
        self.generator = self.build_generator()
        self.discriminator = self.build_discriminator()
        self.generator_ema = make_ema(self.generator) if config.ema_decay > 0 else None

    def build_generator(self) -> Generator:
        raise NotImplementedError

    def build_discriminator(self) -> Discriminator:
        raise NotImplementedError

    def configure_optimizers(self):
        c = self.config
        return {
            "generator": torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=(c.beta1, c.beta2)),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=(c.beta1, c.beta2)),
        }

    def sample_latent(self, n, generator=None):
        return torch.randn(n, self.config.latent_dim, generator=generator)

    def generate(self, z, labels=None):
        net = self.generator_ema if self.generator_ema is not None else self.generator
        return net(z, labels)

    def discriminate(self, images, labels=None):
        """The discriminator's scores during training: of augmented images when ``augment`` is set."""
        if self.augmentations:
            images = augment.augment(images, self.augmentations)
        return self.discriminator(images, labels)

    def training_step(self, batch, step):
        c = self.config
        real = batch.images
        labels = batch.labels if self.conditional else None
        critic = self.discriminate
        noise = torch.randn(real.shape[0], c.latent_dim, device=real.device)
        with torch.no_grad():
            fake = self.generator(noise, labels)

        score_real, score_fake = critic(real, labels), critic(fake, labels)
        loss_d = self.loss.discriminator(score_real, score_fake)
        logs = {"loss_d": loss_d.detach()}
        if c.loss == "wasserstein":
            logs["wasserstein"] = (score_real.mean() - score_fake.mean()).detach()
        every = getattr(c, "penalty_every", 1)
        if self.penalty is not None and step % every == 0:  # lazy regularisation: weight x every, every so often
            penalty = self.penalty(lambda x: critic(x, labels), real, fake)
            loss_d = loss_d + self.penalty_weight * every * penalty
            logs[c.penalty] = penalty.detach()  # the penalty by its name: r1, gradient-penalty, a plugin's
        self.optimize("discriminator", loss_d)

        if (step + 1) % c.n_critic == 0:
            self.discriminator.requires_grad_(False)  # the generator step needs no critic weight gradients
            try:
                fake = self.generator(torch.randn_like(noise), labels)
                if getattr(self.loss, "uses_real_scores", False):
                    with torch.no_grad():
                        real_scores = critic(real, labels)
                    loss_g = self.loss.generator(critic(fake, labels), real_scores)
                else:
                    loss_g = self.loss.generator(critic(fake, labels))
                self.optimize("generator", loss_g)
            finally:
                self.discriminator.requires_grad_(True)
            if self.generator_ema is not None:
                update_ema(self.generator_ema, self.generator, warmed_up(c.ema_decay, step // c.n_critic))
            logs["loss_g"] = loss_g.detach()
        return logs
