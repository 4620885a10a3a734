"""Plots of runs: one run's losses, and several runs side by side (matplotlib, imported only here)."""

from __future__ import annotations

from pathlib import Path

import io

from zoo import logged
from zoo.store.atomic import write_bytes

NOT_LOSSES = set(logged.BOOKKEEPING)
EVAL_FIGURES = ("fid", "kid", "precision", "recall")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def loss_keys(history: list[dict]) -> list[str]:
    return sorted({k for record in history for k in record if k not in NOT_LOSSES and "/" not in k})


def _png(fig, plt) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def losses_png(history: list[dict], title: str = "") -> bytes:
    """One run's logged figures as PNG bytes."""
    return comparison_png({title or "run": history}, {}, title=f"{title} training figures" if title else "training figures")


def plot_losses(history: list[dict], path: Path, title: str = "") -> None:
    write_bytes(path, losses_png(history, title))


def plot_comparison(histories: dict[str, list[dict]], evals: dict[str, dict], path: Path, title: str = "") -> None:
    write_bytes(path, comparison_png(histories, evals, title))


def comparison_png(histories: dict[str, list[dict]], evals: dict[str, dict], title: str = "") -> bytes:
    """One panel per logged figure with a curve per run (figures differ in scale: a penalty ~0.01, a loss ~20),
    and, when runs were evaluated, one bar panel per eval figure."""
    plt = _pyplot()
    keys = sorted({k for history in histories.values() for k in loss_keys(history)})
    figures = [f for f in EVAL_FIGURES if any(f in e for e in evals.values())]
    panels = max(1, len(keys) + len(figures))
    fig, axes = plt.subplots(panels, 1, figsize=(7, 1.9 * panels + 0.6), dpi=100, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        for label, history in histories.items():
            points = [(r["step"], r[key]) for r in history if key in r]
            ax.plot([p[0] for p in points], [p[1] for p in points], linewidth=1.2, label=label)
        ax.set_ylabel(key)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    if len(histories) > 1 and keys:
        axes[0, 0].legend(fontsize=8)
    for ax, figure in zip(axes[len(keys):, 0], figures):
        labels = [label for label in evals if figure in evals[label]]
        ax.barh(labels, [evals[label][figure] for label in labels], color="tab:gray")
        ax.set_xlabel(f"{figure} ({'lower' if figure in ('fid', 'kid') else 'higher'} is better)")
    fig.suptitle(title or "runs compared")
    return _png(fig, plt)
