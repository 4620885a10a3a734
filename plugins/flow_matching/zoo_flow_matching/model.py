"""Flow matching: images x1 and noise x0 are joined by the straight path x_t = (1 - t) x0 + t x1, whose velocity
x1 - x0 the U-Net learns to predict at x_t; sampling integrates that velocity from noise at t = 0 to an image at
t = 1 with a registered sampler serving velocity prediction (Heun, Euler, DPM-Solver++)."""

import torch

from zoo.denoising.model import Denoiser


class FlowMatching(Denoiser):
    """Flow matching / rectified flow (Lipman et al. 2023; Liu et al. 2023)."""

    prediction = "velocity"

    def loss(self, images, labels):
        noise = torch.randn_like(images)
        t = self.training_times(len(images), images.device)
        x_t = torch.lerp(noise, images, t[:, None, None, None])
        return (self.network(x_t, t, labels) - (images - noise)).square().mean()

    def training_times(self, n: int, device) -> torch.Tensor:
        if self.config.time_sampling == "logit-normal":
            return torch.sigmoid(torch.randn(n, device=device))
        return torch.rand(n, device=device)
