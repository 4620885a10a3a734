"""``index.html`` of a bench: the table (with the held-out floor), the grids side by side at one size, and how the
bench was run. Images are embedded, so the page is one file; every text is escaped. Standard library only."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from zoo.bench.settings import budget_text
from zoo.bench.table import lines
from zoo.store.atomic import write_text
from zoo.store.regular_files import is_regular

STYLE = """body { font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; }
td { text-align: right; } td:first-child, th:first-child { text-align: left; } tr.better td { color: #777; }
tr.floor td { font-style: italic; } .grids { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; } figure img { width: 256px; image-rendering: pixelated; } .meta { color: #666; }"""


def write(out: Path, document: dict) -> None:
    settings = document["settings"]
    rows = lines(document)
    table = [f"<tr><th>{'</th><th>'.join(map(html.escape, rows[0]))}</th></tr>",
             f"<tr class=\"better\"><td>{'</td><td>'.join(map(html.escape, rows[1]))}</td></tr>"]
    table += [f"<tr><td>{'</td><td>'.join(map(html.escape, row))}</td></tr>" for row in rows[2:-1]]
    table.append(f"<tr class=\"floor\"><td>{'</td><td>'.join(map(html.escape, rows[-1]))}</td></tr>")
    grids = [_figure(out, run) for run in document["runs"]]
    seeds = ", ".join(map(str, settings["seeds"]))
    parts = [f"<h1>zoo bench: {html.escape(settings['data'])}, budget: {html.escape(budget_text(settings))}</h1>",
             f'<p class="meta">{len(settings["models"])} models, seeds {html.escape(seeds)}; each scored with '
             f'{settings["n"]:,} samples in the {html.escape(settings["features"])} feature space beside held-out '
             "real images (the floor); figures are medians over the seeds, with their range</p>",
             f"<table class=\"bench\">{''.join(table)}</table>", f'<div class="grids">{"".join(grids)}</div>']
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>zoo bench</title>'
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")
    write_text(out / "index.html", page)


def _figure(out: Path, run: dict) -> str:
    path = out / run["grid"]
    source = ""
    if is_regular(path):
        source = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    caption = html.escape(f"{run['model']}, seed {run['seed']}: {run['steps']:,} steps")
    return f'<figure><img alt="{caption}" src="{source}"><figcaption>{caption}</figcaption></figure>'
