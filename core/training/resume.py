"""What a checkpoint holds beyond the weights and optimisers, so that a resumed run continues bit-exactly: the
RNG states, the data position, the time trained so far and the callbacks' state; and putting it all back."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from zoo.config import renamed, to_dict
from zoo.errors import CheckpointError, TrainingError, ZooError
from zoo.store import checkpoint as ckpt_io
from zoo.training.checks import world_size_message


def save(trainer, path) -> Path:
    """Write ``trainer``'s whole training state to ``path`` atomically."""
    rng = trainer.rng_state if trainer._emitting else rng_state(trainer.device)  # inside a hook: not its fork's
    data, config = trainer.data, trainer.config
    meta = {"classes": list(data.classes) if data.classes else None}
    if data.source is not None:
        meta["dataset"] = data.source
        if config.image_size:
            meta["image_size"] = config.image_size
    meta["trainer"] = {"batches": trainer.batches.state_dict(), "total_steps": trainer.total_steps, "seed": config.seed,
                       "elapsed": round(trainer.elapsed, 3), "world_size": trainer.world.size,
                       "optimizer_steps": trainer.optimizer_steps.state_dict()}
    meta["callbacks"] = _callback_states(trainer)
    return ckpt_io.save_checkpoint(path, trainer.model, step=trainer.step, optimizers=trainer.model.optimizers,
                                   rng=rng, meta=meta)


def rng_state(device) -> dict:
    """The random number generators' states a resume puts back."""
    rng = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


def _callback_states(trainer) -> dict:
    states = {}
    for key, callback in zip(trainer.callback_keys, trainer.callbacks):
        state = callback.state_dict() if hasattr(callback, "state_dict") else None
        if not state:
            continue
        try:
            json.dumps(state, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TrainingError(f"callback '{key}': state_dict() must return JSON values (numbers, strings, lists, "
                                f"dicts), not {exc}") from None
        states[key] = state
    return states


def restore(trainer, checkpoint: ckpt_io.Checkpoint) -> None:
    """Put ``trainer`` where ``checkpoint`` left off: weights, optimisers, RNG states, step, data position and
    each callback's state (under its key; a callback the checkpoint has no state for keeps its own)."""
    if "trainer" not in checkpoint.meta or "rng.torch" not in checkpoint.tensors:
        raise CheckpointError(f"{checkpoint.path} holds weights only (no training state); it cannot be resumed")
    ours = to_dict(trainer.model.config)  # keys added to a config since the checkpoint keep their defaults
    aliases = renamed(type(trainer.model.config))  # and keys renamed since are read under their new names
    saved = {aliases.get(key, key): value for key, value in checkpoint.json("config").items()}
    if (any(key not in ours or ours[key] != value for key, value in saved.items())
            or tuple(checkpoint.json("data_shape")) != tuple(trainer.model.data_shape)):
        raise CheckpointError(f"{checkpoint.path} does not belong to this run: its config or data shape differ "
                              "from the run's config.json")
    ckpt_io.load_weights(trainer.model, checkpoint)
    ckpt_io.restore_optimizers(checkpoint, trainer.model.optimizers)
    try:
        torch.set_rng_state(checkpoint.tensors["rng.torch"])
        if "rng.cuda" in checkpoint.tensors and trainer.device.type == "cuda":
            torch.cuda.set_rng_state(checkpoint.tensors["rng.cuda"], trainer.device)
        state = checkpoint.json("trainer")
        if int(state.get("world_size", 1)) != trainer.world.size:
            raise ZooError(world_size_message(checkpoint.path, int(state.get("world_size", 1)), trainer.world.size))
        trainer.batches.load_state_dict(state["batches"])
        trainer.optimizer_steps.load_state_dict(state.get("optimizer_steps", {}))  # fp16's loss scale
        trainer._seconds_before = float(state.get("elapsed", 0.0))
        states = checkpoint.json("callbacks") if "callbacks" in checkpoint.meta else {}
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{checkpoint.path}: its training state is damaged ({type(exc).__name__}: {exc})") from None
    for key, callback in zip(trainer.callback_keys, trainer.callbacks):
        if key in states and hasattr(callback, "load_state_dict"):
            callback.load_state_dict(states[key])
    trainer.step = checkpoint.step
