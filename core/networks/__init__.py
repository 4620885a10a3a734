"""Network building blocks any plugin can use: the Generator and Discriminator bases and DCGAN-style
convolutional stacks (:mod:`zoo.networks.conv`), and a small time-conditioned U-Net (:mod:`zoo.networks.unet`)."""

from zoo.networks.conv import (MAX_WIDTH_MULTIPLIER, NORMS, ConvBody, ConvDiscriminator, ConvEncoder, ConvGenerator,
                               Discriminator, Generator, dcgan_init_, plan, spectral_norm_)
from zoo.networks.unet import UNet, time_embedding

__all__ = ["MAX_WIDTH_MULTIPLIER", "NORMS", "ConvBody", "ConvDiscriminator", "ConvEncoder", "ConvGenerator",
           "Discriminator", "Generator", "dcgan_init_", "plan", "spectral_norm_", "UNet", "time_embedding"]
