"""``zoo runs [DIR]``: the run folders under DIR at a glance."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from .inspect_commands import format_table


def find_runs(root: Path) -> list[Path]:
    """Run folders (with a config.json) at ``root`` or up to two levels below it, newest first."""
    from zoo.store.run_folder import RECORD

    found = [p.parent for pattern in (RECORD, f"*/{RECORD}", f"*/*/{RECORD}") for p in root.glob(pattern)]
    return sorted(set(found), key=lambda p: p.stat().st_mtime, reverse=True)


@click.command("runs")
@click.argument("args", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("compare.png"), show_default=True,
              help="With compare: where to draw the comparison.")
@click.option("--no-eval", is_flag=True, help="With compare: losses only, leaving out the evaluations.")
def runs(args, as_json, out, no_eval):
    """zoo runs [DIR]: the runs under DIR (default: runs) with model, data, progress (for a run that stopped short,
    the steps run and the step its checkpoint holds), processes, batch (images per optimiser step: batch size x
    processes x accumulate), wall time, last losses, latest eval figures and whether each finished, failed, was
    interrupted or is running.

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
        rows.append([s["run"], s["model"], Path(str(s["data"])).name, _steps(s),
                     *(_or_dash(s[k]) for k in ("processes", "effective_batch")), minutes, losses, figures, status])
    click.echo(format_table(rows, ["RUN", "MODEL", "DATA", "STEPS", "PROCS", "BATCH", "TIME", "LAST LOSSES", "EVAL",
                                   "STATUS"]))


def compare(paths: list[Path], out: Path, as_json: bool, with_eval: bool = True) -> None:
    from zoo.outputs.comparison import compare_runs  # the plot: matplotlib, and with it numpy; never torch

    comparison = compare_runs(paths, with_eval=with_eval)
    comparison.plot(out)
    for note in comparison.notes:
        click.echo(note, err=True)
    if as_json:
        click.echo(json.dumps({"runs": [str(p) for p in comparison.runs], "figures": comparison.figures,
                               "plot": str(out), "notes": comparison.notes}, indent=2))
        return
    headers, rows = comparison.table()
    click.echo(format_table(rows, headers))
    click.echo(f"plot: {out}", err=True)


def _steps(summary: dict) -> str:
    """"149/4000" and, for a run that stopped short, the step its checkpoint holds: "149/4000 (saved 0)"."""
    steps, saved = f"{summary['step']}/{summary['steps']}", summary.get("step_saved")
    if summary["status"] not in ("interrupted", "failed") or saved == summary["step"]:
        return steps
    return f"{steps} (saved {'none' if saved is None else saved})"


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


def _reason(error: Exception, folder: Path) -> str:
    """Why a run cannot be listed, in one short line: the message without the folder the row already names."""
    from zoo.errors import ZooError

    text = str(error) if isinstance(error, ZooError) else f"{type(error).__name__}: {error}"
    return " ".join(text.replace(f"{folder}{os.sep}", "").split())
