"""``zoo runs compare``: runs side by side, from their folders alone (standard library; the plot is matplotlib's).

    >>> from zoo.outputs.comparison import compare_runs
    >>> comparison = compare_runs(["runs/dcgan", "runs/wgan-gp"])
    >>> headers, rows = comparison.table()
    >>> comparison.plot("compare.png")

Each figure (steps, minutes, processes and batch, the last losses, the evaluation's figures and a conditional
model's per-label ones) has one value per run and, in the table, its change from the first run. Evaluations are
set side by side only when they were made the same way (:func:`zoo.evaluation.comparable.mismatch`)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from zoo.errors import ZooError
from zoo.evaluation.comparable import mismatch
from zoo.outputs.plots import plot_comparison
from zoo.store.run_folder import RunFolder

LABELS_COMPARED = 20  # per-label rows for at most this many labels


@dataclass
class Comparison:
    """What :func:`compare_runs` found: the runs, the short names that tell them apart, each figure's value per
    run (None where a run has none), and notes (why a run has no evaluation, unlike batches)."""

    runs: list[Path]
    labels: list[str]
    figures: dict[str, list]
    notes: list[str] = field(default_factory=list)
    histories: dict[str, list[dict]] = field(default_factory=dict, repr=False)  # label -> metrics.jsonl records
    evaluations: dict[str, dict] = field(default_factory=dict, repr=False)  # label -> eval figures, if evaluated

    def table(self) -> tuple[list[str], list[list[str]]]:
        """(headers, rows): each figure, its value per run and each run's change from the first, as text."""
        rows = []
        for key, values in self.figures.items():
            first = values[0]
            changes = ["-" if v is None or first is None else f"{v - first:+.3g}" + (f" ({(v - first) / abs(first):+.0%})" if first else "")
                       for v in values[1:]]
            rows.append([key, *("-" if v is None else f"{v:.4g}" for v in values), *changes])
        return ["FIGURE", *self.labels, *(f"{label} - {self.labels[0]}" for label in self.labels[1:])], rows

    def plot(self, out: str | os.PathLike) -> None:
        """The runs' loss curves, and their evaluations' figures as bars, in one PNG."""
        plot_comparison(self.histories, self.evaluations, Path(out))


def compare_runs(paths, *, with_eval: bool = True) -> Comparison:
    """Compare the run folders ``paths`` (two or more); ``with_eval=False`` leaves out their evaluations. A
    ZooError when a run cannot be read, or when their evaluations were made differently."""
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise ZooError("zoo runs compare needs two runs or more")
    folders = [RunFolder(p) for p in paths]
    summaries = [f.summary() for f in folders]
    if not with_eval:
        for summary in summaries:
            summary["eval"] = {}
    _check_comparable(paths, summaries)
    labels = _labels(paths)
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
    return Comparison(paths, labels, figures, notes,
                      histories={label: f.read_metrics()[0] for label, f in zip(labels, folders)},
                      evaluations={label: s["eval"] for label, s in zip(labels, summaries) if s["eval"]})


def _check_comparable(paths: list[Path], summaries: list[dict]) -> None:
    """Evaluations are set side by side only when they were made the same way (feature space and weights, data,
    split, sample count); otherwise the comparison is refused with the reason."""
    evaluated = [(p, s) for p, s in zip(paths, summaries) if s["eval"]]
    for path, summary in evaluated[1:]:
        reason = mismatch(evaluated[0][1]["eval_provenance"], summary["eval_provenance"])
        if reason:
            raise ZooError(f"the evaluations of {evaluated[0][0]} and {path} cannot be compared: {reason} "
                           "(--no-eval compares the losses alone)")


def _label_figures(folders: list[RunFolder]) -> dict[str, list]:
    """agreement_L and intra_fid_L of each label L (conditional models), from each run's eval.json; a run without
    them (or with an eval.json zoo cannot read) has none."""
    runs = []
    for folder in folders:
        try:
            entries = (folder.read_eval() or {}).get("per_label")
        except (ZooError, OSError):
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


def _eval_notes(paths: list[Path], folders: list[RunFolder], summaries: list[dict]) -> list[str]:
    """Why each run without eval figures has none, and the command that makes them."""
    notes = []
    for path, folder, summary in zip(paths, folders, summaries):
        if not summary["eval"]:
            why = "has no eval.json" if not folder.eval_report.exists() else "has an eval.json without figures"
            notes.append(f"no eval figures for {path}: it {why} (zoo eval {shlex.quote(str(path))} makes them)")
    return notes


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


def _labels(paths: list[Path]) -> list[str]:
    """Short names that tell the runs apart: the folder names, or more of the path where those repeat."""
    names = [p.name for p in paths]
    return names if len(set(names)) == len(names) else [str(p) for p in paths]


__all__ = ["compare_runs", "Comparison"]
