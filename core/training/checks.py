"""Checks a run must pass before it is built, shared by the plan and the Trainer (no torch here)."""

from __future__ import annotations

from zoo.errors import DataError
from zoo.training.options import flag


def check_data(model: str, conditional: bool, data, batch_size: int, processes: int = 1) -> None:
    """Whether ``data`` can train ``model`` with batches of ``batch_size`` on each of ``processes`` ranks."""
    if conditional and data.labels is None:
        raise DataError(f"{model} needs a labelled dataset (one subfolder per class, or 'labels' in the .npz); "
                        f"{data.name} has no labels")
    if batch_size * processes > len(data):
        each = f" on each of {processes} processes" if processes > 1 else ""
        raise DataError(f"{flag('batch_size')} {batch_size}{each} does not fit {data.name}, which has {len(data)} images")


def world_size_message(run_path, trained_by: int, launched: int) -> str:
    """Why a run trained by ``trained_by`` processes cannot go on with ``launched``."""
    how = f"{trained_by} processes (torchrun --nproc-per-node {trained_by})" if trained_by > 1 else "one process (no torchrun)"
    return (f"{run_path} was trained by {trained_by} process{'es' if trained_by > 1 else ''}, this is {launched}; "
            f"resume it with {how}: another number would change the batch every step sees")
