"""Checks a run must pass before it is built, shared by the plan and the Trainer, and the checks that stop a run
whose numbers stopped being finite (no torch here: tensors come in already reduced)."""

from __future__ import annotations

import math

from zoo.errors import DataError, TrainingError
from zoo.training.options import flag

def is_rate_key(key: str) -> bool:
    """Whether a model config key is a learning rate (``lr``, ``lr_g``, ...): a resumed run may change those."""
    return key == "lr" or key.startswith("lr_")


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


def not_finite(what: str, step: int, kept_step: int | None, resume: str) -> TrainingError:
    """The one line a run ends with when ``what`` ("loss is nan") happened at ``step``: the last finite checkpoint
    is kept as it was, and how to go on from it with a lower learning rate."""
    if kept_step is None:
        return TrainingError(f"failed at step {step}: {what}; no checkpoint was written yet: start again with a lower "
                             "learning rate (--set lr=..., or lr_g/lr_d for a GAN: zoo info NAME lists them)")
    return TrainingError(f"failed at step {step}: {what}; the last finite checkpoint (step {kept_step}) is kept: "
                         f"resume it with a lower learning rate, e.g. {resume} --set lr=... (lr_g/lr_d for a GAN)")


def first_non_finite(figures: dict[str, float]) -> str | None:
    """``"loss is nan"`` for the first figure that is not finite; None when all are."""
    return next((f"{name} is {value}" for name, value in figures.items() if not math.isfinite(value)), None)
