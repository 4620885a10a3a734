"""What a checkpoint holds beyond the weights and optimisers, so that a resumed run continues bit-exactly: the
RNG states, the data position, the time trained so far and the callbacks' state; and putting it all back."""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from zoo.config import renamed, to_dict
from zoo.errors import CheckpointError, TrainingError, ZooError
from zoo.store import checkpoint as ckpt_io
from zoo.store.tensor_checks import first_non_finite
from zoo.training.checks import is_rate_key, world_size_message


@dataclass(frozen=True)
class Resumed:
    """What a checkpoint hands back to a trainer beyond the weights, optimisers and RNG states (already put back):
    the step, the trainer's own state as :meth:`Trainer.training_state` gave it, and each callback's state."""

    step: int
    state: dict
    callbacks: dict
    rates_changed: bool = False  # resumed with other learning rates (--set lr=...): the optimisers take them


def save(path, model, *, step: int, rng: dict, data, image_size: int | None, state: dict,
         callbacks: dict) -> Path:
    """Write a run's whole training state to ``path`` atomically: ``model``'s weights and optimisers, the RNG
    states ``rng``, ``state`` (what the trainer hands over: data position, elapsed time, loss scale, ...) and the
    callbacks' states."""
    meta = {"classes": list(data.classes) if data.classes else None}
    if data.source is not None:
        meta["dataset"] = data.source
        if image_size:
            meta["image_size"] = image_size
    meta["trainer"] = state
    meta["callbacks"] = callbacks
    return ckpt_io.save_checkpoint(path, model, step=step, optimizers=model.optimizers, rng=rng, meta=meta)


def non_finite(model) -> str | None:
    """The name of the first weight or buffer of ``model`` holding NaN or infinity; None when all are finite."""
    return first_non_finite(dict((*model.named_parameters(), *model.named_buffers())))


def rng_state(device) -> dict:
    """The random number generators' states a resume puts back."""
    rng = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


CALLBACK_STATE_LIMIT = 2**20  # bytes of JSON a callback's state_dict() may hold: counters, averages, a best figure


def callback_states(keys, callbacks) -> dict:
    """Each callback's ``state_dict()`` under its key (those with none left out), checked to be JSON values of at
    most CALLBACK_STATE_LIMIT bytes: refused in one line before the checkpoint is written (the last one stays)."""
    states = {}
    for key, callback in zip(keys, callbacks):
        state = callback.state_dict() if hasattr(callback, "state_dict") else None
        if not state:
            continue
        size = 0
        try:  # piece by piece: a state far past the limit is refused without being written out whole
            for piece in json.JSONEncoder(allow_nan=False).iterencode(state):
                size += len(piece.encode("utf-8"))
                if size > CALLBACK_STATE_LIMIT:
                    raise TrainingError(f"callback '{key}': state_dict() holds more than {CALLBACK_STATE_LIMIT // 2**20}"
                                        " MB of JSON, the limit of a callback's state; keep bulky data in files of "
                                        "its own and only their names in its state")
        except (TypeError, ValueError, RecursionError) as exc:
            raise TrainingError(f"callback '{key}': state_dict() must return JSON values (numbers, strings, lists, "
                                f"dicts), not {exc}") from None
        states[key] = state
    return states


def read(checkpoint: ckpt_io.Checkpoint, model, device, world_size: int) -> Resumed:
    """Put ``checkpoint``'s weights, optimisers and RNG states into ``model`` and the process; the rest is handed
    back for the trainer to take."""
    if "trainer" not in checkpoint.meta or "rng.torch" not in checkpoint.tensors:
        raise CheckpointError(f"{checkpoint.path} holds weights only (no training state); it cannot be resumed")
    ours = to_dict(model.config)  # keys added to a config since the checkpoint keep their defaults
    aliases = renamed(type(model.config))  # and keys renamed since are read under their new names
    saved = {aliases.get(key, key): value for key, value in checkpoint.json("config").items()}
    differ = {key for key, value in saved.items() if key not in ours or ours[key] != value}
    if (any(not is_rate_key(key) for key in differ)
            or tuple(checkpoint.json("data_shape")) != tuple(model.data_shape)):
        raise CheckpointError(f"{checkpoint.path} does not belong to this run: its config or data shape differ "
                              "from the run's config.json")
    ckpt_io.load_weights(model, checkpoint)
    ckpt_io.restore_optimizers(checkpoint, model.optimizers)
    with damage_reported(checkpoint):
        torch.set_rng_state(checkpoint.tensors["rng.torch"])
        if "rng.cuda" in checkpoint.tensors and device.type == "cuda":
            torch.cuda.set_rng_state(checkpoint.tensors["rng.cuda"], device)
        state = checkpoint.json("trainer")
        if int(state.get("world_size", 1)) != world_size:
            raise ZooError(world_size_message(checkpoint.path, int(state.get("world_size", 1)), world_size))
        states = checkpoint.json("callbacks") if "callbacks" in checkpoint.meta else {}
        steps = state.get("optimizer_steps")
        _check_loss_scale(checkpoint, steps.get("scaler") if isinstance(steps, dict) else None)
    return Resumed(checkpoint.step, state, states, rates_changed=bool(differ))


def _check_loss_scale(checkpoint: ckpt_io.Checkpoint, scaler) -> None:
    """fp16's loss scaler state must be what a GradScaler writes: a NaN, infinite or negative scale would turn every
    step into a skipped one (or NaN weights) without a word."""
    if not scaler:
        return
    if not isinstance(scaler, dict):
        raise CheckpointError(f"{checkpoint.path}: its fp16 loss scaler state is not what zoo writes")

    def number(key: str, low: float, high: float = math.inf, whole: bool = False) -> None:
        value = scaler.get(key)
        if (isinstance(value, bool) or not isinstance(value, int if whole else (int, float))
                or not math.isfinite(value) or not low < value < high):
            raise CheckpointError(f"{checkpoint.path}: its fp16 loss scaler's {key.lstrip('_')} is {value!r}, not a "
                                  "finite number in range; the checkpoint was altered and cannot be resumed")

    number("scale", 0.0)
    number("growth_factor", 1.0)
    number("backoff_factor", 0.0, 1.0)
    number("growth_interval", 0, whole=True)
    number("_growth_tracker", -1, whole=True)


@contextlib.contextmanager
def damage_reported(checkpoint: ckpt_io.Checkpoint):
    """Turn what a damaged training state raises while it is put back into one CheckpointError line."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{checkpoint.path}: its training state is damaged ({type(exc).__name__}: {exc})") from None
