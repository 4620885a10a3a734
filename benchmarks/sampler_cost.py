"""What does each registered sampler cost: seconds per 1,000 images against network evaluations, and the cost of
one evaluation inside the sampler against one plain forward pass of the same U-Net?

For each model (a run folder, checkpoint or model folder, or a registered name: the default config, untrained,
which draws exactly as fast) and each sampler that serves it, ``model.sample`` draws ``-n`` images at each
``--steps``; the plain pass is ``network(x, t)`` on the same 128-image chunks ``sample`` uses, under
``torch.no_grad()`` in eval mode (what a sampler cannot do with less). Runs are interleaved and medians kept;
the issue's bar is a ratio within 1.1x (the sampler adds no overhead worth naming). On a busy machine the
separate timings swing; the in-run column (a draw's time over its time inside the U-Net) does not.

    python benchmarks/sampler_cost.py ddpm flow-matching -n 256 --steps 1,4,10 --repeats 3
    python benchmarks/sampler_cost.py runs/ddpm
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

import zoo
from zoo.architecture import sample_chunk
from zoo.samplers import get_sampler, samplers_for


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def load(source: str):
    if Path(source).exists() or source.startswith("hf://"):
        from zoo.store.checkpoint import load_model

        return load_model(source)
    spec = zoo.get_model(source)
    return zoo.create_model(source, num_classes=10 if spec.is_conditional() else None)


def plain_forward(model, z: torch.Tensor, labels) -> None:
    """One network evaluation of every image, in the chunks ``sample`` uses, guidance as the settings ask."""
    settings = model.default_sampling
    network = model.network_ema if model.network_ema is not None else model.network
    with torch.no_grad():
        network.eval()
        size = sample_chunk(z.device)
        for start in range(0, len(z), size):
            chunk = z[start:start + size]
            part = None if labels is None else labels[start:start + size]
            network.guided(chunk, torch.full((len(chunk),), 0.5), part, float(settings.guidance))


def network_share(model, draw) -> float:
    """Total time of ``draw()`` over the time spent inside the U-Net's forward passes during it: the sampler's own
    cost per evaluation as a multiple of the plain forward's, measured in one run (so the machine's load falls on
    both alike)."""
    network = model.network_ema if model.network_ema is not None else model.network
    spent, forward = [0.0], network.forward

    def timed_forward(*args, **kwargs):
        started = time.perf_counter()
        try:
            return forward(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    network.forward = timed_forward
    try:
        total = timed(draw)
    finally:
        del network.forward
    return total / spent[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="run folders, checkpoints, model folders or registered names")
    parser.add_argument("-n", type=int, default=256, help="images per draw")
    parser.add_argument("--steps", default="1,2,4,10", help="comma-separated steps")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    print(f"{torch.get_num_threads()} threads, {args.n} images per draw, medians of {args.repeats}")
    print("ratio: seconds per evaluation in the sampler over a separate plain forward pass; in-run: a draw's time "
          "over the time it spent inside the U-Net")
    print(f"{'model':<14}{'sampler':<14}{'steps':>6}{'evals':>7}{'s/1000 img':>12}{'per eval':>11}{'plain':>9}"
          f"{'ratio':>7}{'in-run':>9}")
    for source in args.models:
        model = load(source).eval()
        z = model.latent_for_sampling(args.n, 0)
        labels = torch.arange(args.n) % model.num_classes if model.conditional else None
        for sampler in samplers_for(model.prediction):
            spec = get_sampler(sampler)
            for n_steps in steps:
                settings = model.sampling_settings({"sampler": sampler, "steps": n_steps})
                evaluations = spec.evaluations(n_steps)
                drawn, plain, inside = [], [], []
                for _ in range(args.repeats):  # interleaved: the machine's load hits both alike
                    drawn.append(timed(lambda: model.sample(args.n, z=z, labels=labels, sampling=settings)))
                    plain.append(timed(lambda: plain_forward(model, z, labels)))
                    inside.append(network_share(model, lambda: model.sample(args.n, z=z, labels=labels,
                                                                              sampling=settings)))
                per_image = statistics.median(drawn) / args.n
                per_eval, plain_eval = per_image / evaluations, statistics.median(plain) / args.n
                print(f"{model.name:<14}{sampler:<14}{n_steps:>6}{evaluations:>7}{per_image * 1000:>12.2f}"
                      f"{per_eval * 1000:>9.3f}ms{plain_eval * 1000:>7.3f}ms{per_eval / plain_eval:>7.2f}"
                      f"{statistics.median(inside):>9.3f}")


if __name__ == "__main__":
    main()
