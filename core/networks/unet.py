"""A small U-Net for models that predict noise, velocity or a clean image from a noisy one at a time t (diffusion,
flow matching): residual blocks with GroupNorm and a time embedding, optional self-attention at the lowest
resolution, skip connections, and optional class labels with a "no label" entry for classifier-free guidance.

``step_size=True`` adds a second conditioning, a step size d per image (shortcut models, Frans et al. 2024): the
network then learns the jump over [t, t + d], not only the velocity at t. Off, the U-Net is exactly what it was.

``fold=2`` moves each 2x2 pixel block into the channels first (pixel unshuffle) and back at the end: the network
then works at half the resolution, about four times cheaper per layer, which on small images costs little quality.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import ConfigError, DataError


def time_embedding(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    """Sinusoidal features (B, dim) of times ``t`` (B,) (Vaswani et al. 2017, as DDPM uses them): the sine and
    cosine of ``scale * t * f`` for ``dim // 2`` frequencies ``f`` from 1 down to about 1e-4, geometrically spaced.

    [0, 1] is the range the U-Net's layers are sized for (``scale`` 1000 gives DDPM's 1000 steps distinct angles).
    Any finite ``t`` is defined, outside [0, 1] too, and the map is smooth, so times a little outside serve a
    model trained on them; the lowest frequency keeps distinct times distinct while ``|t| < pi / (scale * f_min)``
    (about 10 at ``dim`` 16, 18 at 32). Which end is noise is the model's choice: flow matching here starts from
    noise at 0, DDPM puts its noisiest step at 1; a sigma-parametrised model maps its noise levels with
    :func:`time_of_sigma`."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = scale * t.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def step_size_embedding(step_size: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features (B, dim) of step sizes d (B,) in (0, 1], through log2 d as shortcut models embed them
    (Frans et al. 2024): -log2 d is the log2 of the number of such steps from noise to image (0 for one step, 7
    for 128), as evenly spaced as the step counts 1, 2, 4, ... that sampling uses."""
    return time_embedding(-torch.log2(step_size.float()), dim, scale=1.0)


SIGMA_MIN, SIGMA_MAX = 0.002, 80.0
"""The noise levels EDM (Karras et al. 2022) samples between, for images in [-1, 1]: :func:`time_of_sigma`'s 0 and 1."""


def time_of_sigma(sigma: float | torch.Tensor, sigma_min: float = SIGMA_MIN,
                  sigma_max: float = SIGMA_MAX) -> torch.Tensor:
    """The U-Net time of noise level ``sigma``, for a model parametrised by sigma (EDM-style) rather than time:
    ``log sigma`` mapped linearly so that ``sigma_min`` is 0 and ``sigma_max`` is 1 (EDM's own ``c_noise = ln(sigma)
    / 4`` is the same kind of map). Noise levels outside the range go on linearly in ``log sigma`` beyond [0, 1]
    (training's log-normal levels reach past both ends): nothing is clamped, so no two levels share a time.
    :func:`sigma_of_time` is its inverse."""
    _check_sigma_range(sigma_min, sigma_max)
    sigma = torch.as_tensor(sigma, dtype=torch.float32)
    return (sigma.log() - math.log(sigma_min)) / (math.log(sigma_max) - math.log(sigma_min))


def sigma_of_time(t: float | torch.Tensor, sigma_min: float = SIGMA_MIN,
                  sigma_max: float = SIGMA_MAX) -> torch.Tensor:
    """The noise level at U-Net time ``t``: :func:`time_of_sigma` undone (a sampler's grid of times to sigmas)."""
    _check_sigma_range(sigma_min, sigma_max)
    t = torch.as_tensor(t, dtype=torch.float32)
    return torch.exp(math.log(sigma_min) + t * (math.log(sigma_max) - math.log(sigma_min)))


def _check_sigma_range(sigma_min: float, sigma_max: float) -> None:
    if not 0 < sigma_min < sigma_max < math.inf:
        raise ConfigError(f"noise levels need 0 < sigma_min < sigma_max, got {sigma_min} and {sigma_max}")


def _groups(channels: int) -> int:
    return math.gcd(channels, 8 if channels >= 32 else max(1, channels // 4))


def _zero(module: nn.Module) -> nn.Module:
    """The last layer of a residual branch starts at zero, so every block starts as the identity."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResidualBlock(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, embedding: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(channels_in), channels_in)
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, padding=1)
        self.scale_shift = nn.Linear(embedding, 2 * channels_out)
        self.norm2 = nn.GroupNorm(_groups(channels_out), channels_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = _zero(nn.Conv2d(channels_out, channels_out, 3, padding=1))
        self.skip = nn.Conv2d(channels_in, channels_out, 1) if channels_in != channels_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.scale_shift(emb)[:, :, None, None].chunk(2, dim=1)
        h = F.silu(self.norm2(h) * (1 + scale) + shift)
        return self.skip(x) + self.conv2(self.dropout(h))


class SelfAttention(nn.Module):
    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        self.heads = heads if channels % heads == 0 else 1
        self.norm = nn.GroupNorm(_groups(channels), channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = _zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).transpose(-1, -2).unbind(1)
        attended = F.scaled_dot_product_attention(q, k, v)  # (b, heads, h*w, c/heads)
        return x + self.out(attended.transpose(-1, -2).reshape(b, c, h, w))


class UNet(nn.Module):
    """Maps a noisy image (B, C, H, W), times ``t`` (B,) in [0, 1] (see :func:`time_embedding` for the scale and
    times outside; :func:`time_of_sigma` for noise levels) and, with ``num_classes``, labels (B,) to a tensor of
    the image's shape. Label ``num_classes`` (:attr:`null_label`) means "no label": train with
    :meth:`drop_labels` and sample with :meth:`guided` for classifier-free guidance (Ho & Salimans 2022).

    ``multipliers`` gives each resolution's width as a multiple of ``width``; each resolution after the first
    halves the side. ``attention`` adds self-attention at the lowest resolution. ``step_size`` adds an embedding
    of a step size d (B,) in (0, 1] per image (:func:`step_size_embedding`), added to the time's, that every call
    must then give; it starts at zero, so a new network's output does not depend on d yet."""

    def __init__(self, data_shape: tuple[int, int, int], width: int = 64, multipliers: tuple[int, ...] = (1, 2),
                 blocks: int = 1, attention: bool = True, num_classes: int | None = None, fold: int = 1,
                 dropout: float = 0.0, step_size: bool = False):
        super().__init__()
        channels, height, width_px = data_shape
        step = fold * 2 ** (len(multipliers) - 1)
        if height % step or width_px % step:
            raise DataError(f"a U-Net with fold {fold} and {len(multipliers)} resolutions needs sides divisible by "
                            f"{step}; the data is {height}x{width_px}")
        self.fold, self.num_classes, self.width = fold, num_classes, width
        inner = channels * fold * fold
        emb = 4 * width
        self.time = nn.Sequential(nn.Linear(width, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.label = nn.Embedding(num_classes + 1, emb) if num_classes else None
        self.stem = nn.Conv2d(inner, width, 3, padding=1)
        self.down, skips, current = nn.ModuleList(), [width], width
        for level, multiplier in enumerate(multipliers):
            for _ in range(blocks):
                self.down.append(ResidualBlock(current, width * multiplier, emb, dropout))
                current = width * multiplier
                skips.append(current)
            if level < len(multipliers) - 1:
                self.down.append(nn.Conv2d(current, current, 3, stride=2, padding=1))
                skips.append(current)
        self.middle = nn.ModuleList([ResidualBlock(current, current, emb, dropout),
                                     SelfAttention(current) if attention else nn.Identity(),
                                     ResidualBlock(current, current, emb, dropout)])
        self.up = nn.ModuleList()
        for level, multiplier in reversed(list(enumerate(multipliers))):
            for _ in range(blocks + 1):
                self.up.append(ResidualBlock(current + skips.pop(), width * multiplier, emb, dropout))
                current = width * multiplier
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(current, current, 3, padding=1)))
        self.head = nn.Sequential(nn.GroupNorm(_groups(current), current), nn.SiLU(),
                                  _zero(nn.Conv2d(current, inner, 3, padding=1)))
        # built last, so that every other layer starts with the weights it gets without it
        self.step_size = (nn.Sequential(nn.Linear(width, emb), nn.SiLU(), _zero(nn.Linear(emb, emb)))
                          if step_size else None)

    @property
    def null_label(self) -> int:
        return self.num_classes or 0

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None,
                step_size: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time(time_embedding(t, self.width))
        if self.step_size is not None:
            if step_size is None:
                raise ValueError("this U-Net is conditioned on a step size: give step_size (B,) in (0, 1]")
            emb = emb + self.step_size(step_size_embedding(step_size, self.width))
        if self.label is not None:
            if labels is None:
                labels = torch.full((len(x),), self.null_label, device=x.device, dtype=torch.long)
            emb = emb + self.label(labels)
        emb = F.silu(emb)
        h = F.pixel_unshuffle(x, self.fold) if self.fold > 1 else x
        h = self.stem(h)
        skips = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResidualBlock) else layer(h)
            skips.append(h)
        for layer in self.middle:
            h = layer(h, emb) if isinstance(layer, ResidualBlock) else layer(h)
        for layer in self.up:
            h = layer(torch.cat([h, skips.pop()], dim=1), emb) if isinstance(layer, ResidualBlock) else layer(h)
        h = self.head(h)
        return F.pixel_shuffle(h, self.fold) if self.fold > 1 else h

    def drop_labels(self, labels: torch.Tensor, probability: float) -> torch.Tensor:
        """``labels`` with each replaced by the null label with ``probability`` (classifier-free guidance training)."""
        if probability <= 0:
            return labels
        dropped = torch.rand(labels.shape, device=labels.device) < probability
        return labels.masked_fill(dropped, self.null_label)

    def guided(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None, guidance: float,
               step_size: torch.Tensor | None = None) -> torch.Tensor:
        """The output with classifier-free guidance: unlabelled + guidance x (labelled - unlabelled), both in one
        batch; guidance 1 (or no labels) is the plain labelled output, 0 the unlabelled one."""
        if labels is None or self.label is None or guidance == 1.0:
            return self(x, t, labels, step_size)
        null = torch.full_like(labels, self.null_label)
        twice = None if step_size is None else torch.cat([step_size, step_size])
        both = self(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]), twice)
        labelled, unlabelled = both.chunk(2)
        return unlabelled + guidance * (labelled - unlabelled)
