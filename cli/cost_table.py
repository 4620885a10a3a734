"""``zoo eval RUN --steps 1,2,4,10,50``: quality against cost. A sampling option given a comma-separated list
makes one setting per value (several lists: every combination); each draws the same latents, and the table shows
its network evaluations per image, FID and seconds per 1,000 images."""

from __future__ import annotations

import itertools
import json
import time

import click


def settings_grid(model, given: dict) -> list | None:
    """The checked settings of every combination when a sampling option in ``given`` (strings from the command
    line) lists several values; None when none does."""
    lists = {key: value.split(",") for key, value in given.items() if isinstance(value, str) and "," in value}
    if model is None or not lists:
        return None
    return [model.sampling_settings({**given, **dict(zip(lists, values))})
            for values in itertools.product(*lists.values())]


def measure(model, grid: list, train, heldout, *, n: int, seed: int, features: str, progress=None) -> list[dict]:
    """One row per setting: its options, evaluations per image (None where no registered sampler draws), FID,
    seconds per 1,000 images (the drawing only, timed on this machine)."""
    import numpy as np

    from zoo.evaluation.harness import evaluate, generate

    rows = []
    for settings in grid:
        started = time.perf_counter()
        images = generate(model, n, seed, settings, progress)
        seconds = time.perf_counter() - started
        labels = np.arange(n) % model.num_classes if model.conditional else None
        report = evaluate(train, heldout, model=model, samples=images, labels=labels, sampling=settings, n=n,
                          seed=seed, features=features)
        record = report.info.get("sampler")
        rows.append({"sampling": dict(vars(settings)), "evaluations": record and record["evaluations"],
                     "fid": report.model["fid"], "seconds_per_1000": round(seconds / n * 1000, 2)})
    return rows


def echo(rows: list[dict], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    keys = list(dict.fromkeys(key for row in rows for key in row["sampling"]))  # a sampler's options join its rows
    varied = [key for key in keys if len({str(row["sampling"].get(key, "-")) for row in rows}) > 1]
    shown = (["sampler"] if "sampler" in keys and "sampler" not in varied else []) + varied
    headers = [*shown, "evaluations", "FID", "s / 1,000 images"]
    table = [[str(row["sampling"].get(key, "-")) for key in shown]
             + [str(row["evaluations"] if row["evaluations"] is not None else "-"), f"{row['fid']:.1f}",
                f"{row['seconds_per_1000']:.1f}"] for row in rows]
    widths = [max(len(line[i]) for line in [headers, *table]) for i in range(len(headers))]
    for line in [headers, *table]:
        click.echo("  ".join(cell.rjust(width) if i >= len(shown) else cell.ljust(width)
                             for i, (cell, width) in enumerate(zip(line, widths))).rstrip())
