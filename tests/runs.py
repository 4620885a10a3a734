"""Helpers for tests that compare runs."""

import torch

import zoo
from zoo.store.checkpoint import load_checkpoint


def same_weights(a, b) -> bool:
    """Whether two checkpoints (or run folders) hold bit-identical model weights."""
    a, b = load_checkpoint(a), load_checkpoint(b)
    keys = [k for k in a.tensors if k.startswith("model.")]
    return bool(keys) and all(torch.equal(a.tensors[k], b.tensors[k]) for k in keys)


class StopAt(zoo.Callback):
    """Interrupt a run at ``step``, as Ctrl-C would."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer, step, logs):
        if step == self.step:
            raise KeyboardInterrupt
