"""DCGAN: strided (transposed) convolutions, batch norm, ReLU / LeakyReLU(0.2), tanh output, N(0, 0.02) init,
Adam(2e-4, beta1 0.5), and any registered adversarial loss (non-saturating by default). The defaults are
tuned for quality per CPU minute on a few thousand images: width 32 for 6,000 steps rather than width 64 for
3,000, and the R1 penalty (gamma 2, every 4th step) keeping the discriminator flat on the data (see the README's
quality table for what each change bought)."""

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
