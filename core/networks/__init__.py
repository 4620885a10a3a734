"""Network building blocks any plugin can use: the Generator and Discriminator bases and DCGAN-style
convolutional stacks (:mod:`zoo.networks.conv`), and a small time-conditioned U-Net with the map from noise levels
to its times (:mod:`zoo.networks.unet`)."""

from zoo.networks.conv import (MAX_WIDTH_MULTIPLIER, NORMS, ConvBody, ConvDiscriminator, ConvEncoder, ConvGenerator,
                               Discriminator, Generator, dcgan_init_, plan, spectral_norm_)
from zoo.networks.unet import SIGMA_MAX, SIGMA_MIN, UNet, sigma_of_time, time_embedding, time_of_sigma

__all__ = ["MAX_WIDTH_MULTIPLIER", "NORMS", "ConvBody", "ConvDiscriminator", "ConvEncoder", "ConvGenerator",
           "Discriminator", "Generator", "dcgan_init_", "plan", "spectral_norm_", "UNet", "time_embedding",
           "time_of_sigma", "sigma_of_time", "SIGMA_MIN", "SIGMA_MAX"]
