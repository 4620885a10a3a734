"""Training speed: zoo's trainer and DCGAN against a plain PyTorch loop of the same networks, in one run.

Both sides use the same generator and discriminator (zoo's DCGAN stacks), the same batch size, Adam settings
and non-saturating loss, on the bundled MNIST subset held in memory. The plain loop is what one would write
by hand; zoo adds its trainer, batching, logging and callbacks (metrics on, samples and checkpoints off so the
comparison is of the loop itself). Prints images/s for each and the ratios.

    python benchmarks/train_speed.py                 # fp32 and bf16, 3 interleaved runs of each
    python benchmarks/train_speed.py --steps 100 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

import zoo
from zoo import datasets
from zoo.callbacks import MetricsLog
from zoo.trainer import TrainConfig, Trainer


def plain_loop(images: torch.Tensor, args, precision: str) -> float:
    """A hand-written DCGAN loop; returns images/s over the timed steps."""
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", width=args.width, latent_dim=args.latent_dim, ema_decay=0.0)
    g, d = model.generator, model.discriminator
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    n = len(images)
    order = torch.randperm(n)
    started = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            started = time.perf_counter()
        start = (step * args.batch_size) % (n - args.batch_size)
        real = images[order[start : start + args.batch_size]]
        with autocast:
            z = torch.randn(args.batch_size, args.latent_dim)
            with torch.no_grad():
                fake = g(z)
            loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            d.requires_grad_(False)
            loss_g = F.softplus(-d(g(torch.randn_like(z)))).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            d.requires_grad_(True)
        loss_d.item(), loss_g.item()  # the figures a person would print, as zoo logs them
    return args.steps * args.batch_size / (time.perf_counter() - started)


def zoo_trainer(data, args, precision: str) -> float:
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", width=args.width, latent_dim=args.latent_dim, ema_decay=0.0)
    timings = {}

    class Clock(MetricsLog):
        def on_step_end(self, trainer, step, logs):
            super().on_step_end(trainer, step, logs)
            if step == args.warmup:
                timings["start"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(steps=args.warmup + args.steps, batch_size=args.batch_size, device="cpu",
                             precision=precision, sample_every=0, checkpoint_every=0)
        trainer = Trainer(model, data, config, out, callbacks=[Clock()])
        trainer.fit()
    return args.steps * args.batch_size / (time.perf_counter() - timings["start"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, interleaved; the median is reported")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=64)
    args = parser.parse_args()

    data = datasets.split(datasets.load("mnist"), "train")
    images = torch.from_numpy(data.images).float().div(127.5).sub(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, DCGAN width {args.width}, batch "
          f"{args.batch_size}, {args.steps} timed steps after {args.warmup} warm-up, median of {args.repeats} "
          "interleaved runs (single runs vary by about 10% here)")
    runs = {key: [] for key in ("plain fp32", "zoo fp32", "zoo bf16", "plain bf16")}
    for _ in range(args.repeats):  # interleaved, so drifts in clock speed hit every variant alike
        runs["plain fp32"].append(plain_loop(images, args, "fp32"))
        runs["zoo fp32"].append(zoo_trainer(data, args, "fp32"))
        runs["zoo bf16"].append(zoo_trainer(data, args, "bf16"))
        runs["plain bf16"].append(plain_loop(images, args, "bf16"))
    median = {key: statistics.median(values) for key, values in runs.items()}
    base = median["plain fp32"]
    for key, rate in median.items():
        spread = ", ".join(f"{v:.0f}" for v in runs[key])
        print(f"{key:<11}: {rate:6.0f} images/s  {rate / base:.2f}x plain fp32   (runs: {spread})")
    print(f"zoo fp32 / plain fp32 = {median['zoo fp32'] / base:.2f}; zoo bf16 / plain bf16 = "
          f"{median['zoo bf16'] / median['plain bf16']:.2f}")


if __name__ == "__main__":
    main()
