"""What ``Architecture.optimize(name, loss)`` does under a run's settings: one backward per micro-batch (the loss
divided by their number, scaled under fp16), then, after the last micro-batch of the step, the gradients averaged
over processes, unscaled, clipped, and the optimiser stepped (skipped by the scaler when fp16 overflowed).

A model that calls ``loss.backward()`` and ``optimizer.step()`` itself bypasses all of this: it trains as before in
fp32 and bf16, while fp16, ``--accumulate`` and ``--clip-grad-norm`` need the provided method and are refused in
one line at its first step."""

from __future__ import annotations

import torch

from zoo.errors import TrainingError

NEEDS_OPTIMIZE = ("{model} steps its optimiser '{name}' itself ({what} needs it to call self.optimize('{name}', "
                  "loss) instead of loss.backward() and optimizer.step(): see the plugin guide)")


class OptimizerSteps:
    """The trainer's settings for one run's optimiser steps, and where the current step is among its micro-batches."""

    def __init__(self, precision: str = "fp32", accumulate: int = 1, clip_grad_norm: float = 0.0,
                 average=None, device: torch.device | None = None):
        self.scaler = torch.amp.GradScaler(device.type) if precision == "fp16" and device is not None else None
        self.accumulate, self.clip_grad_norm, self.average = accumulate, clip_grad_norm, average
        self.micro_batch = 0
        self.stepping = False  # inside a step this class makes (the trainer's step hook checks it)
        self.stepped: set[int] = set()  # the optimisers stepped since the loss scale was last updated
        self.gathering: set[int] = set()  # the optimisers whose gradients are adding up towards their next step

    @property
    def needs_optimize(self) -> str:
        """What of this run a model stepping its optimisers itself would silently ignore ('' when nothing)."""
        asked = [what for what, on in (("fp16", self.scaler is not None), ("--accumulate", self.accumulate > 1),
                                       ("--clip-grad-norm", self.clip_grad_norm > 0)) if on]
        return " and ".join(asked)

    def backward_and_step(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        if id(optimizer) in self.stepped:  # stepped twice in one training_step: the scaler needs an update between
            self.end_of_step()
        if id(optimizer) not in self.gathering:  # its first backward towards this step
            optimizer.zero_grad(set_to_none=True)
            self.gathering.add(id(optimizer))
        loss = loss / self.accumulate
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        if self.micro_batch < self.accumulate - 1:
            return
        if self.average is not None:
            self.average(optimizer)
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)
        if self.clip_grad_norm > 0:
            params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, self.clip_grad_norm)
        self.stepping = True
        try:
            self.scaler.step(optimizer) if self.scaler is not None else optimizer.step()
        finally:
            self.stepping = False
        self.stepped.add(id(optimizer))
        self.gathering.discard(id(optimizer))

    def check_direct_step(self, model, optimizer_name: str) -> None:
        """Called before every optimiser step: refuse one the model made itself where the run needs ours."""
        if not self.stepping and self.needs_optimize:
            raise TrainingError(NEEDS_OPTIMIZE.format(model=model.name, name=optimizer_name, what=self.needs_optimize))

    def end_of_step(self) -> None:
        """Update the loss scale from the steps made since the last update (none: nothing to learn from)."""
        if self.scaler is not None and self.stepped:
            self.scaler.update()
        self.stepped.clear()

    def state_dict(self) -> dict:
        return {"scaler": self.scaler.state_dict()} if self.scaler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


PLAIN = OptimizerSteps()
"""Outside a trainer (a model built by hand, zoo.testing's tiny models): backward and step, nothing else."""
