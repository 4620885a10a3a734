"""The plan of a run: one function, :func:`plan_run`, resolves and checks a new or resumed run before anything is
built or written. ``zoo train``, :func:`zoo.train` and :meth:`Trainer.from_plan` all go through it, so a run
started one way continues the other.

Planning reads and checks everything (model, config, data, options, callbacks, the folder) and writes
nothing: a mistake costs a one-line error, never a half-made folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zoo import datasets
from zoo.config import as_recorded
from zoo.registry.configs import build_config
from zoo.errors import ZooError
from zoo.registry.models import ModelSpec, get_model
from zoo.store.atomic import blocking_file
from zoo.store.run_folder import RunFolder
from zoo.training import callback_specs
from zoo.training.checks import check_data, is_rate_key, world_size_message
from zoo.training.distributed import launched_world
from zoo.training.options import RESUMABLE, TrainConfig, flag, layered, train_config

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """A run resolved and checked before anything is built or written."""

    model: str
    model_options: dict[str, Any]
    train: TrainConfig
    data: datasets.ImageData
    heldout: datasets.ImageData | None
    callbacks: dict[str, dict]  # registered name -> options, in the order they run
    folder: RunFolder
    checkpoint: Any = None  # a zoo.store.checkpoint.Checkpoint when resuming
    created: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    init_from: dict | None = None  # where the weights a run started from came from (--init-from), for its record
    init_weights: Any = None  # those weights (a Checkpoint), for a new run to load before step 0
    budget: dict | None = None  # what a --minutes budget became, for a resumed run's record


def plan_run(model: str | None = None, *, resume: str | Path | None = None, out: str | Path | None = None,
             data: str | None = None, options: dict | None = None, model_options: dict | None = None,
             callbacks=(), init_from: str | Path | None = None) -> Plan:
    """A new run of ``model`` in ``out``, or with ``resume=RUN`` the run in that folder continued; ``init_from``
    (a model folder or hf://owner/name) starts a new run from its weights, its model and config unless given.

    ``options`` are training options (TrainConfig's fields, or ``epochs``) over the model's defaults or the
    resumed run's own, ``model_options`` the model's config keys (new runs only), ``callbacks`` registered
    names (``"NAME:key=value"`` strings or ``(name, options)`` pairs) besides the defaults or the run's own.
    """
    options, model_options = dict(options or {}), dict(model_options or {})
    if resume is not None:
        if init_from is not None:
            raise ZooError("--init-from starts a new run and --resume continues one; give one of them")
        if out is not None and Path(out) != Path(resume):
            raise ZooError("--resume continues in its own folder; leave out --out")
        return _resumed(RunFolder(resume), model, data, options, model_options, callbacks)
    if init_from is not None:
        from zoo.training.init_from import check_data_shape, initial_weights

        model, model_options, weights, record = initial_weights(init_from, model, model_options)
    if model is None:
        raise ZooError("which model? e.g. 'zoo train dcgan' (see 'zoo list')")
    plan = _new(get_model(model), out, data or datasets.DEFAULT, options, model_options, callbacks)
    if init_from is not None:
        check_data_shape(init_from, weights, plan.data.shape, data or datasets.DEFAULT)
        plan.init_from, plan.init_weights = record, weights
    return plan


def _new(spec: ModelSpec, out, data: str, options: dict, model_options: dict, callbacks) -> Plan:
    build_config(spec.config_class, model_options, model=spec.name)
    folder = RunFolder(out or Path("runs") / f"{spec.name}-{datetime.now():%Y%m%d-%H%M%S}")
    if folder.path.exists() and not folder.is_empty_shell():
        hint = f"continue it with --resume {folder.path}" if folder.config.exists() else "choose another folder"
        raise ZooError(f"--out {folder.path} already exists; {hint}")
    if blocking_file(folder.path):
        raise ZooError(f"--out {folder.path}: {blocking_file(folder.path)} is a file, not a folder")
    defaults = {k: v for k, v in spec.train_defaults.items() if k in TrainConfig.__dataclass_fields__}
    settings = layered(defaults, options)
    train, heldout = _load_data(data, "train", TrainConfig(image_size=settings.get("image_size", 0)).image_size)
    config = _checked(spec, model_options, settings, train)
    specs = callback_specs.parse([*callback_specs.default_callbacks(), *callback_specs.parse(callbacks).items()])
    return Plan(spec.name, model_options, config, train, heldout, callback_specs.checked(specs), folder)


def _resumed(folder: RunFolder, model: str | None, data: str | None, options: dict, model_options: dict,
             callbacks) -> Plan:
    from zoo.store.checkpoint import load_checkpoint

    if not folder.path.is_dir():
        raise ZooError(f"--resume {folder.path}: " + ("not a folder" if folder.path.exists() else "no such folder"))
    saved = folder.read_record()
    if model is not None and model != saved["model"]:
        raise ZooError(f"--resume {folder.path} is a '{saved['model']}' run, not '{model}'")
    fixed_keys = sorted(key for key in model_options if not is_rate_key(key))
    if fixed_keys:
        raise ZooError(f"--set/--config cannot change the model of a run being resumed ({', '.join(fixed_keys)}); "
                       "only its learning rates (lr, lr_g, ...) may change")
    source = saved["data"].get("source")
    if data is not None and source is not None and data != source:
        raise ZooError(f"--resume: this run trained on '{source}'; leave out --data")
    if source is None and data is None:
        raise ZooError(f"{folder.path} was trained on data built in memory; say which with --data")
    spec = get_model(saved["model"], wanted_by=str(folder.config), **saved.get("plugin", {}))
    trained_by, launched = int(saved.get("world", {}).get("size", 1)), launched_world().size
    if trained_by != launched:
        raise ZooError(world_size_message(folder.path, trained_by, launched))
    fixed = sorted(k for k in options if k not in (*RESUMABLE, "epochs") and options[k] != saved["train"].get(k))
    if fixed:
        allowed = ", ".join(flag(k) for k in (*RESUMABLE, "epochs"))
        raise ZooError(f"--resume keeps the run's {', '.join(flag(k) for k in fixed)}; only {allowed} may change")
    kept = callback_specs.recorded(saved, wanted_by=str(folder.config))

    train, heldout = _load_data(source or data, saved["data"].get("part", "train"), int(saved["train"].get("image_size", 0)))
    if not saved["data"].get("heldout", True):
        heldout = None
    model_config = {**as_recorded(spec.config_class, saved["config"]), **model_options}
    build_config(spec.config_class, model_config, model=spec.name)
    recorded = {k: v for k, v in saved["train"].items() if k != "minutes" or not saved.get("budget")}
    config = _checked(spec, model_config, layered(recorded, options), train)  # a spent budget is its steps
    checkpoint = load_checkpoint(folder.path) if folder.checkpoint.exists() else None
    ended = folder.read_status()
    if checkpoint is None:
        log.info("%s has no checkpoint yet; training it from step 0", folder.path)
    elif ended.get("status") == "stopped" and "steps" not in options:
        raise ZooError(f"{folder.path} stopped early at step {ended.get('step')}: {ended.get('error')}; it is "
                       f"finished (pass --steps N with N > {checkpoint.step} to train it further anyway)")
    elif checkpoint.step >= config.steps:
        raise ZooError(f"{folder.path} is already at step {checkpoint.step} of {config.steps}; "
                       f"pass --steps N with N > {checkpoint.step} to train further")
    specs = callback_specs.parse([*kept, *callback_specs.parse(callbacks).items()])  # new options update recorded ones
    return Plan(saved["model"], model_config, config, train, heldout, callback_specs.checked(specs), folder,
                checkpoint, saved.get("created") or datetime.now().isoformat(timespec="seconds"), saved.get("init_from"),
                budget=saved.get("budget"))


def _load_data(source: str, part: str | None, image_size: int = 0):
    loaded = datasets.load(source, image_size or None)
    if part is None:
        return loaded, None
    return datasets.split(loaded, part), datasets.split(loaded, "heldout")


def _checked(spec: ModelSpec, model_options: dict, settings: dict, data) -> TrainConfig:
    config = train_config(settings, len(data), launched_world().size)
    check_data(spec.name, spec.is_conditional(**model_options), data, config.batch_size, launched_world().size)
    return config


__all__ = ["Plan", "plan_run"]
