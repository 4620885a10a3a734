"""Flow matching: images x1 and noise x0 are joined by the straight path x_t = (1 - t) x0 + t x1, whose velocity
x1 - x0 the U-Net learns to predict at x_t; sampling integrates that velocity from noise at t = 0 to an image at
t = 1 with Euler or Heun steps."""

import torch

from zoo.denoising.model import Denoiser


class FlowMatching(Denoiser):
    """Flow matching / rectified flow (Lipman et al. 2023; Liu et al. 2023)."""

    def loss(self, images, labels):
        noise = torch.randn_like(images)
        t = self.training_times(len(images), images.device)
        x_t = torch.lerp(noise, images, t[:, None, None, None])
        return (self.network(x_t, t, labels) - (images - noise)).square().mean()

    def training_times(self, n: int, device) -> torch.Tensor:
        if self.config.time_sampling == "logit-normal":
            return torch.sigmoid(torch.randn(n, device=device))
        return torch.rand(n, device=device)

    def generate(self, z, labels=None, settings=None):
        steps, heun = settings.steps, settings.sampler == "heun"
        times = torch.linspace(0.0, 1.0, steps + 1).tolist()
        x = z
        for t, t_next in self.progress(list(zip(times[:-1], times[1:]))):
            velocity = self.predict(x, t, labels, settings)
            proposal = x + (t_next - t) * velocity
            if heun:
                velocity = (velocity + self.predict(proposal, t_next, labels, settings)) / 2
                proposal = x + (t_next - t) * velocity
            x = proposal
        return x
