"""``zoo bench``: train several models on one dataset under one budget, score them alike, and set them side by
side (``zoo.bench``)."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.errors import ZooError


@click.command("bench")
@click.argument("names", nargs=-1, metavar="[NAMES]...")
@click.option("--data", default=None, help="Dataset name or a folder/.npz path. [default: mnist]")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Training budget of each run, in minutes of wall-clock time (turned into steps on the run).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Or the same number of steps for each model.")
@click.option("--defaults", is_flag=True,
              help="Or each model's own default training (its default steps, as zoo train NAME trains it).")
@click.option("--seeds", default="0", show_default=True, metavar="S,S,...", help="Seeds: one run per model and seed.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Bench folder. [default: bench]")
@click.option("--resume", type=click.Path(path_type=Path), default=None,
              help="Continue the bench in this folder, with its own settings, re-using finished runs.")
@click.option("--image-size", type=click.IntRange(min=0), default=0, help="Decode an image folder at SxS.")
@click.option("-n", "count", type=click.IntRange(min=10), default=2000, show_default=True,
              help="Samples each run is scored with.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Images per step for every model. [default: each model's own]")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or mps.")
@click.option("--quiet", is_flag=True, help="No training progress.")
def bench(names, data, minutes, steps, defaults, seeds, out, resume, image_size, count, batch_size, device, quiet):
    """Train NAMES (default: every installed model that takes the data's images) one after another, each under
    the same budget (or each with its own defaults), score every run with one zoo eval setting, and write DIR/bench.json and DIR/index.html (the
    table with the held-out floor, the grids side by side). Each run is an ordinary run folder under DIR.

    \b
    zoo bench dcgan vae flow-matching --minutes 2 --out bench/mnist
    zoo bench --defaults --seeds 0,1,2 --out bench/defaults
    zoo bench --resume bench/mnist"""
    from zoo.bench.runs import bench as run_bench
    from zoo.bench.table import terminal
    from zoo.cli.progress import Progress, SamplingProgress

    if resume is not None:
        given = [flag for flag, value in (("NAMES", names), ("--data", data), ("--minutes", minutes), ("--steps", steps),
                                          ("--defaults", defaults), ("--out", out), ("--batch-size", batch_size))
                 if value]
        if given:
            raise ZooError(f"--resume continues a bench with its own settings; leave out {', '.join(given)}")
    try:
        seed_list = tuple(int(s) for s in seeds.split(","))
    except ValueError:
        raise ZooError(f"--seeds {seeds}: whole numbers, comma-separated (e.g. 0,1,2)") from None
    with SamplingProgress("bench: scoring") as progress:
        document = run_bench(names, data=data or "mnist", minutes=minutes or 0.0, steps=steps or 0, defaults=defaults,
                             seeds=seed_list, out=resume or out or Path("bench"), resume=resume is not None, n=count,
                             image_size=image_size, device=device, progress=progress,
                             callbacks=(lambda: []) if quiet else (lambda: [Progress()]),
                             **({"batch_size": batch_size} if batch_size else {}))
    folder = resume or out or Path("bench")
    click.echo(terminal(document))
    click.echo(f"page: {folder / 'index.html'}  (bench.json beside it; zoo runs {folder} lists the runs)")
