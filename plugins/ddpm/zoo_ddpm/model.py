"""Denoising diffusion: an image x0 is noised to x_t = sqrt(a_t) x0 + sqrt(1 - a_t) e at a random step t of T
(a_t, the signal kept, falls from 1 to about 0 along a cosine or linear schedule); the U-Net learns to predict the
noise e or the velocity v = sqrt(a_t) e - sqrt(1 - a_t) x0. Sampling walks back from pure noise over an evenly
spread subset of the T steps with a registered sampler (zoo.samplers: DDIM, DDPM's ancestral, DPM-Solver++), which
reads the levels a_t, the time of each step and the image and noise the network's output implies."""

import math

import torch

from zoo.denoising.model import Denoiser

MIN_SNR_GAMMA = 5.0


def signal_levels(schedule: str, timesteps: int) -> torch.Tensor:
    """a_t (the cumulative product of 1 - beta) for t = 1..T, in float64."""
    if schedule == "linear":
        betas = torch.linspace(1e-4 * 1000 / timesteps, 0.02 * 1000 / timesteps, timesteps, dtype=torch.float64)
        return torch.cumprod(1 - betas, 0)
    s = 0.008
    f = torch.cos((torch.arange(timesteps + 1, dtype=torch.float64) / timesteps + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0)


class DDPM(Denoiser):
    """Denoising diffusion probabilistic model (Ho et al. 2020), sampled with any registered sampler serving its
    prediction (DDIM by default, Song et al. 2021)."""

    @property
    def prediction(self) -> str:
        return self.config.prediction

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        self.register_buffer("levels", signal_levels(config.schedule, config.timesteps).float(), persistent=False)

    def loss(self, images, labels):
        t = self.training_steps(len(images), images.device)
        a = self.levels[t][:, None, None, None]
        noise = torch.randn_like(images)
        noisy = a.sqrt() * images + (1 - a).sqrt() * noise
        target = noise if self.config.prediction == "epsilon" else a.sqrt() * noise - (1 - a).sqrt() * images
        error = (self.network(noisy, self.time(t), labels) - target).square()
        if self.config.loss_weighting == "uniform":
            return error.mean()
        return (error.mean((1, 2, 3)) * self.min_snr_weights(a.flatten())).mean()

    def training_steps(self, n: int, device) -> torch.Tensor:
        """``n`` steps of 0..T-1 to train at: uniform, or the steps whose flow clock alpha / (alpha + sigma) is
        nearest a logit-normal draw."""
        if self.config.time_sampling == "uniform":
            return torch.randint(0, self.config.timesteps, (n,), device=device)
        alpha, sigma = self.levels.sqrt(), (1 - self.levels).sqrt()
        rising = (alpha / (alpha + sigma)).flip(0)  # step T-1 first: the clock rises from noise to image
        drawn = torch.sigmoid(torch.randn(n, device=device))
        return self.config.timesteps - 1 - torch.searchsorted(rising, drawn).clamp(max=self.config.timesteps - 1)

    def min_snr_weights(self, a: torch.Tensor) -> torch.Tensor:
        """Min-SNR-5's weight of each level (Hang et al. 2023): min(snr, 5) / snr for epsilon and min(snr, 5) /
        (snr + 1) for v, where snr = a / (1 - a)."""
        snr = a / (1 - a)
        return snr.clamp(max=MIN_SNR_GAMMA) / (snr if self.config.prediction == "epsilon" else snr + 1)

    def time(self, t: torch.Tensor | int) -> torch.Tensor | float:
        """Step t of 0..T-1 as the U-Net's time in [0, 1]."""
        return (t + 1) / self.config.timesteps

    def image_and_noise(self, x, a, output):
        """(predicted clean image, clipped to [-1, 1]; the noise consistent with it) from the network's output."""
        if self.config.prediction == "epsilon":
            image = (x - (1 - a) ** 0.5 * output) / a ** 0.5
        else:
            image = a ** 0.5 * x - (1 - a) ** 0.5 * output
        image = image.clamp(-1, 1)
        return image, (x - a ** 0.5 * image) / (1 - a) ** 0.5
