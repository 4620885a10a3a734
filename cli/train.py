"""``zoo train NAME``: parse the options, let :mod:`zoo.training.plan` plan the run (checking everything before anything is
written), then run the Trainer. One command-line option per TrainConfig field."""

from __future__ import annotations

import contextlib
import shlex
import signal
import threading
import time
from pathlib import Path

import click

from zoo.training.options import fields as train_fields, flag as train_flag
from zoo.errors import ConfigError


def _read_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text())
    except (FileNotFoundError, IsADirectoryError):
        raise ConfigError(f"--config {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc})") from None


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM (``kill``, a scheduler's preemption, torchrun stopping the others when one rank failed) ends the run
    as Ctrl-C does: the run folder says "interrupted" and --resume continues from the last checkpoint."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _split_config_file(doc: dict, path: Path) -> tuple[dict, dict, dict]:
    """A config file holds model keys at the top level, trainer options in a ``[train]`` table and callbacks to
    run, with their options, as ``[callbacks.NAME]`` tables."""
    train, callbacks = doc.pop("train", {}), doc.pop("callbacks", {})
    if not isinstance(train, dict):
        raise ConfigError(f"--config {path}: 'train' must be a table")
    if not isinstance(callbacks, dict) or not all(isinstance(v, dict) for v in callbacks.values()):
        raise ConfigError(f"--config {path}: callbacks go in [callbacks.NAME] tables of options")
    return doc, train, callbacks


def train_options(command):
    """A click option for each TrainConfig field, default None so that only what was given is passed on."""
    kinds = {int: int, float: float, str: str}
    for info in reversed(train_fields()):
        default = "" if "[default" in info.help else f" [default: {info.default}]"
        flag = train_flag(info.name)
        if info.type is bool:
            command = click.option(f"{flag}/--no-{flag[2:]}", info.name, default=None, help=info.help + default)(command)
            continue
        kind = click.Choice(info.choices) if info.choices else kinds[info.type]
        command = click.option(flag, info.name, type=kind, default=None, help=info.help + default)(command)
    return command


@click.command()
@click.argument("name", required=False)
@click.option("--data", default=None, help="Dataset name (zoo list --kind datasets) or a folder/.npz path. [default: mnist]")
@click.option("--epochs", type=int, default=None, help="Train for this many passes over the data instead of --steps.")
@train_options
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run folder. [default: runs/NAME-TIMESTAMP]")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override a model config key (repeatable).")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None, help="TOML file: model keys, plus a [train] table.")
@click.option("--resume", type=click.Path(path_type=Path), default=None, help="Continue the run in this folder.")
@click.option("--init-from", default=None, metavar="DIR_OR_HF", help="Start a new run from the weights of a model "
              "folder (zoo export) or hf://owner/name; NAME and the config come from it unless given.")
@click.option("--callback", "callback_names", multiple=True, metavar="NAME[:KEY=VALUE,...]",
              help="Also run this registered callback, with options (repeatable; zoo list --kind callbacks).")
@click.option("--quiet", is_flag=True, help="No progress output (bar or lines).")
def train(name, data, epochs, out, assignments, config_file, resume, init_from, callback_names, quiet, **options):
    """Train architecture NAME and write a run folder: config, metrics, sample grids, report.html, checkpoint."""
    from zoo.config import parse_assignments
    from zoo.training.options import layered
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    given = {k: v for k, v in {**options, "epochs": epochs}.items() if v is not None}
    model_keys, file_train, file_callbacks = {}, {}, {}
    if config_file is not None:
        model_keys, file_train, file_callbacks = _split_config_file(_read_toml(config_file), config_file)
    model_keys.update(parse_assignments(assignments))
    data = data or file_train.pop("data", None)
    plan = plan_run(name, resume=resume, out=out, data=data, options=layered(file_train, given),
                    model_options=model_keys, callbacks=[*file_callbacks.items(), *callback_names], init_from=init_from)

    extra = []
    if not quiet:
        from .progress import Progress

        extra.append(Progress())
    from zoo.training import distributed

    try:
        trainer = Trainer.from_plan(plan, extra)
        started = time.perf_counter()
        try:
            with sigterm_as_interrupt():
                trainer.fit()
        except KeyboardInterrupt:
            from .terminal import Interrupted

            raise Interrupted(interrupted_message(trainer) if trainer.world.is_writer else "") from None
        distributed.barrier()  # every rank leaves together: one tearing down early can abort another's exit
    finally:
        distributed.leave()
    if not trainer.world.is_writer:
        return
    minutes = (time.perf_counter() - started) / 60
    where = f"{trainer.world.size} processes ({trainer.device.type})" if trainer.world.distributed else trainer.device
    click.echo(f"trained {plan.model} for {_steps_summary(trainer.start_step, trainer.step)} in {minutes:.1f} min on {where}")
    folder = plan.folder.path
    click.echo(f"report: {folder / 'report.html'}  (beside samples/, metrics.jsonl, checkpoint.safetensors)")
    runs = "zoo runs" if folder.parent == Path("runs") else f"zoo runs {shlex.quote(str(folder.parent))}"
    evaluate = "" if plan.folder.eval_report.exists() else \
        f"zoo eval {shlex.quote(str(folder))} (FID, KID, precision, recall); "
    click.echo(f"next: {evaluate}{runs} (this run beside the others)")


def resume_command(trainer) -> str:
    """The command that continues ``trainer``'s run, with as many processes as it had."""
    launcher = f"torchrun --nproc-per-node {trainer.world.size} -m zoo" if trainer.world.distributed else "zoo"
    return f"{launcher} train --resume {shlex.quote(str(trainer.out_dir))}"


def interrupted_message(trainer) -> str:
    """One line for a run stopped by Ctrl-C or SIGTERM: the step it reached, the step its checkpoint holds (read
    from the file: a save the interruption cut short left the one before), and the command to continue."""
    saved = trainer.folder.saved_step()
    where = f"Interrupted at step {trainer.step} of {trainer.total_steps}"
    if saved is None:
        return f"{where}, before its first checkpoint; start it again with: {resume_command(trainer)}"
    return f"{where}; its checkpoint holds step {saved}. Continue with: {resume_command(trainer)}"


def _steps_summary(start: int, end: int) -> str:
    """"6 steps" for a new run, "3 steps (step 3 -> 6)" for a resumed one."""
    done = end - start
    text = f"{done} step{'s' if done != 1 else ''}"
    return text if start == 0 else f"{text} (step {start} -> {end})"
