"""Where bf16's speed-up on the CPU goes: the torch profiler over DCGAN steps in fp32 and in bf16 autocast (both
channels_last, as zoo trains), time per step by operator group, and the speed-up of each group.

If convolutions take most of a step and speed up by a factor c under bf16 while the rest does not speed up,
the whole step cannot speed up by more than 1 / (share_conv / c + share_rest): that is the ceiling this prints.

    python benchmarks/bf16_profile.py [--steps 30]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import zoo
from zoo import datasets

GROUPS = {"convolutions": ("conv",), "batch norm": ("batch_norm",), "optimiser": ("Optimizer", "adam", "_foreach"),
          "activations": ("leaky_relu", "threshold", "tanh", "softplus", "sigmoid")}


def group_of(name: str) -> str:
    lowered = name.lower()
    return next((group for group, keys in GROUPS.items() if any(k.lower() in lowered for k in keys)), "other")


def per_step_ms(precision: str, steps: int) -> dict[str, float]:
    data = datasets.split(datasets.load("mnist"), "train")
    images = torch.from_numpy(data.images).float().div(127.5).sub(1)
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", ema_decay=0.0)
    g = model.generator.to(memory_format=torch.channels_last)
    d = model.discriminator.to(memory_format=torch.channels_last)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")

    def step():
        real = images[torch.randint(0, len(images), (64,))].contiguous(memory_format=torch.channels_last)
        with autocast:
            z = torch.randn(64, 64)
            with torch.no_grad():
                fake = g(z)
            loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            d.requires_grad_(False)
            loss_g = F.softplus(-d(g(torch.randn_like(z)))).mean()
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            d.requires_grad_(True)

    for _ in range(10):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    groups: dict[str, float] = {}
    for event in prof.key_averages():
        group = group_of(event.key)
        groups[group] = groups.get(group, 0.0) + event.self_cpu_time_total / steps / 1000
    return groups


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    fp32, bf16 = per_step_ms("fp32", args.steps), per_step_ms("bf16", args.steps)
    total32, total16 = sum(fp32.values()), sum(bf16.values())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; DCGAN width 64, batch 64, channels_last; "
          f"ms per step by operator group (profiler self time, {args.steps} steps)")
    print(f"{'group':<14}{'fp32':>9}{'bf16':>9}{'speed-up':>10}{'share of fp32':>15}")
    for group in sorted(fp32, key=lambda g: -fp32[g]):
        speedup = fp32[group] / bf16[group] if bf16.get(group) else float("nan")
        print(f"{group:<14}{fp32[group]:9.1f}{bf16.get(group, 0):9.1f}{speedup:9.2f}x{fp32[group] / total32:14.0%}")
    print(f"{'whole step':<14}{total32:9.1f}{total16:9.1f}{total32 / total16:9.2f}x")
    conv = fp32["convolutions"] / total32
    ceiling = 1 / (conv / (fp32["convolutions"] / bf16["convolutions"]) + (1 - conv))
    print(f"ceiling if only the convolutions speed up as measured: {ceiling:.2f}x; with infinitely fast "
          f"non-convolution work: {total32 / bf16['convolutions']:.2f}x")


if __name__ == "__main__":
    main()
