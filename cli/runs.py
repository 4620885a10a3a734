"""``zoo runs [DIR]``: the run folders under DIR at a glance."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .inspect_commands import format_table


def find_runs(root: Path) -> list[Path]:
    """Run folders (with a config.json) at ``root`` or up to two levels below it, newest first."""
    found = [p.parent for pattern in ("config.json", "*/config.json", "*/*/config.json") for p in root.glob(pattern)]
    return sorted(set(found), key=lambda p: p.stat().st_mtime, reverse=True)


@click.command("runs")
@click.argument("root", required=False, default="runs", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def runs(root, as_json):
    """List the runs under ROOT (default: runs): model, data, progress, wall time, last losses, latest eval
    figures, and whether each finished, failed, was interrupted or is running."""
    from zoo.errors import ZooError
    from zoo.run import RunFolder

    if not root.is_dir():
        raise ZooError(f"{root}: no such folder")
    summaries = []
    for path in find_runs(root):
        try:
            summaries.append(RunFolder(path).summary())
        except ZooError as exc:  # a damaged record is a row, not the end of the listing
            summaries.append({"run": str(path), "status": "unreadable", "error": str(exc)})
    if as_json:
        click.echo(json.dumps(summaries, indent=2))
        return
    if not summaries:
        click.echo(f"no runs under {root}", err=True)
        return
    rows = []
    for s in summaries:
        if s["status"] == "unreadable":
            rows.append([s["run"], "-", "-", "-", "-", "-", "-", f"unreadable: {s['error']}"])
            continue
        minutes = "-" if s["time_s"] is None else f"{s['time_s'] / 60:.1f} min"
        losses = " ".join(f"{k} {v:.3g}" for k, v in s["losses"].items()) or "-"
        figures = " ".join(f"{k} {s['eval'][k]:.3g}" for k in ("fid", "kid", "precision", "recall") if k in s["eval"]) or "-"
        status = s["status"] + (f" ({s['error'][:60]})" if s["status"] == "failed" else "")
        rows.append([s["run"], s["model"], Path(str(s["data"])).name, f"{s['step']}/{s['steps']}", minutes, losses,
                     figures, status])
    click.echo(format_table(rows, ["RUN", "MODEL", "DATA", "STEPS", "TIME", "LAST LOSSES", "EVAL", "STATUS"]))
