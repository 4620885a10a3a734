"""The loss plot of a run (matplotlib, imported only here)."""

from __future__ import annotations

from pathlib import Path

from .atomic import atomic_write

NOT_LOSSES = {"step", "epoch", "images_per_s", "time_s"}


def plot_losses(history: list[dict], path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({k for record in history for k in record if k not in NOT_LOSSES and "/" not in k})
    fig, axes = plt.subplots(max(1, len(keys)), 1, figsize=(7, 1.9 * max(1, len(keys)) + 0.6), dpi=100,
                             sharex=True, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):  # one panel each: figures differ in scale (a penalty ~0.01, a loss ~20)
        points = [(r["step"], r[key]) for r in history if key in r]
        ax.plot([p[0] for p in points], [p[1] for p in points], linewidth=1.2)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    fig.suptitle(f"{title} training figures" if title else "training figures")
    fig.tight_layout()
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)
