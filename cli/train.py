"""``zoo train NAME``: resolve options, validate everything before writing anything, then run the Trainer."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, fields
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
    from zoo.config import parse_assignments

    given = {"steps": steps, "epochs": epochs, "batch_size": batch_size, "seed": seed, "device": device,
             "precision": precision, "sample_every": sample_every, "checkpoint_every": checkpoint_every,
             "eval_every": eval_every}
    given = {k: v for k, v in given.items() if v is not None}
    if steps is not None and epochs is not None:
        raise ZooError("give --steps or --epochs, not both")
    for key in ("steps", "epochs", "batch_size"):
        if key in given and given[key] < 1:
            raise ZooError(f"--{key.replace('_', '-')} must be at least 1, got {given[key]}")
    for key in ("sample_every", "checkpoint_every", "eval_every"):
        if key in given and given[key] < 0:
            raise ZooError(f"--{key.replace('_', '-')} must be 0 (off) or more")

    saved, checkpoint = None, None
    if resume is not None:
        from zoo.checkpoint import load_checkpoint

        saved_path = resume / "config.json"
        if not saved_path.is_file():
            raise ZooError(f"--resume {resume}: not a run folder (no config.json)")
        saved = json.loads(saved_path.read_text())
        checkpoint = load_checkpoint(resume)
        if name is not None and name != saved["model"]:
            raise ZooError(f"--resume {resume} is a '{saved['model']}' run, not '{name}'")
        if out is not None and out != resume:
            raise ZooError("--resume continues in its own folder; leave out --out")
        name, out = saved["model"], resume
    if name is None:
        raise ZooError("which model? e.g. 'zoo train dcgan' (see 'zoo list')")

    spec = zoo.get_model(name)
    model_keys, file_train = {}, {}
    if config_file is not None:
        model_keys, file_train = _split_config_file(_read_toml(config_file), config_file)
    model_keys.update(parse_assignments(assignments))

    from zoo import datasets
    from zoo.trainer import TrainConfig

    if saved is not None:
        if model_keys:
            raise ZooError("--set/--config cannot change the model of a run being resumed")
        settings = dict(saved["train"])
        model_overrides = saved["config"]
        data_source = saved["data"]["source"]
        if data is not None and data != data_source:
            raise ZooError(f"--resume: this run trained on '{data_source}'; leave out --data")
        changeable = ("steps", "device", "sample_every", "checkpoint_every", "eval_every")
        fixed = sorted(k for k in given if k not in changeable and given[k] != settings.get(k))
        if fixed:
            raise ZooError(f"--resume keeps the run's {', '.join(fixed)}; only --steps, --device, --sample-every, --checkpoint-every and --eval-every may change")
        settings.update({k: given[k] for k in given if k in changeable})
    else:
        settings = asdict(TrainConfig())
        settings.update({k: v for k, v in spec.train_defaults.items() if k in settings})
        settings.update({k: v for k, v in file_train.items() if k != "data"})
        settings.update(given)
        model_overrides = model_keys
        data_source = data or file_train.get("data") or "mnist"

    loaded = datasets.load(data_source)
    train_data = datasets.split(loaded, "train")
    if "epochs" in settings:
        settings["steps"] = settings.pop("epochs") * max(1, len(train_data) // settings["batch_size"])
    valid = {f.name for f in fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in settings.items() if k in valid})

    if saved is None:
        out = out or Path("runs") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
        if out.exists():
            raise ZooError(f"--out {out} already exists; choose another folder, or continue it with --resume {out}")
    elif checkpoint.step >= config.steps:
        raise ZooError(f"{out} is already at step {checkpoint.step} of {config.steps}; pass --steps N with N > {checkpoint.step} to train further")

    from zoo.trainer import Trainer, seed_everything

    seed_everything(config.seed)
    model = zoo.create_model(name, data_shape=train_data.shape, num_classes=train_data.num_classes, **model_overrides)
    callbacks = _callbacks(callback_names, quiet)
    meta = {"dataset": data_source, "classes": list(loaded.classes) if loaded.classes else None}
    trainer = Trainer(model, train_data, config, out, callbacks=callbacks, meta=meta,
                      heldout=datasets.split(loaded, "heldout"))
    if checkpoint is not None:
        trainer.restore(checkpoint)

    import torch
    from zoo.config import to_dict

    _write_json(out / "config.json", {
        "model": name,
        "config": to_dict(model.config),
        "train": asdict(config),
        "data": {"source": data_source, "shape": list(train_data.shape), "num_classes": train_data.num_classes,
                 "train_images": len(train_data), "classes": meta["classes"]},
        "callbacks": list(callback_names),
        "versions": {"zoo-core": zoo.__version__, spec.distribution: spec.version, "torch": torch.__version__},
        "device": str(trainer.device),
        "created": saved["created"] if saved else datetime.now().isoformat(timespec="seconds"),
    })
    started = time.perf_counter()
    trainer.fit()
    minutes = (time.perf_counter() - started) / 60
    click.echo(f"trained {name} for {trainer.step} steps in {minutes:.1f} min on {trainer.device}")
    click.echo(f"run folder: {out}  (checkpoint.safetensors, samples/, metrics.jsonl, losses.png)")
    click.echo(f"next: zoo sample {out} -n 64 --out samples.png")


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
