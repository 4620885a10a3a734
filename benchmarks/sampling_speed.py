"""How fast does zoo draw samples from a trained model, against the plain-PyTorch way of doing it?

zoo's ``model.sample(n)`` (what ``zoo sample`` and ``zoo eval`` call) feeds the sampler 128 images at a time on a
CPU. The baseline is what a script does: ``torch.no_grad()``, eval mode and the whole draw in one batch through the
same network and sampler (``model.generate``). Both draw the same latents with the same sampler settings; the
runs are interleaved and the medians compared.

    python benchmarks/sampling_speed.py runs/ddpm -n 2000 --repeats 3
    python benchmarks/sampling_speed.py runs/flow --steps 10
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from zoo.store.checkpoint import load_model


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a run folder, checkpoint or model folder")
    parser.add_argument("-n", type=int, default=2000, help="images per draw")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="the sampler's steps (default: the model's)")
    args = parser.parse_args()

    model = load_model(args.run)
    settings = model.sampling_settings({"steps": args.steps} if args.steps else None)
    z = model.latent_for_sampling(args.n, 0)
    labels = torch.arange(args.n) % model.num_classes if model.conditional else None

    def plain():
        with torch.no_grad():
            model.eval()
            model.generate(z, labels, settings)

    times = {"zoo": [], "plain": []}
    for _ in range(args.repeats):
        times["zoo"].append(timed(lambda: model.sample(args.n, z=z, labels=labels, sampling=settings)))
        times["plain"].append(timed(plain))
    shown = ", ".join(f"{k} {v}" for k, v in vars(settings).items()) if settings else "none"
    print(f"{model.name}, {args.n} images, sampling options: {shown}; {torch.get_num_threads()} threads")
    for name, values in times.items():
        print(f"{name:>5}: median {statistics.median(values):.1f} s ({', '.join(f'{v:.1f}' for v in values)})")
    print(f"plain / zoo: {statistics.median(times['plain']) / statistics.median(times['zoo']):.2f}x")


if __name__ == "__main__":
    main()
