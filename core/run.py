"""A run folder, and the one place that knows it: what it holds, how a new run is planned, how a resume is
checked, and the record in ``config.json``. ``zoo train``, :func:`zoo.train` and the Trainer all go through
here, so a run started one way continues the other.

    RUN/
      config.json                the record: model, config, train options, data, callbacks, versions
      metrics.jsonl              one JSON object per line; written only through RunFolder
      samples/step-NNNNNN.png    sample grids
      losses.png, eval.json      the loss plot, the final evaluation (with --eval-every)
      checkpoint.safetensors     weights, optimisers, RNG and data position

Planning reads and checks everything (model, config, data, options, callbacks, the folder) and writes
nothing: a mistake costs a one-line error, never a half-made folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import datasets
from .atomic import blocking_file, remove_stale_temp_files, write_text
from .config import build_config, build_options, parse_assignments, to_dict
from .distributed import BACKENDS, launched_world
from .errors import DataError, ZooError
from .lookup import lookup, registered
from .registry import get_model
from .train_config import RESUMABLE, TrainConfig, flag

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one process per run folder is then the user's to keep
    fcntl = None

RECORD_FORMAT = "zoo-run/2"


class RunFolder:
    """The files of one run. Only this class writes ``config.json`` and ``metrics.jsonl``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    config = property(lambda self: self.path / "config.json")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    checkpoint = property(lambda self: self.path / "checkpoint.safetensors")
    best_checkpoint = property(lambda self: self.path / "best.safetensors")
    losses_plot = property(lambda self: self.path / "losses.png")
    eval_report = property(lambda self: self.path / "eval.json")
    status_file = property(lambda self: self.path / "status.json")

    def write_status(self, status: str, step: int, error: str = "") -> None:
        """How the last training session ended: finished, failed (with the error) or interrupted."""
        write_text(self.status_file, json.dumps({"status": status, "step": step, "error": error}) + "\n")

    def summary(self) -> dict:
        """What ``zoo runs`` shows of this run, read from its files alone (no torch)."""
        record = self.read_record()
        metrics, _ = self.read_metrics()
        losses = next((r for r in reversed(metrics) if any(k.startswith("loss") for k in r)), {})
        try:
            ended = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            ended = {}
        step = metrics[-1]["step"] if metrics else 0
        status = ended.get("status") or ("finished" if step >= record["train"]["steps"] else "interrupted")
        if self.is_locked():
            status = "running"
        evaluation, provenance = {}, None
        if self.eval_report.exists():
            try:
                report = json.loads(self.eval_report.read_text())
                evaluation = {k: v for k, v in report["model"].items() if isinstance(v, (int, float))}
                provenance = report.get("info", {}).get("provenance")
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
        return {"run": str(self.path), "model": record["model"], "data": record["data"].get("source"),
                "step": step, "steps": record["train"]["steps"],
                "time_s": next((r["time_s"] for r in reversed(metrics) if "time_s" in r), None),
                "losses": {k: v for k, v in losses.items() if k.startswith("loss")}, "eval": evaluation,
                "eval_provenance": provenance,
                "status": status, "error": ended.get("error", ""), "created": record.get("created")}

    def is_locked(self) -> bool:
        """Whether a training process holds the folder right now."""
        lock = self.path / ".lock"
        if fcntl is None or not lock.exists():
            return False
        with open(lock) as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
        return False

    def is_empty_shell(self) -> bool:
        """Whether the folder holds nothing but what a process killed at its start left (a lock, temp files)."""
        return self.path.is_dir() and all(p.name == ".lock" or p.name.endswith(".tmp") for p in self.path.iterdir())

    def sample_grid(self, step: int) -> Path:
        return self.path / "samples" / f"step-{step:06d}.png"

    @contextlib.contextmanager
    def lock(self):
        """Hold the folder for one training process: a second one gets a one-line error, not interleaved files.
        Also clears what processes killed mid-write left behind."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a+") as fh:
            if fcntl is not None:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    fh.seek(0)
                    owner = fh.read().strip() or "another process"
                    raise ZooError(f"{self.path} is being trained by {owner}; wait for it or stop it first") from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"process {os.getpid()}")
            fh.flush()
            remove_stale_temp_files(self.path)
            yield self

    def read_record(self) -> dict:
        if not self.config.is_file():
            raise ZooError(f"{self.path} is not a run folder (no config.json)")
        try:
            record = json.loads(self.config.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ZooError(f"{self.config}: not a readable run record ({type(exc).__name__})") from None
        if not isinstance(record, dict) or not {"model", "config", "train", "data"} <= set(record):
            raise ZooError(f"{self.config}: not a zoo run record")
        return record

    def write_record(self, record: dict) -> None:
        write_text(self.config, json.dumps(record, indent=2) + "\n")

    def append_metrics(self, entry: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.metrics, "a") as fh:
            fh.write(json.dumps(entry) + "\n")

    def read_metrics(self) -> tuple[list[dict], int]:
        """Every complete record, and how many lines were not one (a crash or a full disk mid-append tears
        the last line)."""
        if not self.metrics.exists():
            return [], 0
        records, torn = [], 0
        for line in self.metrics.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and isinstance(record.get("step"), int):
                records.append(record)
            elif line.strip():
                torn += 1
        return records, torn

    def keep_metrics_until(self, step: int) -> list[dict]:
        """Drop records past ``step`` (a resume trains those steps again) and torn lines; return the rest."""
        records, torn = self.read_metrics()
        kept = [r for r in records if r["step"] <= step]
        if torn:
            print(f"zoo: {self.metrics}: dropped {torn} torn line{'s' if torn > 1 else ''} (a write cut short)",
                  file=sys.stderr)
        if len(kept) < len(records) or torn:
            write_text(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))
        return kept


def default_callbacks() -> list[str]:
    """The callbacks every run has unless told otherwise: those registered with ``default=True``."""
    return [name for name, reg in registered("callbacks").items() if reg.extras.get("default")]


def callback_entry(name: str, options: dict) -> dict:
    reg = lookup("callbacks", name)
    return {"name": name, "options": options, "distribution": reg.distribution, "version": reg.version}


def callback_specs(given) -> dict[str, dict]:
    """``{name: options}`` from registered names, ``"NAME:key=value,key=value"`` strings (as ``--callback``
    takes them), ``(name, options)`` pairs or such a dict; options of a name given twice are merged."""
    specs: dict[str, dict] = {}
    for item in (given.items() if isinstance(given, dict) else given):
        if isinstance(item, str):
            name, _, rest = item.partition(":")
            options = parse_assignments(rest.split(","), flag=f"--callback {name}:") if rest else {}
        else:
            name, options = item
        specs.setdefault(name, {}).update(options or {})
    return specs


def record(trainer) -> dict:
    """What ``config.json`` says of the run ``trainer`` is training."""
    import torch

    from . import __version__

    model, data = trainer.model, trainer.data
    spec = get_model(model.name)
    return {
        "format": RECORD_FORMAT,
        "model": model.name,
        "config": to_dict(model.config),
        "train": dataclasses.asdict(trainer.config),
        "data": {"source": data.source, "part": data.part, "heldout": trainer.heldout_data is not None,
                 "shape": list(data.shape), "num_classes": data.num_classes, "train_images": len(data),
                 "classes": list(data.classes) if data.classes else None},
        "plugin": {"distribution": spec.distribution, "version": spec.version},
        "callbacks": [callback_entry(name, options) for name, options in trainer.callback_specs],
        "versions": {"zoo-core": __version__, spec.distribution: spec.version, "torch": torch.__version__},
        "device": str(trainer.device),
        "world": {"size": trainer.world.size, "backend": BACKENDS.get(trainer.device.type, "gloo")},
        "created": trainer.created,
    }


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
    checkpoint: Any = None  # a zoo.checkpoint.Checkpoint when resuming
    created: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))


def _load_data(source: str, part: str | None, image_size: int = 0) -> tuple[datasets.ImageData, datasets.ImageData | None]:
    loaded = datasets.load(source, image_size or None)
    if part is None:
        return loaded, None
    return datasets.split(loaded, part), datasets.split(loaded, "heldout")


def check_data(model: str, conditional: bool, data: datasets.ImageData, batch_size: int, processes: int = 1) -> None:
    """Whether ``data`` can train ``model`` with batches of ``batch_size`` on each of ``processes`` ranks (for
    plans and Trainers alike)."""
    if conditional and data.labels is None:
        raise DataError(f"{model} needs a labelled dataset (one subfolder per class, or 'labels' in the .npz); "
                        f"{data.name} has no labels")
    if batch_size * processes > len(data):
        each = f" on each of {processes} processes" if processes > 1 else ""
        raise DataError(f"{flag('batch_size')} {batch_size}{each} does not fit {data.name}, which has {len(data)} images")


def _train_config(model: str, settings: dict, data: datasets.ImageData) -> TrainConfig:
    settings = dict(settings)
    epochs = settings.pop("epochs", None)
    if epochs is not None:
        if "steps" in settings:
            raise ZooError("give --steps or --epochs, not both")
        if not isinstance(epochs, int) or epochs < 1:
            raise ZooError(f"--epochs must be at least 1, got {epochs}")
        settings["steps"] = epochs * max(1, len(data) // settings.get("batch_size", TrainConfig().batch_size))
    unknown = set(settings) - {f.name for f in dataclasses.fields(TrainConfig)}
    if unknown:
        raise ZooError(f"unknown training option {', '.join(sorted(unknown))}")
    config = TrainConfig(**settings)
    check_data(model, getattr(get_model(model).load(), "conditional", False), data, config.batch_size,
               launched_world().size)
    return config


def _callbacks(specs: dict[str, dict]) -> dict[str, dict]:
    """Each callback looked up and its options checked against what its factory takes."""
    return {name: build_options(lookup("callbacks", name).value, options, f"callback '{name}'")
            for name, options in specs.items()}


def plan_new(model: str, *, out: str | Path | None = None, data: str = "mnist", options: dict | None = None,
             model_options: dict | None = None, callbacks: list[str] | tuple = ()) -> Plan:
    """A new run of ``model``: ``options`` are training options (TrainConfig's fields, or ``epochs``) over the
    model's defaults, ``model_options`` its config keys, ``callbacks`` registered names besides the defaults."""
    spec = get_model(model)
    model_options = dict(model_options or {})
    build_config(spec.config_class, model_options, model=model)
    folder = RunFolder(out or Path("runs") / f"{model}-{datetime.now():%Y%m%d-%H%M%S}")
    if folder.path.exists() and not folder.is_empty_shell():
        hint = f"continue it with --resume {folder.path}" if folder.config.exists() else "choose another folder"
        raise ZooError(f"--out {folder.path} already exists; {hint}")
    if blocking_file(folder.path):
        raise ZooError(f"--out {folder.path}: {blocking_file(folder.path)} is a file, not a folder")
    given = dict(options or {})
    train, heldout = _load_data(data, "train", TrainConfig(image_size=given.get("image_size", 0)).image_size)
    settings = {k: v for k, v in spec.train_defaults.items() if k in TrainConfig.__dataclass_fields__}
    if "epochs" in given:
        settings.pop("steps", None)
    settings.update(given)
    return Plan(model, model_options, _train_config(model, settings, train), train, heldout,
                _callbacks(callback_specs([*default_callbacks(), *callback_specs(callbacks).items()])), folder)


def plan_resume(path: str | Path, *, model: str | None = None, data: str | None = None, options: dict | None = None,
                model_options: dict | None = None, callbacks: list[str] | tuple = ()) -> Plan:
    """Continue the run in ``path`` from its checkpoint (from step 0 if it has none yet). Only the options in
    ``RESUMABLE`` may change; new ``callbacks`` join the ones the run was started with."""
    from .checkpoint import load_checkpoint

    folder = RunFolder(path)
    saved = folder.read_record()
    if model is not None and model != saved["model"]:
        raise ZooError(f"--resume {folder.path} is a '{saved['model']}' run, not '{model}'")
    if model_options:
        raise ZooError("--set/--config cannot change the model of a run being resumed")
    source = saved["data"].get("source")
    if data is not None and source is not None and data != source:
        raise ZooError(f"--resume: this run trained on '{source}'; leave out --data")
    if source is None and data is None:
        raise ZooError(f"{folder.path} was trained on data built in memory; say which with --data")
    get_model(saved["model"], wanted_by=str(folder.config), **saved.get("plugin", {}))
    trained_by, launched = int(saved.get("world", {}).get("size", 1)), launched_world().size
    if trained_by != launched:
        raise ZooError(world_size_message(folder.path, trained_by, launched))

    given = dict(options or {})
    fixed = sorted(k for k in given if k not in (*RESUMABLE, "epochs") and given[k] != saved["train"].get(k))
    if fixed:
        allowed = ", ".join(flag(k) for k in (*RESUMABLE, "epochs"))
        raise ZooError(f"--resume keeps the run's {', '.join(flag(k) for k in fixed)}; only {allowed} may change")
    settings = {**saved["train"], **given}
    if "epochs" in given:
        settings.pop("steps")

    kept = []
    for entry in _recorded_callbacks(saved):
        lookup("callbacks", entry["name"], wanted_by=str(folder.config), distribution=entry.get("distribution"),
               version=entry.get("version"))
        kept.append((entry["name"], entry.get("options") or {}))

    part = saved["data"].get("part", "train")
    train, heldout = _load_data(source or data, part, int(saved["train"].get("image_size", 0)))
    if not saved["data"].get("heldout", True):
        heldout = None
    checkpoint = load_checkpoint(folder.path) if folder.checkpoint.exists() else None
    config = _train_config(saved["model"], settings, train)
    if checkpoint is None:
        print(f"zoo: {folder.path} has no checkpoint yet; training it from step 0", file=sys.stderr)
    elif checkpoint.step >= config.steps:
        raise ZooError(f"{folder.path} is already at step {checkpoint.step} of {config.steps}; "
                       f"pass --steps N with N > {checkpoint.step} to train further")
    specs = callback_specs([*kept, *callback_specs(callbacks).items()])  # new options update the recorded ones
    return Plan(saved["model"], saved["config"], config, train, heldout, _callbacks(specs), folder,
                checkpoint, saved.get("created") or datetime.now().isoformat(timespec="seconds"))


def _recorded_callbacks(saved: dict) -> list[dict]:
    entries = [c if isinstance(c, dict) else {"name": c} for c in saved.get("callbacks", [])]
    if saved.get("format") != RECORD_FORMAT:  # zoo 0.1 recorded only the callbacks added with --callback
        entries = [{"name": n} for n in default_callbacks()] + entries
    return entries


def world_size_message(run_path, trained_by: int, launched: int) -> str:
    how = f"{trained_by} processes (torchrun --nproc-per-node {trained_by})" if trained_by > 1 else "one process (no torchrun)"
    return (f"{run_path} was trained by {trained_by} process{'es' if trained_by > 1 else ''}, this is {launched}; "
            f"resume it with {how}: another number would change the batch every step sees")


def steps_summary(start: int, end: int) -> str:
    """"6 steps" for a new run, "3 steps (3 -> 6)" for a resumed one."""
    done = end - start
    text = f"{done} step{'s' if done != 1 else ''}"
    return text if start == 0 else f"{text} (step {start} -> {end})"


__all__ = ["RunFolder", "Plan", "plan_new", "plan_resume", "record", "default_callbacks", "RECORD_FORMAT"]
