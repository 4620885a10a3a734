"""The networks of the test GAN (imported lazily, as a plugin's model module would be)."""

import torch

from zoo.denoising.model import Denoiser
from zoo.gan import GAN
from zoo.networks import ConvDiscriminator, ConvGenerator


class ToyGAN(GAN):
    """A tiny GAN for tests."""

    def build_generator(self):
        return ConvGenerator(self.config.latent_dim, self.data_shape, self.config.width)

    def build_discriminator(self):
        return ConvDiscriminator(self.data_shape, self.config.width)


class ExplodingGAN(ToyGAN):
    """Reports a NaN loss from its fifth step on."""

    def training_step(self, batch, step):
        logs = super().training_step(batch, step)
        if step >= 4:
            logs["loss_d"] = torch.tensor(float("nan"))
        return logs


class LazyGAN(ToyGAN):
    """Returns figures but never updates anything (the conformance kit must notice)."""

    def training_step(self, batch, step):
        return {"loss": torch.tensor(0.0)}


class ToyFlow(Denoiser):
    """A tiny flow-matching model with an Euler sampler: an iterative sampler with sampling options, for tests."""

    def loss(self, images, labels):
        noise, t = torch.randn_like(images), torch.rand(len(images), device=images.device)
        return (self.network(torch.lerp(noise, images, t[:, None, None, None]), t, labels) - (images - noise)).square().mean()

    def generate(self, z, labels=None, settings=None):
        x, steps = z, settings.steps
        for i in self.progress(range(steps)):
            x = x + self.predict(x, i / steps, labels, settings) / steps
        return x
