"""WGAN-GP: a DCGAN-style generator and a critic without batch norm, each with two extra 3x3 convolutions at every
resolution (``depth=2``), trained with the Wasserstein loss, a gradient penalty of weight 10 on random interpolates
(applied every 4th critic step at 4x the weight), 2 critic updates per generator update (the paper has 5), Adam(1e-4,
betas (0, 0.9)) and an EMA of the generator for sampling. The step itself is the core GAN's."""

from zoo.gan import GAN
from zoo.networks import ConvDiscriminator, ConvGenerator


class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017)."""

    memory_format = "channels_last"  # its networks reshape, never view: faster convolutions

    def build_generator(self):
        return ConvGenerator(self.config.latent_dim, self.data_shape, self.config.width, depth=self.config.depth,
                            upsample=self.config.upsample)

    def build_discriminator(self):
        return ConvDiscriminator(self.data_shape, self.config.width, norm=self.config.critic_norm, depth=self.config.depth)
