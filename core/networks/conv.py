"""Convolutional building blocks: the Generator and Discriminator bases and DCGAN-style convolutional stacks.

The convolutional stacks adapt to the data shape: a square side S is written as base * 2**n with base in 3..7
(28 = 7*4, 32 = 4*8, 64 = 4*16), so the generator starts from a base x base map and doubles n times, and the
discriminator halves n times down to base x base.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from zoo.errors import DataError

MAX_WIDTH_MULTIPLIER = 8


class Generator(nn.Module):
    """Maps latent vectors ``z`` (B, latent_dim), and labels for conditional models, to images (B, C, H, W)."""

    latent_dim: int

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


class Discriminator(nn.Module):
    """Maps images (B, C, H, W), and labels for conditional models, to one raw score per image (B,)."""

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


def plan(data_shape: tuple[int, int, int]) -> tuple[int, int]:
    """(base, n) with side = base * 2**n; raises DataError for shapes the conv stacks cannot take."""
    channels, height, width = data_shape
    if height != width:
        raise DataError(f"images of {height}x{width}: these networks need square images")
    base, n = height, 0
    while base % 2 == 0 and base > 7:
        base //= 2
        n += 1
    if n == 0 or base < 3:
        raise DataError(f"images of {height}x{width}: the side must be 3..7 times a power of two (28, 32, 64, ...)")
    return base, n


NORMS = ("batch", "layer", "none", "spectral")
"""Normalisations of the convolution stacks; ``spectral`` (Miyato et al. 2018, torch's parametrization) is for
discriminators and encoders: it constrains each layer's weight rather than normalising activations."""


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind in ("none", "spectral"):
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose one of {', '.join(NORMS)}")


def spectral_norm_(module: nn.Module) -> nn.Module:
    """Put every convolution and linear layer of ``module`` under spectral normalisation."""
    for m in list(module.modules()):
        if isinstance(m, (nn.Conv2d, nn.Linear)) and not parametrize.is_parametrized(m, "weight"):
            spectral_norm(m)
    return module


def _widths(width: int, n: int) -> list[int]:
    return [width * min(2**i, MAX_WIDTH_MULTIPLIER) for i in range(n)]


class ConvBody(nn.Module):
    """Strided convolutions from an image down to a (channels, base, base) feature map."""

    def __init__(self, data_shape, width: int = 64, norm: str = "batch", extra_in_channels: int = 0, depth: int = 0):
        super().__init__()
        base, n = plan(data_shape)
        widths = _widths(width, n)
        bias = norm in ("none", "spectral")
        layers: list[nn.Module] = [nn.Conv2d(data_shape[0] + extra_in_channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for i, c_out in enumerate(widths):
            if i:
                layers += [nn.Conv2d(widths[i - 1], c_out, 4, 2, 1, bias=bias), _norm(norm, c_out), nn.LeakyReLU(0.2)]
            for _ in range(depth):
                layers += [nn.Conv2d(c_out, c_out, 3, 1, 1, bias=bias), _norm(norm, c_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)
        self.out_channels, self.base = widths[-1], base
        if norm == "spectral":
            spectral_norm_(self)

    def forward(self, x):
        return self.net(x)


UPSAMPLING = ("transposed", "nearest")
"""How the generator doubles its resolution: a 4x4 transposed convolution of stride 2 (DCGAN's), or nearest-neighbour
upsampling then a 3x3 convolution (Odena et al. 2016: no checkerboard artefacts)."""


def _up(c_in: int, c_out: int, upsample: str, bias: bool) -> list[nn.Module]:
    if upsample == "transposed":
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)]
    if upsample == "nearest":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias)]
    raise ValueError(f"unknown upsampling {upsample!r}; choose one of {', '.join(UPSAMPLING)}")


class ConvGenerator(Generator):
    """DCGAN generator: transposed convolutions with batch norm and ReLU; tanh output unless ``output='none'``.
    ``depth`` adds that many 3x3 convolutions at each resolution; ``upsample`` is one of :data:`UPSAMPLING`."""

    def __init__(self, latent_dim: int, data_shape, width: int = 64, num_classes: int | None = None,
                 embed_dim: int = 16, output: str = "tanh", norm: str = "batch", depth: int = 0,
                 upsample: str = "transposed"):
        super().__init__()
        if norm == "spectral":
            raise ValueError("spectral normalisation is for discriminators; the generator takes batch, layer or none")
        base, n = plan(data_shape)
        widths = _widths(width, n)[::-1]
        self.latent_dim = latent_dim
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        in_dim = latent_dim + (embed_dim if num_classes else 0)
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, widths[0], base, 1, 0, bias=False), _norm(norm, widths[0]), nn.ReLU()]
        for i, c_out in enumerate(widths):
            if i:
                layers += [*_up(widths[i - 1], c_out, upsample, bias=False), _norm(norm, c_out), nn.ReLU()]
            for _ in range(depth):
                layers += [nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), _norm(norm, c_out), nn.ReLU()]
        layers += _up(widths[-1], data_shape[0], upsample, bias=True)
        if output == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z, labels=None):
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], dim=1)
        return self.net(z[:, :, None, None])


class ConvDiscriminator(Discriminator):
    """DCGAN discriminator, optionally conditional: labels as an extra input plane (``concat``) or through a
    projection head (``projection``, Miyato & Koyama 2018). ``depth`` adds that many 3x3 convolutions at each
    resolution."""

    def __init__(self, data_shape, width: int = 64, norm: str = "batch", num_classes: int | None = None,
                 conditioning: str = "concat", depth: int = 0):
        super().__init__()
        channels, height, width_px = data_shape
        self.conditioning = conditioning if num_classes else None
        concat = self.conditioning == "concat"
        self.body = ConvBody(data_shape, width, norm, extra_in_channels=1 if concat else 0, depth=depth)
        features = self.body.out_channels
        self.head = nn.Conv2d(features, 1, self.body.base, 1, 0)
        if norm == "spectral":
            spectral_norm_(self.head)
        if concat:
            self.label_plane = nn.Embedding(num_classes, height * width_px)
        elif self.conditioning == "projection":
            self.projection = nn.Embedding(num_classes, features)
            nn.init.normal_(self.projection.weight, 0.0, 0.02)  # it scales spatially summed features: start small
        self.data_shape = tuple(data_shape)

    def forward(self, x, labels=None):
        if self.conditioning == "concat":
            plane = self.label_plane(labels).view(-1, 1, *self.data_shape[1:])
            x = torch.cat([x, plane], dim=1)
        h = self.body(x)
        score = self.head(h).flatten()
        if self.conditioning == "projection":
            score = score + (self.projection(labels) * h.sum(dim=(2, 3))).sum(dim=1)
        return score


class ConvEncoder(nn.Module):
    """Convolutions down to a flat vector of ``out_features`` (the encoder of autoencoders and VAEs); ``depth``
    adds that many 3x3 convolutions at each resolution."""

    def __init__(self, data_shape, out_features: int, width: int = 64, norm: str = "batch", depth: int = 0):
        super().__init__()
        self.body = ConvBody(data_shape, width, norm, depth=depth)
        self.fc = nn.Linear(self.body.out_channels * self.body.base**2, out_features)

    def forward(self, x):
        return self.fc(self.body(x).flatten(1))


def dcgan_init_(module: nn.Module, std: float = 0.02) -> None:
    """Radford et al.'s initialisation: conv weights N(0, std), norm scales N(1, std), biases 0.

    Label embeddings keep their own initialisation: at N(0, 0.02) a label would be ~50x weaker than z.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight
            nn.init.normal_(weight, 0.0, std)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
