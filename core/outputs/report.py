"""``report.html``: the page of one run, the one to open first. Top to bottom: how the run stands (finished,
running, interrupted at step N, failed with the error) with its progress, time, speed, processes, batch and
precision; the latest sample grid, large, beside the evaluation as ``zoo eval`` prints it (or how to get one); the
loss curves; the earlier grids, smaller; the configuration, folded away. One self-contained file: images
inlined, no script, no external resource, every text from the run html-escaped."""

from __future__ import annotations

import base64
import html
import json
import re
import shlex
import time

from zoo import logged
from zoo.errors import ZooError
from zoo.outputs.figures import LABEL_HEADERS, cas_line, info_line, label_rows, shares_line, table_notes, table_rows
from zoo.outputs.plots import losses_png
from zoo.store.atomic import write_text
from zoo.store.regular_files import is_regular

CLASSES_SHOWN = 20  # a class list longer than this ends "and N more"

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin: 0 0 0.3em; } h2 { font-size: 1.2em; margin: 1.4em 0 0.5em; }
.meta { color: #555; margin: 0.3em 0; } code { background: #f2f2f2; padding: 0 0.25em; }
.status { font-size: 1.25em; font-weight: 600; margin: 0.2em 0; } .status progress { width: 14em; margin-left: 0.6em; }
.finished { color: #17692d; accent-color: #17692d; } .running { color: #1b5fa8; accent-color: #1b5fa8; }
.interrupted { color: #8a5100; accent-color: #8a5100; } .failed, .unknown { color: #b3261e; accent-color: #b3261e; }
.error { color: #b3261e; white-space: pre-wrap; margin: 0.3em 0; }
.top { display: flex; flex-wrap: wrap; gap: 1.5em 2.5em; align-items: flex-start; }
.top h2 { margin-top: 0.8em; } .top > div { flex: 1 1 26em; } .top > div.latest { flex: 0 0 auto; }
img.latest { width: 28em; } .notes { white-space: pre-wrap; }
img.grid { width: 10em; } img.curves { max-width: 100%; }
.grids { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; } td, th { padding: 0.15em 0.8em; text-align: right; }
th { border-bottom: 1px solid #999; } td:first-child, th:first-child { text-align: left; }
.options td, .options th, .evaluation td:nth-child(2), .evaluation th:nth-child(2) { text-align: left; }
.options td:first-child { color: #555; }
.columns { display: flex; flex-wrap: wrap; gap: 0 3em; align-items: flex-start; }
details { margin-top: 1.6em; } summary { font-size: 1.2em; font-weight: 600; cursor: pointer; }
"""


def _img(data: bytes, alt: str, cls: str) -> str:
    encoded = base64.b64encode(data).decode()
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _latest(history: list[dict], key: str):
    return next((r[key] for r in reversed(history) if _number(r.get(key))), None)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _plural(count, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 'es' if word.endswith('s') else 's'}"


def _processes(record: dict) -> int:
    world = record.get("world")
    return world["size"] if isinstance(world, dict) and _number(world.get("size")) else 1


def _resume_command(folder, record: dict) -> str:
    """How to continue the run, with as many processes as it had."""
    processes = _processes(record)
    launcher = f"torchrun --nproc-per-node {processes} -m zoo" if processes > 1 else "zoo"
    return f"{launcher} train --resume {shlex.quote(str(folder.path))}"


def _status(folder, record: dict, history: list[dict]) -> str:
    """The state line with its progress bar, the error of a failed run and what to do next."""
    steps = record["train"]["steps"]
    state, step, error = folder.state(steps, history[-1]["step"] if history else 0)
    words = {"finished": f"finished: {steps} steps", "running": f"running: step {step} of {steps}",
             "interrupted": f"interrupted at step {step} of {steps}", "failed": f"failed at step {step} of {steps}",
             "stopped": f"stopped early at step {step} of {steps}: {error}",
             "unknown": f"state unknown at step {step} of {steps}"}.get(state, f"{state} at step {step} of {steps}")
    css = state if state in ("finished", "running", "interrupted", "failed") else "unknown"
    css = "finished" if state == "stopped" else css
    parts = [f'<p class="status {css}">{html.escape(words)}<progress value="{min(step, steps)}" max="{max(steps, 1)}">'
             f"{step} of {steps}</progress></p>"]
    if error and state != "stopped":  # a stopped run's reason is in its state line
        parts.append(f'<p class="{"meta" if state == "interrupted" else "error"}">{html.escape(error)}</p>')
    command = html.escape(_resume_command(folder, record))
    if state == "running":
        parts.append(f'<p class="meta">as of {time.strftime("%Y-%m-%d %H:%M:%S")}; the page is written again at '
                     "each sample interval and at the end</p>")
    elif state in ("interrupted", "failed") and is_regular(folder.checkpoint):
        parts.append(f'<p class="meta">continue from its last checkpoint: <code>{command}</code></p>')
    elif state in ("interrupted", "failed"):
        parts.append(f'<p class="meta">stopped before its first checkpoint; start it again: <code>{command}</code></p>')
    return "".join(parts)


def _facts(folder, record: dict, history: list[dict]) -> str:
    """Elapsed time, speed, the effective batch (of all processes), precision and device on one line; when it
    started and the folder on the next."""
    train, processes = record["train"], _processes(record)
    facts = []
    elapsed, speed = _latest(history, logged.TIME_SECONDS), _latest(history, logged.IMAGES_PER_SECOND)
    if elapsed is not None:
        facts.append(f"{_duration(elapsed)} of training")
    if speed is not None:
        facts.append(f"{speed:,.0f} images/s")
    batch, accumulate = train.get("batch_size"), train.get("accumulate", 1)
    if _number(batch) and _number(accumulate):
        facts.append(f"batch {batch} &times; {_plural(processes, 'process')} &times; accumulate {accumulate} = "
                     f"{batch * processes * accumulate} images a step")
    precision = record.get("precision")
    if isinstance(precision, dict) and precision.get("used"):
        why = f" ({precision['why']})" if precision.get("why") else ""
        facts.append(html.escape(f"precision {precision['used']}{why}"))
    overflows = _latest(history, logged.OVERFLOW_STEPS)
    if overflows is not None:  # fp16's loss scaler skips a step whose gradients overflowed: a few are normal
        facts.append(f"{overflows:,.0f} fp16 overflow step{'s' if overflows != 1 else ''} skipped")
    budget = record.get("budget")
    if isinstance(budget, dict) and _number(budget.get("steps")) and budget.get("minutes"):
        facts.append(html.escape(f"budget {budget['minutes']:g} min = {budget['steps']:,} steps"))
    if record.get("device"):
        facts.append(f"on {html.escape(str(record['device']))}")
    started = html.escape(str(record.get("created", "?")).replace("T", " "))
    return (f'<p class="meta">{" &middot; ".join(facts)}</p>'
            f'<p class="meta">started {started} &middot; {html.escape(str(folder.path))}</p>')


def _grid_step(path) -> int:
    found = re.fullmatch(r"step-(\d+)", path.stem)
    return int(found.group(1)) if found else -1


def _grids(folder) -> list:
    """The sample grids, oldest first (regular files only: never a pipe)."""
    found = [p for p in (folder.path / "samples").glob("step-*.png") if is_regular(p)]
    return sorted(found, key=lambda p: (_grid_step(p), p.name))


def _caption(path) -> str:
    step = _grid_step(path)
    return f"step {step}" if step >= 0 else path.stem


def _evaluation(folder) -> tuple[str, str]:
    """The evaluation table as ``zoo eval`` prints it (or, without eval.json, how to get one), and a conditional
    model's per-label table (full width, below the grid and the evaluation)."""
    run = html.escape(shlex.quote(str(folder.path)))
    get_one = (f"run <code>zoo eval {run}</code>, or train with <code>--eval-every N</code> to evaluate every N steps "
               "and at the end") if is_regular(folder.checkpoint) else "it has no checkpoint yet, and zoo eval reads one"
    try:
        report = folder.read_eval()
        if report is None:
            return f'<h2>Evaluation</h2><p class="meta">Not evaluated yet: {get_one}.</p>', ""
        model, info = report["model"], report.get("info", {})
        floor = report.get("floor", report.get("baseline", {}))  # "baseline" before zoo 0.5
        rows, lines = table_rows(model, floor), [info_line(model, info)]
        classes = info.get("classes") if isinstance(info.get("classes"), list) else None
        shares = model.get("shares")
        if isinstance(shares, list) and all(_number(share) for share in shares):
            lines.append(shares_line(shares, classes))
        labels, cas = label_rows(report.get("per_label"), classes), cas_line(report.get("cas"))
    except (ZooError, OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        reason = str(exc) if isinstance(exc, ZooError) else f"not a zoo evaluation ({type(exc).__name__})"
        return (f'<h2>Evaluation</h2><p class="meta">eval.json could not be read: {html.escape(reason)}. '
                f"{get_one[0].upper()}{get_one[1:]}.</p>"), ""
    lines += table_notes(model, floor)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>" for row in rows)
    head = "".join(f"<th>{name}</th>" for name in ("metric", "better", "model", "held-out real"))
    notes = "".join(f'<p class="meta notes">{html.escape(line)}</p>' for line in lines + ([cas] if cas else []))
    return f'<h2>Evaluation</h2><table class="evaluation"><tr>{head}</tr>{body}</table>{notes}', _labels(labels)


def _labels(rows: list[tuple[str, ...]]) -> str:
    """The per-label table of a conditional model's evaluation (as zoo eval prints it), or nothing."""
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in LABEL_HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row) + "</tr>" for row in rows)
    return ('<h2>Per label</h2><p class="meta">agreement: the share of the samples drawn for the label that the '
            "feature network reads as it, beside the same share of the held-out real images of the label (what a "
            "model drawing the data itself would get) with its 95% interval; intra_fid: FID of the label's samples "
            "against its training images, of as many samples as it has held-out images (matched), and of those "
            f'held-out images</p><table class="labels"><tr>{head}</tr>{body}</table>')


def _options(title: str, options: dict) -> str:
    def value(v) -> str:
        return v if isinstance(v, str) else json.dumps(v)

    rows = "".join(f"<tr><td>{html.escape(str(key))}</td><td>{html.escape(value(v))}</td></tr>"
                   for key, v in options.items())
    return f'<table class="options"><tr><th colspan="2">{html.escape(title)}</th></tr>{rows}</table>'


def _data_line(data: dict) -> str:
    """The data source, its size and shape, and its classes, on one line."""
    parts = [f"{data.get('source')} ({data.get('part', 'train')} part"
             f"{', held-out images kept apart' if data.get('heldout') else ''})"]
    if _number(data.get("train_images")):
        shape = data.get("shape")
        of = f" of {'×'.join(str(s) for s in shape)}" if isinstance(shape, list) else ""
        parts.append(f"{data['train_images']} images{of}")
    classes = data.get("classes")
    if isinstance(classes, list) and classes:
        shown = ", ".join(str(c) for c in classes[:CLASSES_SHOWN])
        more = f" and {len(classes) - CLASSES_SHOWN} more" if len(classes) > CLASSES_SHOWN else ""
        parts.append(f"{len(classes)} classes: {shown}{more}")
    else:
        parts.append("unlabelled" if not data.get("num_classes") else f"{data['num_classes']} classes")
    return "data: " + " · ".join(parts)


def _callback(entry) -> str:
    """"name", or "name (key=value, ...)" for one given options."""
    if not isinstance(entry, dict):
        return str(entry)
    options = entry.get("options") if isinstance(entry.get("options"), dict) else {}
    given = ", ".join(f"{key}={value}" for key, value in options.items())
    return f"{entry.get('name')} ({given})" if given else str(entry.get("name"))


def _configuration(record: dict) -> str:
    """The model's config and the train options as tables; data, callbacks and versions one line each."""
    plugin = record.get("plugin") if isinstance(record.get("plugin"), dict) else {}
    title = f"{record['model']} ({plugin.get('distribution', '?')} {plugin.get('version', '?')})"
    lines = [_data_line(record["data"])]
    callbacks = record.get("callbacks")
    if isinstance(callbacks, list):
        lines.append("callbacks: " + ", ".join(_callback(c) for c in callbacks))
    versions = record.get("versions")
    if isinstance(versions, dict):
        lines.append("versions: " + " · ".join(f"{name} {version}" for name, version in versions.items()))
    lines.append(f"the full record: config.json ({record.get('format', 'zoo-run/1')})")
    return ("<details><summary>Configuration</summary>"
            + "".join(f'<p class="meta">{html.escape(line)}</p>' for line in lines)
            + f'<div class="columns">{_options(f"model: {title}", record["config"])}'
            + f'{_options("training", record["train"])}</div></details>')


def write_report(folder, history: list[dict]) -> None:
    """Write ``report.html`` into the run folder ``folder`` (a RunFolder) from what the folder holds now."""
    record = folder.read_record()
    title = f"{record['model']} on {record['data'].get('source')}"
    parts = [f"<h1>{html.escape(title)}</h1>", _status(folder, record, history),
             _facts(folder, record, history)]
    grids = _grids(folder)
    latest = (f'<div class="latest"><h2>Latest samples: {html.escape(_caption(grids[-1]))}</h2>'
              f"{_img(grids[-1].read_bytes(), grids[-1].stem, 'latest')}</div>") if grids else ""
    evaluation, labels = _evaluation(folder)
    parts.append(f'<div class="top">{latest}<div>{evaluation}</div></div>{labels}')
    if history:
        parts += ["<h2>Training curves</h2>", _img(losses_png(history, record["model"]), "loss curves", "curves")]
    if len(grids) > 1:
        figures = "".join(f"<figure>{_img(p.read_bytes(), p.stem, 'grid')}<figcaption>{html.escape(_caption(p))}"
                          "</figcaption></figure>" for p in grids[:-1])
        parts += ["<h2>Samples over time</h2>", f'<div class="grids">{figures}</div>']
    parts.append(_configuration(record))
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>\n")
    write_text(folder.path / "report.html", page)
