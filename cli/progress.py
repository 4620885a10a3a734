"""Progress of ``zoo train``, fitted to where it goes: a live bar on a terminal; off a terminal (``> log.txt``,
nohup, CI, a cluster job) a plain line on stdout every ``ZOO_PROGRESS_SECONDS`` (10 by default), next to the
closing lines. A callback like any other, living in the CLI because it talks to people."""

from __future__ import annotations

import os
import sys
import time

import click

from zoo import logged
from zoo.callbacks import Callback

DEFAULT_SECONDS = 10.0


def clock(seconds: float) -> str:
    """``75`` -> ``1:15``, ``3700`` -> ``1:01:40``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress(Callback):
    def __init__(self, interactive: bool | None = None, seconds: float | None = None):
        self.interactive = sys.stdout.isatty() and sys.stderr.isatty() if interactive is None else interactive
        self.seconds = float(os.environ.get("ZOO_PROGRESS_SECONDS", DEFAULT_SECONDS)) if seconds is None else seconds
        self.bar = None

    def on_train_start(self, trainer):
        self.figures: dict[str, float] = {}
        self.event = ""
        self.first_step, self.started = trainer.step, time.perf_counter()
        self.last_line = self.started
        if self.interactive:
            self.bar = click.progressbar(length=trainer.total_steps, label=trainer.model.name, show_pos=True,
                                         item_show_func=lambda _: self.status(trainer), file=sys.stderr)
            self.bar.__enter__()
            self.bar.update(trainer.step)
        else:
            start = f"from step {trainer.step} " if trainer.step else ""
            click.echo(f"{trainer.model.name}: training {start}to step {trainer.total_steps} on {trainer.device}")

    def eta(self, trainer) -> float | None:
        done = trainer.step - self.first_step
        if done == 0:
            return None
        return (time.perf_counter() - self.started) / done * (trainer.total_steps - trainer.step)

    def status(self, trainer) -> str:
        eta = self.eta(trainer)
        parts = [f"{k} {v:.3g}" for k, v in self.figures.items()]
        parts += [f"{trainer.images_per_second:,.0f} img/s", f"elapsed {clock(trainer.elapsed)}",
                  f"eta {clock(eta)}" if eta is not None else "eta -"]
        return "  ".join(parts + ([f"[{self.event}]"] if self.event else []))

    def on_step_end(self, trainer, step, logs):
        self.figures.update(logs)
        events = [f"grid step-{step:06d}.png"] if trainer.is_due(step, trainer.config.sample_every) else []
        if trainer.is_due(step, trainer.config.checkpoint_every):
            events.append("checkpoint")
        if events:
            self.event = ", ".join(events)
        self._alarm(trainer, step)
        if self.bar is not None:
            self.bar.update(1)
        elif time.perf_counter() - self.last_line >= self.seconds:
            self.last_line = time.perf_counter()
            click.echo(f"step {step}/{trainer.total_steps}  {self.status(trainer)}")

    def _alarm(self, trainer, step):
        """Show each --eval-every result; say so when the samples leave classes out (mode collapse)."""
        record = trainer.history[-1] if trainer.history else {}
        if record.get(logged.STEP) != step or logged.evaluation("fid") not in record:
            return
        self.event = f"FID {record[logged.evaluation('fid')]:.1f}"
        classes, covered = trainer.model.num_classes, record.get(logged.evaluation("classes_covered"))
        if classes and covered is not None and covered < classes:
            click.echo(f"step {step}: the samples cover {int(covered)} of {classes} classes (the least common "
                       f"{record[logged.evaluation('min_class_share')]:.1%}): mode collapse; best.safetensors keeps the best FID",
                       err=True)

    def _close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def on_train_end(self, trainer):
        self._close()
        if not self.interactive:
            click.echo(f"step {trainer.step}/{trainer.total_steps}  {self.status(trainer)}")

    def on_exception(self, trainer, exception):
        self._close()


class SamplingProgress:
    """Progress of an iterative sampler (``zoo sample``, ``zoo eval``), called with (done, total) steps: a bar on
    a terminal, off one a line on stderr every ``ZOO_PROGRESS_SECONDS`` (stdout may be JSON). Shows nothing for
    a model that samples in one pass (it never reports)."""

    def __init__(self, label: str, interactive: bool | None = None, seconds: float | None = None):
        self.label = label
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.seconds = float(os.environ.get("ZOO_PROGRESS_SECONDS", DEFAULT_SECONDS)) if seconds is None else seconds
        self.bar, self.done, self.total = None, 0, 0
        self.started = self.last_line = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if self.interactive:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label=self.label, show_pos=True, file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.done)
        elif time.perf_counter() - self.last_line >= self.seconds:
            self.last_line = time.perf_counter()
            click.echo(self.line(done, total), err=True)
        self.done, self.total = done, total

    def line(self, done: int, total: int) -> str:
        elapsed = time.perf_counter() - self.started
        eta = clock(elapsed / done * (total - done)) if done else "-"
        return f"{self.label}: step {done}/{total}  elapsed {clock(elapsed)}  eta {eta}"

    def __enter__(self) -> "SamplingProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.total and not self.interactive and time.perf_counter() - self.started >= self.seconds:
            click.echo(self.line(self.done, self.total), err=True)
