"""A run's optimisers around the model's own: the precision they step in, the rates ``configure_optimizers`` gave
them, the step settings handed to the model, a check before every step, and ``--lr-decay``."""

from __future__ import annotations

from zoo.optimization.steps import OptimizerSteps
from zoo.training import distributed, precision


def prepare(model, config, device, world):
    """Build ``model``'s optimisers for a run; (precision, base rates, the run's OptimizerSteps)."""
    chosen = precision.resolve(config.precision, device, warn=world.is_writer)
    model.optimizers = model.configure_optimizers()
    # the rates configure_optimizers asked for; a resumed optimiser's state holds decayed ones
    base_lrs = {name: [group["lr"] for group in opt.param_groups] for name, opt in model.optimizers.items()}
    steps = OptimizerSteps(chosen, config.accumulate, config.clip_grad_norm,
                           distributed.average_gradients if world.distributed else None, device)
    model.set_optimizer_steps(steps)
    for name, optimizer in model.optimizers.items():
        optimizer.register_step_pre_hook(_before_step(model, name, steps, world))
    return chosen, base_lrs, steps


def _before_step(model, name: str, steps: OptimizerSteps, world):
    def hook(optimizer, args, kwargs):
        steps.check_direct_step(model, name)
        if world.distributed and not steps.stepping:  # a model stepping by itself
            distributed.average_gradients(optimizer)
    return hook


def set_rates(model, base_lrs: dict, factor: float = 1.0) -> None:
    """Every param group's rate: the one ``configure_optimizers`` gave, times ``factor``."""
    for name, optimizer in model.optimizers.items():
        for group, base in zip(optimizer.param_groups, base_lrs[name]):
            group["lr"] = base * factor


def decay_factor(lr_decay: float, step: int, total_steps: int) -> float:
    """With ``lr_decay`` f > 0, every learning rate falls linearly to 0 over the last fraction f of the steps."""
    return min(1.0, (total_steps - step) / (lr_decay * total_steps))
