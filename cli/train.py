"""``zoo train NAME``: resolve options, validate everything before writing anything, then run the Trainer."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path

import click

from zoo.errors import ConfigError, ZooError

TRAIN_KEYS = ("steps", "epochs", "batch_size", "seed", "device", "precision", "sample_every", "checkpoint_every",
              "log_every", "eval_every", "eval_samples")


def _read_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc})") from None


def _split_config_file(doc: dict, path: Path) -> tuple[dict, dict]:
    """A config file holds model keys at the top level and trainer options in a ``[train]`` table."""
    train = doc.pop("train", {})
    if not isinstance(train, dict):
        raise ConfigError(f"--config {path}: 'train' must be a table")
    unknown = set(train) - set(TRAIN_KEYS) - {"data"}
    if unknown:
        raise ConfigError(f"--config {path}: unknown [train] keys {', '.join(sorted(unknown))}; valid: data, {', '.join(TRAIN_KEYS)}")
    return doc, train


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)


@click.command()
@click.argument("name", required=False)
@click.option("--data", default=None, help="Dataset name (mnist, mnist-full, fashion-mnist) or a folder/.npz path. [default: mnist]")
@click.option("--steps", type=int, default=None, help="Optimisation steps (default: the model's).")
@click.option("--epochs", type=int, default=None, help="Train for this many passes over the data instead of --steps.")
@click.option("--batch-size", type=int, default=None, help="Images per step (default: the model's).")
@click.option("--seed", type=int, default=None, help="Random seed. [default: 0]")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default=None, help="[default: auto]")
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default=None, help="bf16 runs the step under autocast. [default: fp32]")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run folder. [default: runs/NAME-TIMESTAMP]")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override a model config key (repeatable).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None, help="TOML file: model keys, plus a [train] table.")
@click.option("--resume", type=click.Path(path_type=Path), default=None, help="Continue the run in this folder.")
@click.option("--sample-every", type=int, default=None, help="Steps between sample grids. [default: 500]")
@click.option("--checkpoint-every", type=int, default=None, help="Steps between checkpoints. [default: 500]")
@click.option("--eval-every", type=int, default=None, help="Steps between zoo eval figures in metrics.jsonl (0: off); final figures go to eval.json.")
@click.option("--callback", "callback_names", multiple=True, help="Also run this registered callback (repeatable).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(name, data, steps, epochs, batch_size, seed, device, precision, out, assignments, config_file, resume,
          sample_every, checkpoint_every, eval_every, callback_names, quiet):
    """Train architecture NAME and write a run folder: config, metrics, sample grids, losses.png, checkpoint."""
    import zoo
    from zoo import datasets
    from zoo.config import parse_assignments
    from zoo.trainer import TrainConfig

    given = {"steps": steps, "epochs": epochs, "batch_size": batch_size, "seed": seed, "device": device,
             "precision": precision, "sample_every": sample_every, "checkpoint_every": checkpoint_every,
             "eval_every": eval_every}
    given = _check_options({k: v for k, v in given.items() if v is not None})
    model_keys, file_train = {}, {}
    if config_file is not None:
        model_keys, file_train = _split_config_file(_read_toml(config_file), config_file)
    model_keys.update(parse_assignments(assignments))
    if resume is not None:
        plan = _plan_resume(resume, name, out, data, given, model_keys)
    else:
        plan = _plan_new(name, out, data, given, model_keys, file_train)

    spec = zoo.get_model(plan.name)
    loaded = datasets.load(plan.data_source)
    train_data = datasets.split(loaded, "train")
    settings = dict(plan.settings)
    if "epochs" in settings:
        settings["steps"] = settings.pop("epochs") * max(1, len(train_data) // settings["batch_size"])
    config = TrainConfig(**{k: v for k, v in settings.items() if k in {f.name for f in fields(TrainConfig)}})
    if plan.checkpoint is None and plan.out.exists():
        raise ZooError(f"--out {plan.out} already exists; choose another folder, or continue it with --resume {plan.out}")
    if plan.checkpoint is not None and plan.checkpoint.step >= config.steps:
        step = plan.checkpoint.step
        raise ZooError(f"{plan.out} is already at step {step} of {config.steps}; pass --steps N with N > {step} to train further")

    from zoo.trainer import Trainer, seed_everything

    seed_everything(config.seed)
    model = zoo.create_model(plan.name, data_shape=train_data.shape, num_classes=train_data.num_classes, **plan.model_overrides)
    meta = {"dataset": plan.data_source, "classes": list(loaded.classes) if loaded.classes else None}
    trainer = Trainer(model, train_data, config, plan.out, callbacks=_callbacks(callback_names, quiet), meta=meta,
                      heldout=datasets.split(loaded, "heldout"))
    if plan.checkpoint is not None:
        trainer.restore(plan.checkpoint)
    _write_json(plan.out / "config.json", _run_record(plan, spec, model, config, train_data, meta, callback_names, trainer))

    started = time.perf_counter()
    trainer.fit()
    minutes = (time.perf_counter() - started) / 60
    click.echo(f"trained {plan.name} for {trainer.step} steps in {minutes:.1f} min on {trainer.device}")
    click.echo(f"run folder: {plan.out}  (checkpoint.safetensors, samples/, metrics.jsonl, losses.png)")
    click.echo(f"next: zoo sample {plan.out} -n 64 --out samples.png")


@dataclass
class Plan:
    """What to train, where, and with which settings, before anything is built or written."""

    name: str
    out: Path
    settings: dict
    model_overrides: dict
    data_source: str
    checkpoint: object = None
    created: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))


def _check_options(given: dict) -> dict:
    if "steps" in given and "epochs" in given:
        raise ZooError("give --steps or --epochs, not both")
    for key in ("steps", "epochs", "batch_size"):
        if key in given and given[key] < 1:
            raise ZooError(f"--{key.replace('_', '-')} must be at least 1, got {given[key]}")
    for key in ("sample_every", "checkpoint_every", "eval_every"):
        if key in given and given[key] < 0:
            raise ZooError(f"--{key.replace('_', '-')} must be 0 (off) or more")
    return given


def _plan_new(name, out, data, given, model_keys, file_train) -> Plan:
    import zoo
    from zoo.trainer import TrainConfig

    if name is None:
        raise ZooError("which model? e.g. 'zoo train dcgan' (see 'zoo list')")
    spec = zoo.get_model(name)
    settings = asdict(TrainConfig())
    settings.update({k: v for k, v in spec.train_defaults.items() if k in settings})
    settings.update({k: v for k, v in file_train.items() if k != "data"})
    settings.update(given)
    out = out or Path("runs") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
    return Plan(name, out, settings, model_keys, data or file_train.get("data") or "mnist")


RESUMABLE_CHANGES = ("steps", "device", "sample_every", "checkpoint_every", "eval_every")


def _plan_resume(resume: Path, name, out, data, given, model_keys) -> Plan:
    from zoo.checkpoint import load_checkpoint

    saved_path = resume / "config.json"
    if not saved_path.is_file():
        raise ZooError(f"--resume {resume}: not a run folder (no config.json)")
    saved = json.loads(saved_path.read_text())
    if name is not None and name != saved["model"]:
        raise ZooError(f"--resume {resume} is a '{saved['model']}' run, not '{name}'")
    if out is not None and out != resume:
        raise ZooError("--resume continues in its own folder; leave out --out")
    if model_keys:
        raise ZooError("--set/--config cannot change the model of a run being resumed")
    source = saved["data"]["source"]
    if data is not None and data != source:
        raise ZooError(f"--resume: this run trained on '{source}'; leave out --data")
    settings = dict(saved["train"])
    fixed = sorted(k for k in given if k not in RESUMABLE_CHANGES and given[k] != settings.get(k))
    if fixed:
        allowed = ", ".join("--" + k.replace("_", "-") for k in RESUMABLE_CHANGES)
        raise ZooError(f"--resume keeps the run's {', '.join(fixed)}; only {allowed} may change")
    settings.update({k: given[k] for k in given if k in RESUMABLE_CHANGES})
    return Plan(saved["model"], resume, settings, saved["config"], source, load_checkpoint(resume), saved["created"])


def _run_record(plan, spec, model, config, train_data, meta, callback_names, trainer) -> dict:
    import torch

    import zoo
    from zoo.config import to_dict

    return {
        "model": plan.name,
        "config": to_dict(model.config),
        "train": asdict(config),
        "data": {"source": plan.data_source, "shape": list(train_data.shape), "num_classes": train_data.num_classes,
                 "train_images": len(train_data), "classes": meta["classes"]},
        "callbacks": list(callback_names),
        "versions": {"zoo-core": zoo.__version__, spec.distribution: spec.version, "torch": torch.__version__},
        "device": str(trainer.device),
        "created": plan.created,
    }


def _callbacks(names, quiet):
    from zoo.collect import collect

    registered = collect("register_callbacks", "callback").entries
    unknown = [n for n in names if n not in registered]
    if unknown:
        raise ZooError(f"unknown callback '{unknown[0]}'; registered: {', '.join(sorted(registered))}")
    chosen = [reg for reg in registered.values() if reg.extras.get("default")]
    chosen += [registered[n] for n in names if not registered[n].extras.get("default")]
    callbacks = [reg.value() for reg in chosen]
    if not quiet:
        from .progress import ProgressBar

        callbacks.append(ProgressBar())
    return callbacks
