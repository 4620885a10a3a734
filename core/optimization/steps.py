"""What ``Architecture.optimize(name, loss)`` does under a run's settings: one backward per micro-batch (the loss
divided by their number, scaled under fp16), then, after the last micro-batch of the step, the gradients averaged
over processes, unscaled, clipped, and the optimiser stepped (skipped by the scaler when fp16 overflowed).

One object holds all of it, the precision included: the trainer builds it for a run and hands it to the model
(``model.set_optimizer_steps``); a model outside a trainer has a plain one of its own (backward and step, fp32).

A model that calls ``loss.backward()`` and ``optimizer.step()`` itself bypasses all of this: it trains as before in
fp32 and bf16, while fp16, ``--accumulate`` and ``--clip-grad-norm`` need the provided method and are refused in
one line at its first step."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from zoo.errors import TrainingError

NEEDS_OPTIMIZE = ("{model} steps its optimiser '{name}' itself ({what} needs it to call self.optimize('{name}', "
                  "loss) instead of loss.backward() and optimizer.step(): see the plugin guide)")


@dataclass(frozen=True)
class Precision:
    """The precision a run trains in (``fp32``, ``bf16`` or ``fp16``) and why it was chosen."""

    used: str = "fp32"
    why: str = "asked for"

    @property
    def dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.used)

    @property
    def scales_loss(self) -> bool:
        """fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none."""
        return self.used == "fp16"

    def autocast(self, device: torch.device):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.dtype)


class OptimizerSteps:
    """One run's precision and optimiser-step settings, and where the current step is among its micro-batches."""

    def __init__(self, precision: Precision = Precision(), accumulate: int = 1, clip_grad_norm: float = 0.0,
                 average=None, device: torch.device | None = None):
        self.precision, self.device = precision, device or torch.device("cpu")
        self.scaler = torch.amp.GradScaler(self.device.type) if precision.scales_loss else None
        self.accumulate, self.clip_grad_norm, self.average = accumulate, clip_grad_norm, average
        self.micro_batch = 0
        self.stepping = False  # inside a step this class makes (the trainer's step hook checks it)
        self.stepped: set[int] = set()  # the optimisers stepped since the loss scale was last updated
        self.gathering: set[int] = set()  # the optimisers whose gradients are adding up towards their next step
        self.overflows = 0  # fp16 steps whose gradients overflowed, skipped by the scaler (normal, a few per run)

    def autocast(self):
        """The block under the run's precision (a no-op in fp32)."""
        return self.precision.autocast(self.device)

    @property
    def needs_optimize(self) -> str:
        """What of this run a model stepping its optimisers itself would silently ignore ('' when nothing)."""
        asked = [what for what, on in ((self.precision.used, self.scaler is not None),
                                       ("--accumulate", self.accumulate > 1),
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
            scale = self.scaler.get_scale()
            self.scaler.update()
            if self.scaler.get_scale() < scale:  # the scaler backs off only when a step's gradients overflowed
                self.overflows += 1
        self.stepped.clear()

    def state_dict(self) -> dict:
        if self.scaler is None:
            return {}
        return {"scaler": self.scaler.state_dict(), "overflows": self.overflows}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.overflows = int(state.get("overflows", 0))

    def reset(self, state: dict) -> None:
        """Back to ``state`` between steps (a budget's timed warm-up steps are undone this way)."""
        self.load_state_dict(state)
        self.micro_batch, self.stepped, self.gathering = 0, set(), set()
