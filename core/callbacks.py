"""Training callbacks: override the hooks you need; every one is a no-op by default (as in Lightning).

zoo's own run-folder features (metrics log, sample grids, checkpoints, loss plot, report) are callbacks too, on
the same contract (:mod:`zoo.training.default_callbacks`). What a callback may read and call on the trainer it
is handed is listed in docs/plugins.md ("The trainer a callback sees"). This module does not import torch, so a
plugin can subclass Callback in its light entry module.
"""

from __future__ import annotations

from pathlib import Path

from zoo import moved


class Callback:
    every_rank = False
    """With several processes, callbacks run on rank 0 alone, which writes the run folder. A callback that changes
    training itself (say, a learning-rate schedule) sets this True and then runs on every rank; it must not write
    files then, or only where ``trainer.world.is_writer``."""

    def on_train_start(self, trainer) -> None:
        """Before the first step (also when resuming; ``trainer.step`` then says where)."""

    def on_step_end(self, trainer, step: int, logs: dict[str, float]) -> None:
        """After each optimisation step; ``step`` counts completed steps from 1, ``logs`` are finite floats."""

    def on_epoch_end(self, trainer, epoch: int) -> None:
        """After the step that used the last full batch of an epoch (epochs count from 1)."""

    def on_checkpoint_saved(self, trainer, path: Path) -> None:
        """After a checkpoint was written atomically to ``path``."""

    def on_train_end(self, trainer) -> None:
        """After the last step, when training finished normally."""

    def on_exception(self, trainer, exception: BaseException) -> None:
        """When training stops on an error or interrupt; the exception is raised again afterwards."""

    def state_dict(self) -> dict:
        """What this callback must remember across a resume: JSON values (numbers, strings, lists, dicts), saved in
        each checkpoint under the callback's registered name. Empty (the default): nothing is saved."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Take back what :meth:`state_dict` returned; called when a run resumes, before ``on_train_start``."""


def __getattr__(name: str):
    """zoo's own callbacks lived here before zoo-core 0.5: ``from zoo.callbacks import MetricsLog, Checkpointing``
    still works, with a DeprecationWarning naming :mod:`zoo.training.default_callbacks`."""
    return moved.old_name(__name__, name)
