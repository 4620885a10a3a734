"""DCGAN: strided (transposed) convolutions, batch norm, ReLU / LeakyReLU(0.2), tanh output, N(0, 0.02) init,
Adam(2e-4), and any registered adversarial loss (non-saturating by default). The defaults are tuned for quality
per CPU minute on a few thousand images: width 32, one extra 3x3 convolution at each resolution of both networks
(``depth=1``) for 4,000 steps, Adam betas (0, 0.99), and the R1 penalty (gamma 2, every 4th step) keeping the
discriminator flat on the data (docs/quality.md has what each change bought)."""

from zoo.gan import GAN
from zoo.networks import ConvDiscriminator, ConvGenerator, dcgan_init_


class DCGAN(GAN):
    """Deep convolutional GAN (Radford et al. 2015)."""

    memory_format = "channels_last"  # its networks reshape, never view: faster convolutions

    def build_generator(self):
        net = ConvGenerator(self.config.latent_dim, self.data_shape, self.config.width, depth=self.config.depth,
                            upsample=self.config.upsample)
        dcgan_init_(net)
        return net

    def build_discriminator(self):
        net = ConvDiscriminator(self.data_shape, self.config.width, norm=self.config.d_norm, depth=self.config.depth)
        dcgan_init_(net)
        return net
