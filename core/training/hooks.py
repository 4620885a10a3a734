"""Running the callbacks' hooks for the trainer. Each callback draws random numbers from a fork of its own:
training randomness, and the RNG state a checkpoint saves, never depend on which callbacks ran (resume stays
bit-exact). Only rank 0 runs them (it alone writes), except those that declare ``every_rank`` (a schedule that
changes the optimisers). A checkpoint asked for while a step's hooks run is written once all of them have seen it."""

from __future__ import annotations

from pathlib import Path

import torch

from zoo.training import resume


class Hooks:
    def __init__(self, callbacks: list, world, device: torch.device):
        self.callbacks, self.world, self.device = callbacks, world, device
        self.running: str | None = None  # the hook running now
        self.rng_state: dict | None = None  # the training RNG state as the outermost hook began
        self.deferred: list[Path] = []  # checkpoints asked for during the step's hooks

    def emit(self, trainer, hook: str, *args) -> None:
        devices = [self.device] if self.device.type == "cuda" else []
        outer, self.running = self.running, hook
        if outer is None:  # what a checkpoint saved from inside a callback's fork must hold
            self.rng_state = resume.rng_state(self.device)
        try:
            for callback in self.callbacks:
                if self.world.is_writer or getattr(callback, "every_rank", False):
                    with torch.random.fork_rng(devices=devices):
                        getattr(callback, hook)(trainer, *args)
        except BaseException:
            self.deferred.clear()  # the step was not seen through: no checkpoint of it
            raise
        finally:
            self.running = outer

    def defers(self, path: Path) -> bool:
        """Whether a checkpoint to ``path`` waits for the end of the step's hooks (then it is queued once)."""
        if self.running not in ("on_step_end", "on_epoch_end"):
            return False
        if path not in self.deferred:
            self.deferred.append(path)
        return True

    def training_rng(self) -> dict:
        """The training RNG state a checkpoint saves: inside a hook, not its fork's."""
        return self.rng_state if self.running else resume.rng_state(self.device)
