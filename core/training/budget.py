"""``zoo train NAME --minutes M``: a wall-clock budget turned into a step count once, at the start of a new run.

The trainer times a few warm-up steps on the run itself, then puts everything back as it was before them
(weights, optimisers, loss scale, data position, random state), so the run that follows is exactly the run
``--steps N`` gives with the recorded N. The budget and what it became are recorded in ``config.json``."""

from __future__ import annotations

import copy
import time

import torch

from zoo.training import distributed, resume

WARMUP_SECONDS = 0.02  # of the budget spent timing steps (at least WARMUP_MIN_SECONDS and MIN_STEPS steps)
WARMUP_MIN_SECONDS = 2.0
WARMUP_MOST = 0.25  # of a short budget
MIN_STEPS, MAX_STEPS = 3, 200


def snapshot(model, batches, optimizer_steps, device) -> dict:
    """Everything a training step changes, copied."""
    return {"model": copy.deepcopy(model.state_dict()),
            "optimizers": {name: copy.deepcopy(opt.state_dict()) for name, opt in model.optimizers.items()},
            "batches": batches.state_dict(), "steps": copy.deepcopy(optimizer_steps.state_dict()),
            "rng": resume.rng_state(device)}


def put_back(state: dict, model, batches, optimizer_steps, device) -> None:
    """Undo the steps taken since :func:`snapshot`."""
    model.load_state_dict(state["model"])
    for name, opt in model.optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
    batches.load_state_dict(state["batches"])
    optimizer_steps.reset(state["steps"])
    torch.set_rng_state(state["rng"]["torch"])
    if "cuda" in state["rng"]:
        torch.cuda.set_rng_state(state["rng"]["cuda"], device)


def time_steps(step, minutes: float) -> tuple[float, float]:
    """Call ``step()`` until the warm-up is long enough; (seconds per step, seconds spent). The first step (memory
    allocation, kernel selection) is left out of the rate."""
    wanted = min(max(WARMUP_MIN_SECONDS, WARMUP_SECONDS * minutes * 60), WARMUP_MOST * minutes * 60)
    started, times = time.perf_counter(), []
    while len(times) < MAX_STEPS and (len(times) < MIN_STEPS or time.perf_counter() - started < wanted):
        begun = time.perf_counter()
        step()
        times.append(time.perf_counter() - begun)
    rest = times[1:]
    return sum(rest) / len(rest), time.perf_counter() - started


def steps_within(minutes: float, seconds_per_step: float, spent: float) -> int:
    """The steps that fit in what is left of the budget after the warm-up (at least one)."""
    return max(1, int((minutes * 60 - spent) / max(seconds_per_step, 1e-9)))


def measure(step, config, model, batches, optimizer_steps, device, world) -> dict:
    """Time warm-up calls of ``step()`` (one optimisation step of every rank), undo them, and return the budget:
    ``{minutes, steps, images_per_s}``."""
    state = snapshot(model, batches, optimizer_steps, device)
    per_step, spent = time_steps(step, config.minutes)
    if world.distributed:  # the same figures on every rank, so that every rank takes the same number of steps
        shared = distributed.mean_figures({"per_step": per_step, "spent": spent}, device)
        per_step, spent = shared["per_step"], shared["spent"]
    put_back(state, model, batches, optimizer_steps, device)
    images = config.batch_size * config.accumulate * world.size
    return {"minutes": config.minutes, "steps": steps_within(config.minutes, per_step, spent),
            "images_per_s": round(images / per_step, 1)}
