"""Conditional GAN: the DCGAN networks with the class label fed to both, as a learned embedding concatenated to
z in the generator and, in the discriminator, as an extra input plane or a projection head. Any registered
adversarial loss works (non-saturating by default); the step, labels included, is the core GAN's."""

from zoo.gan import GAN
from zoo.networks import ConvDiscriminator, ConvGenerator, dcgan_init_


class CGAN(GAN):
    """Conditional GAN (Mirza & Osindero 2014)."""

    memory_format = "channels_last"  # its networks reshape, never view: faster convolutions

    conditional = True

    def build_generator(self):
        c = self.config
        net = ConvGenerator(c.latent_dim, self.data_shape, c.width, num_classes=self.num_classes, embed_dim=c.embed_dim)
        dcgan_init_(net)
        return net

    def build_discriminator(self):
        c = self.config
        net = ConvDiscriminator(self.data_shape, c.width, norm=c.d_norm, num_classes=self.num_classes,
                                conditioning=c.conditioning)
        dcgan_init_(net)
        return net
