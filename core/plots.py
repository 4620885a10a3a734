"""The loss plot of a run (matplotlib, imported only here)."""

from __future__ import annotations

from pathlib import Path

NOT_LOSSES = {"step", "epoch", "images_per_s", "time_s"}


def plot_losses(history: list[dict], path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({k for record in history for k in record if k not in NOT_LOSSES and "/" not in k})
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for key in keys:
        points = [(r["step"], r[key]) for r in history if key in r]
        ax.plot([p[0] for p in points], [p[1] for p in points], label=key, linewidth=1.2)
    ax.set_xlabel("step")
    ax.set_title(f"{title} training figures" if title else "training figures")
    ax.grid(alpha=0.3)
    if keys:
        ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
