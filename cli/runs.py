"""``zoo runs [DIR]``: the run folders under DIR at a glance."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import click

from .inspect_commands import format_table


def find_runs(root: Path) -> list[Path]:
    """Run folders (with a config.json) at ``root`` or up to two levels below it, newest first."""
    found = [p.parent for pattern in ("config.json", "*/config.json", "*/*/config.json") for p in root.glob(pattern)]
    return sorted(set(found), key=lambda p: p.stat().st_mtime, reverse=True)


@click.command("runs")
@click.argument("args", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("compare.png"), show_default=True,
              help="With compare: where to draw the comparison.")
@click.option("--no-eval", is_flag=True, help="With compare: losses only, leaving out the evaluations.")
def runs(args, as_json, out, no_eval):
    """zoo runs [DIR]: the runs under DIR (default: runs) with model, data, progress, processes, batch (images per
    optimiser step: batch size x processes x accumulate), wall time, last losses, latest eval figures and whether
    each finished, failed, was interrupted or is running.

    zoo runs compare RUN_A RUN_B ...: their loss curves and eval figures in one PNG (--out), and a table of
    each figure (processes and batch included) side by side with its change from the first run; it says why a
    run has no eval figures."""
    if args[:1] == ("compare",):
        return compare([Path(a) for a in args[1:]], out, as_json, with_eval=not no_eval)
    if len(args) > 1:
        raise click.UsageError("give one folder to list, or: zoo runs compare RUN_A RUN_B ...")
    listing(Path(args[0]) if args else Path("runs"), as_json)


def listing(root: Path, as_json: bool) -> None:
    """Standard library only (zoo.store.run_folder): listing runs imports neither torch nor numpy."""
    from zoo.errors import ZooError
    from zoo.store.run_folder import RunFolder

    if not root.is_dir():
        raise ZooError(f"{root}: no such folder")
    summaries = []
    for path in find_runs(root):
        try:
            summaries.append(RunFolder(path).summary())
        except (ZooError, OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            # a damaged run is one row, not the end of the listing
            summaries.append({"run": str(path), "status": "unreadable", "error": _reason(exc, path)})
    if as_json:
        click.echo(json.dumps(summaries, indent=2))
        return
    if not summaries:
        click.echo(f"no runs under {root}", err=True)
        return
    rows = []
    for s in summaries:
        if s["status"] == "unreadable":
            rows.append([s["run"], *["-"] * 8, f"unreadable: {s['error']}"])
            continue
        minutes = "-" if s["time_s"] is None else f"{s['time_s'] / 60:.1f} min"
        losses = " ".join(f"{k} {v:.3g}" for k, v in s["losses"].items()) or "-"
        figures = " ".join(f"{k} {s['eval'][k]:.3g}" for k in ("fid", "kid", "precision", "recall") if k in s["eval"]) or "-"
        status = s["status"] + (f" ({s['error'][:60]})" if s["status"] == "failed" else "")
        rows.append([s["run"], s["model"], Path(str(s["data"])).name, f"{s['step']}/{s['steps']}",
                     *(_or_dash(s[k]) for k in ("processes", "effective_batch")), minutes, losses, figures, status])
    click.echo(format_table(rows, ["RUN", "MODEL", "DATA", "STEPS", "PROCS", "BATCH", "TIME", "LAST LOSSES", "EVAL",
                                   "STATUS"]))


def compare(paths: list[Path], out: Path, as_json: bool, with_eval: bool = True) -> None:
    from zoo.errors import ZooError
    from zoo.outputs.plots import plot_comparison  # matplotlib, and with it numpy; never torch
    from zoo.store.run_folder import RunFolder

    if len(paths) < 2:
        raise ZooError("zoo runs compare needs two runs or more")
    folders = [RunFolder(p) for p in paths]
    summaries = [f.summary() for f in folders]
    if not with_eval:
        for summary in summaries:
            summary["eval"] = {}
    _check_comparable(paths, summaries)
    labels = _labels(paths)
    plot_comparison({label: f.read_metrics()[0] for label, f in zip(labels, folders)},
                    {label: s["eval"] for label, s in zip(labels, summaries) if s["eval"]}, out)
    figures: dict[str, list] = {"steps": [s["step"] for s in summaries],
                                "minutes": [None if s["time_s"] is None else s["time_s"] / 60 for s in summaries],
                                "processes": [s["processes"] for s in summaries],
                                "effective_batch": [s["effective_batch"] for s in summaries]}
    for source in ("losses", "eval"):
        for key in sorted({k for s in summaries for k in s[source]}):
            if key != "n":
                figures[key] = [s[source].get(key) for s in summaries]
    if with_eval:
        figures.update(_label_figures(folders))
    notes = _batch_note(labels, summaries) + (_eval_notes(paths, folders, summaries) if with_eval else [])
    for note in notes:
        click.echo(note, err=True)
    if as_json:
        click.echo(json.dumps({"runs": [str(p) for p in paths], "figures": figures, "plot": str(out), "notes": notes},
                              indent=2))
        return
    rows = []
    for key, values in figures.items():
        first = values[0]
        changes = ["-" if v is None or first is None else f"{v - first:+.3g}" + (f" ({(v - first) / abs(first):+.0%})" if first else "")
                   for v in values[1:]]
        rows.append([key, *("-" if v is None else f"{v:.4g}" for v in values), *changes])
    headers = ["FIGURE", *labels, *(f"{label} - {labels[0]}" for label in labels[1:])]
    click.echo(format_table(rows, headers))
    click.echo(f"plot: {out}", err=True)


def _check_comparable(paths: list[Path], summaries: list[dict]) -> None:
    """Evaluations are set side by side only when they were made the same way (feature space and weights, data,
    split, sample count); otherwise the comparison is refused with the reason."""
    from zoo.errors import ZooError
    from zoo.evaluation.comparable import mismatch

    evaluated = [(p, s) for p, s in zip(paths, summaries) if s["eval"]]
    for path, summary in evaluated[1:]:
        reason = mismatch(evaluated[0][1]["eval_provenance"], summary["eval_provenance"])
        if reason:
            raise ZooError(f"the evaluations of {evaluated[0][0]} and {path} cannot be compared: {reason} "
                           "(--no-eval compares the losses alone)")


LABELS_COMPARED = 20  # per-label rows for at most this many labels


def _label_figures(folders: list) -> dict[str, list]:
    """agreement_L and intra_fid_L of each label L (conditional models), from each run's eval.json; a run without
    them (or with an eval.json zoo cannot read) has none."""
    from zoo.errors import ZooError
    from zoo.store.regular_files import read_regular
    from zoo.store.run_folder import JSON_LIMIT

    runs = []
    for folder in folders:
        try:
            entries = json.loads(read_regular(folder.eval_report, JSON_LIMIT)).get("per_label")
        except (ZooError, OSError, ValueError, AttributeError):
            entries = None
        runs.append({e["label"]: e for e in entries if isinstance(e, dict) and isinstance(e.get("label"), int)}
                    if isinstance(entries, list) else {})
    labels = sorted({label for run in runs for label in run})[:LABELS_COMPARED]
    number = lambda v: v if isinstance(v, (int, float)) and not isinstance(v, bool) else None  # noqa: E731
    return {f"{row}_{label}": [number(run.get(label, {}).get(key)) for run in runs]
            for row, key in (("agreement", "agreement"), ("intra_fid", "fid")) for label in labels
            if any(number(run.get(label, {}).get(key)) is not None for run in runs)}


def _batch_note(labels: list[str], summaries: list[dict]) -> list[str]:
    """A line when the runs' steps saw different numbers of images: their curves by step compare unlike things."""
    batches = [s["effective_batch"] for s in summaries]
    if len(set(batches)) < 2:
        return []
    each = ", ".join(f"{label} {_or_dash(s['effective_batch'])} ({_or_dash(s['batch_size'])} x "
                     f"{_or_dash(s['processes'])} process{'es' if s['processes'] != 1 else ''} x "
                     f"{_or_dash(s['accumulate'])} accumulated)" for label, s in zip(labels, summaries))
    return [f"note: the runs see different numbers of images a step: {each}"]


def _eval_notes(paths: list[Path], folders: list, summaries: list[dict]) -> list[str]:
    """Why each run without eval figures has none, and the command that makes them."""
    notes = []
    for path, folder, summary in zip(paths, folders, summaries):
        if not summary["eval"]:
            why = "has no eval.json" if not folder.eval_report.exists() else "has an eval.json without figures"
            notes.append(f"no eval figures for {path}: it {why} (zoo eval {shlex.quote(str(path))} makes them)")
    return notes


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


def _reason(error: Exception, folder: Path) -> str:
    """Why a run cannot be listed, in one short line: the message without the folder the row already names."""
    from zoo.errors import ZooError

    text = str(error) if isinstance(error, ZooError) else f"{type(error).__name__}: {error}"
    return " ".join(text.replace(f"{folder}{os.sep}", "").split())


def _labels(paths: list[Path]) -> list[str]:
    """Short names that tell the runs apart: the folder names, or more of the path where those repeat."""
    names = [p.name for p in paths]
    return names if len(set(names)) == len(names) else [str(p) for p in paths]
