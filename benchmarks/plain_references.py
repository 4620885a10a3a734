"""Plain-PyTorch reference models for the quality table: the DCGAN, the small conv VAE and the rectified flow
anyone would write in a hundred lines, with no zoo code in their loops, trained on the same 4,500 bundled training images and scored
by ``zoo eval --samples`` in the same feature space as zoo's models.

    python benchmarks/plain_references.py                   # both; prints a row each, as quality.py does
    python benchmarks/plain_references.py --models dcgan --steps 200 --out /tmp/refs

The networks are the textbook ones (Radford et al.'s DCGAN shapes for 28x28; a Kingma-Welling conv VAE with a
Bernoulli decoder, latent 16, one 256-unit layer each side; a two-resolution conv net with a time embedding,
uniform times and 50 Euler steps for the flow), not zoo's, so a row says what a plain script of the same CPU
minutes reaches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

BATCH = 64


def training_images() -> torch.Tensor:
    """The bundled MNIST training split as floats in [0, 1], (N, 1, 28, 28)."""
    from zoo import datasets

    return torch.from_numpy(np.asarray(datasets.split(datasets.load("mnist"), "train").images)).float() / 255


def plain_dcgan(images: torch.Tensor, steps: int, n: int) -> np.ndarray:
    latent = 100
    generator = nn.Sequential(
        nn.Linear(latent, 256 * 7 * 7), nn.Unflatten(1, (256, 7, 7)), nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    opt_g = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), 2e-4, betas=(0.5, 0.999))
    real_data = images * 2 - 1
    for _ in range(steps):
        real = real_data[torch.randint(0, len(real_data), (BATCH,))]
        fake = generator(torch.randn(BATCH, latent))
        loss_d = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach())).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-discriminator(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    generator.eval()
    with torch.no_grad():
        return ((generator(torch.randn(n, latent)) + 1) / 2).clamp(0, 1).numpy()


class ConvVAE(nn.Module):
    def __init__(self, latent: int = 16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
                                     nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 64 * 7 * 7), nn.ReLU(),
                                     nn.Unflatten(1, (64, 7, 7)), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(32, 1, 4, 2, 1))
        self.latent = latent

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="sum") / len(x)
        kl = 0.5 * (mean.pow(2) + log_var.exp() - 1 - log_var).sum() / len(x)
        return reconstruction + kl


def plain_vae(images: torch.Tensor, steps: int, n: int) -> np.ndarray:
    model = ConvVAE()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(steps):
        loss = model.loss(images[torch.randint(0, len(images), (BATCH,))])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return torch.sigmoid(model.decoder(torch.randn(n, model.latent))).numpy()  # the decoder's mean image


class TimeConvNet(nn.Module):
    """A small two-resolution conv net with a sinusoidal time embedding added in each block: the velocity field a
    tutorial writes."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.width = width
        self.time = nn.Sequential(nn.Linear(width, 4 * width), nn.SiLU(), nn.Linear(4 * width, 4 * width))
        self.inp = nn.Conv2d(1, width, 3, padding=1)
        self.down = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1), nn.Conv2d(width, 2 * width, 4, 2, 1),
                                   nn.Conv2d(2 * width, 2 * width, 3, padding=1)])
        self.up = nn.ModuleList([nn.Conv2d(2 * width, 2 * width, 3, padding=1),
                                 nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.Conv2d(2 * width, width, 3, padding=1)])
        self.adds = nn.ModuleList([nn.Linear(4 * width, c) for c in (width, 2 * width, 2 * width, 2 * width, width, width)])
        self.out = nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        half = self.width // 2
        angles = 1000 * t[:, None] * torch.exp(-np.log(10_000) * torch.arange(half) / half)[None]
        emb = self.time(torch.cat([angles.sin(), angles.cos()], dim=1))
        h0 = F.silu(self.inp(x))
        blocks = list(self.down) + list(self.up)
        h, skip = h0, None
        for i, (layer, add) in enumerate(zip(blocks, self.adds)):
            if i == 5:
                h = torch.cat([h, skip], dim=1)
            h = F.silu(layer(h) + add(emb)[:, :, None, None])
            if i == 0:
                skip = h
        return self.out(h)


def plain_flow_matching(images: torch.Tensor, steps: int, n: int) -> np.ndarray:
    """Rectified flow: regress x1 - x0 at x_t = (1 - t) x0 + t x1, uniform t; sample with 50 Euler steps."""
    net = TimeConvNet()
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    data = images * 2 - 1
    for _ in range(steps):
        x1 = data[torch.randint(0, len(data), (BATCH,))]
        x0, t = torch.randn_like(x1), torch.rand(BATCH)
        loss = (net(torch.lerp(x0, x1, t[:, None, None, None]), t) - (x1 - x0)).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    samples = []
    with torch.no_grad():
        for x in torch.randn(n, 1, 28, 28).split(500):
            for i in range(50):
                x = x + net(x, torch.full((len(x),), i / 50)) / 50
            samples.append(x)
    return ((torch.cat(samples) + 1) / 2).clamp(0, 1).numpy()


REFERENCES = {"dcgan": (plain_dcgan, 2000), "vae": (plain_vae, 3000), "flow-matching": (plain_flow_matching, 1200)}


def run(name: str, out: Path, steps: int | None, n: int, seed: int = 0) -> dict:
    """Train reference ``name``, write its ``n`` samples to ``out/plain-NAME.npz``, score them; return a row."""
    train, default_steps = REFERENCES[name]
    steps = steps or default_steps
    torch.manual_seed(seed)
    images = training_images()
    started = time.perf_counter()
    samples = train(images, steps, n)
    minutes = (time.perf_counter() - started) / 60
    path = out / f"plain-{name}.npz"
    np.savez(path, images=np.round(samples[:, 0] * 255).astype(np.uint8))
    zoo = Path(sys.executable).with_name("zoo")
    scored = subprocess.run([str(zoo), "eval", "--samples", str(path), "--data", "mnist", "--json"],
                            capture_output=True, text=True)
    if scored.returncode != 0:
        raise SystemExit(f"plain {name}: eval failed: {scored.stderr.strip()}")
    report = json.loads(scored.stdout)
    return {"model": f"plain PyTorch {name} (reference)", "steps": steps, "minutes": minutes,
            "figures": report["model"], "info": report["info"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(REFERENCES), choices=list(REFERENCES))
    parser.add_argument("--steps", type=int, default=None, help="override each reference's steps")
    parser.add_argument("-n", type=int, default=2000, help="samples scored")
    parser.add_argument("--out", type=Path, default=None, help="keep the sample files here")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="zoo-references-"))
    out.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        row = run(name, out, args.steps, args.n)
        m = row["figures"]
        print(f"| {row['model']} | {row['steps']} | {row['minutes']:.1f} min | {m['fid']:.2f} | "
              f"{m['kid']:.2f} ± {m['kid_std']:.2f} | {m['classes_covered']} | - |")


if __name__ == "__main__":
    main()
