"""The bench's one table, for the terminal and the page alike: a row per model (each figure the median over its
seeds, with their range when there are several), the held-out floor beneath, and which way each column is
better. Standard library only."""

from __future__ import annotations

import statistics

from zoo.bench.settings import budget_text
from zoo.outputs.figures import better, cell

FIGURES = (("fid", "FID"), ("kid", "KID"), ("precision", "precision"), ("recall", "recall"),
           ("classes_covered", "classes"), ("label_agreement", "labels right"), ("heldout_elbo", "ELBO"))
RUN_FACTS = (("fid_10_steps", "FID, 10 sampler steps", "lower"), ("steps", "steps", ""),
             ("train_seconds", "training s", ""), ("images_per_s", "images/s", "higher"),
             ("sample_seconds_per_1000", "s / 1000 samples", "lower"))
ARROWS = {"lower": "lower", "higher": "higher", "real": "real", "": ""}


def columns(document: dict) -> list[tuple[str, str, str, str]]:
    """(kind, key, heading, better) of each column the runs have a figure for."""
    runs = document["runs"]
    shown = [("figure", key, name, better(key)) for key, name in FIGURES
             if any(key in run["figures"] for run in runs)]
    return shown + [("fact", key, name, way) for key, name, way in RUN_FACTS
                    if any(run.get(key) is not None for run in runs)]


def summary(document: dict) -> list[dict]:
    """Per model, in the bench's order: each column's values over the seeds."""
    rows = []
    for model in document["settings"]["models"]:
        runs = [run for run in document["runs"] if run["model"] == model]
        if not runs:
            continue
        values = {}
        for kind, key, _, _ in columns(document):
            found = [(run["figures"] if kind == "figure" else run).get(key) for run in runs]
            values[key] = [v for v in found if isinstance(v, (int, float)) and not isinstance(v, bool)]
        rows.append({"model": model, "seeds": [run["seed"] for run in runs], "values": values})
    return rows


def text(values: list) -> str:
    """The median, and the range over seeds where there are several: ``37.7 (37.7-40.2)``."""
    if not values:
        return "-"
    middle = statistics.median(values)
    if all(isinstance(v, int) for v in values):
        middle = int(middle) if middle == int(middle) else middle
    if min(values) == max(values):
        return cell(values[0])
    return f"{cell(middle)} ({cell(min(values))}-{cell(max(values))})"


def floor(document: dict) -> dict:
    """The held-out real images' figures (the same for every run: one data, one setting)."""
    return document["runs"][0]["floor"] if document["runs"] else {}


def lines(document: dict) -> list[list[str]]:
    """The table as rows of cells: the heading, which way is better, each model, then the held-out floor."""
    shown = columns(document)
    rows = [["model", *(name for _, _, name, _ in shown)], ["better", *(ARROWS[way] for *_, way in shown)]]
    for row in summary(document):
        rows.append([row["model"], *(text(row["values"][key]) for _, key, _, _ in shown)])
    real = floor(document)
    rows.append(["held-out real", *(cell(real.get(key)) if kind == "figure" else "" for kind, key, _, _ in shown)])
    return rows


def caption(document: dict) -> str:
    """What the table is of: ``mnist, budget: each model's defaults, seeds 0, 1, 2; 2,000 samples scored each``."""
    settings = document["settings"]
    return (f"{settings['data']}, budget: {budget_text(settings)}, seeds {', '.join(map(str, settings['seeds']))}; "
            f"{settings['n']:,} samples scored each")


def terminal(document: dict) -> str:
    """The caption, then the table with its columns aligned."""
    rows = lines(document)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    aligned = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
               for row in rows]
    return "\n".join([caption(document), *aligned])
