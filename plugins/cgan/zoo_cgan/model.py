"""Conditional GAN: the DCGAN networks with the class label fed to both, as a learned embedding concatenated to
z in the generator and, in the discriminator, as an extra input plane or a projection head. Any registered
adversarial loss works (non-saturating by default); the step, labels included, is the core GAN's."""

from torch import nn

from zoo.gan import GAN
from zoo.networks import ConvDiscriminator, ConvGenerator, dcgan_init_


def _init(net: nn.Module) -> nn.Module:
    dcgan_init_(net)
    for module in net.modules():  # embeddings at N(0, 0.02) would make the label ~50x weaker than z
        if isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight)
    return net


class CGAN(GAN):
    """Conditional GAN (Mirza & Osindero 2014)."""

    conditional = True

    def build_generator(self):
        c = self.config
        return _init(ConvGenerator(c.latent_dim, self.data_shape, c.width, num_classes=self.num_classes, embed_dim=c.embed_dim))

    def build_discriminator(self):
        c = self.config
        return _init(ConvDiscriminator(self.data_shape, c.width, norm="batch", num_classes=self.num_classes,
                                       conditioning=c.conditioning))
