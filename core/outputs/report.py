"""``report.html``: one self-contained page per run (images inlined, no script, no server) with the config, the
loss curves, the sample grids over time and the evaluation beside its floor."""

from __future__ import annotations

import base64
import html
import json

from zoo.errors import ZooError
from zoo.store.atomic import write_text
from zoo.store.regular_files import is_regular, read_regular
from zoo.store.run_folder import JSON_LIMIT
from zoo.outputs.plots import losses_png

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.meta { color: #555; } table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em; text-align: right; }
th { border-bottom: 1px solid #999; } td:first-child, th:first-child { text-align: left; }
.grids { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; }
figure img { width: 16em; image-rendering: pixelated; } figcaption { color: #555; font-size: 0.9em; }
pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; }
"""


def _img(data: bytes, alt: str, cls: str = "") -> str:
    encoded = base64.b64encode(data).decode()
    return f'<img{f" class={cls!r}" if cls else ""} alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _evaluation(report: dict) -> str:
    from_model, floor = report.get("model", {}), report.get("floor", report.get("baseline", {}))  # "baseline" before zoo 0.5
    def cell(value) -> str:
        return f"{value:.4g}" if isinstance(value, (int, float)) else "-"

    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{cell(v)}</td><td>{cell(floor.get(k))}</td></tr>"
                   for k, v in from_model.items() if isinstance(v, (int, float)) and k != "n")
    info = report.get("info", {})
    return (f'<p class="meta">{html.escape(str(from_model.get("n", "?")))} samples, seed '
            f'{html.escape(str(info.get("seed", "?")))}, features '
            f'{html.escape(str(info.get("features", "?")))} on {html.escape(str(info.get("data", "?")))}; '
            f'KID {html.escape(str(info.get("kid_units", "in raw feature units")))}</p>'
            f"<table><tr><th>figure</th><th>model</th><th>held-out real (the floor)</th></tr>{rows}</table>")


def write_report(folder, history: list[dict]) -> None:
    """Write ``report.html`` into the run folder ``folder`` (a RunFolder) from what the folder holds now."""
    record = folder.read_record()
    title = f"{record['model']} on {record['data'].get('source')}"
    step = history[-1]["step"] if history else 0
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="meta">step {step} of {record["train"]["steps"]} &middot; started {html.escape(str(record.get("created")))}'
             f" &middot; {html.escape(str(folder.path))}</p>"]
    if history:
        parts += ["<h2>Training figures</h2>", _img(losses_png(history, record["model"]), "loss curves")]
    grids = sorted(p for p in (folder.path / "samples").glob("step-*.png") if is_regular(p))  # never a pipe
    if grids:
        figures = "".join(f"<figure>{_img(p.read_bytes(), p.stem, 'grid')}<figcaption>{html.escape(p.stem)}"
                          "</figcaption></figure>" for p in grids)
        parts += ["<h2>Samples over time</h2>", f'<div class="grids">{figures}</div>']
    if folder.eval_report.exists():
        try:
            parts += ["<h2>Evaluation</h2>", _evaluation(json.loads(read_regular(folder.eval_report, JSON_LIMIT)))]
        except (ZooError, OSError, ValueError, TypeError, AttributeError):
            pass
    parts += ["<h2>Configuration</h2>", f"<pre>{html.escape(json.dumps(record, indent=2))}</pre>"]
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")
    write_text(folder.path / "report.html", page)
