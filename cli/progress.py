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
TIMING_SECONDS, TIMING_STEPS = 10.0, 5  # the steps after the first are timed this long, at least this many
LONG_RUN_MINUTES = 15
FIT_MINUTES = 5


def clock(seconds: float) -> str:
    """``75`` -> ``1:15``, ``3700`` -> ``1:01:40``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress(Callback):
    """The bar or the lines. A line carries the tag of what its step saved ("[grid step-000500.png, checkpoint]"),
    the bar shows it for ``seconds``; once the first steps are timed, a run that would take more than
    LONG_RUN_MINUTES says so in one line, with the length that fits FIT_MINUTES."""

    def __init__(self, interactive: bool | None = None, seconds: float | None = None):
        self.interactive = sys.stdout.isatty() and sys.stderr.isatty() if interactive is None else interactive
        self.seconds = float(os.environ.get("ZOO_PROGRESS_SECONDS", DEFAULT_SECONDS)) if seconds is None else seconds
        self.bar = None
        self.event, self.event_step, self.event_time = "", None, 0.0

    def on_train_start(self, trainer):
        self.figures: dict[str, float] = {}
        self.event, self.event_step, self.event_time = "", None, 0.0
        self.pending = None  # the step whose line is due (off a terminal)
        self.first_step, self.started = trainer.step, time.perf_counter()
        self.last_line = self.started
        self.timed_from, self.told = None, False  # (step, time) as the first step ended; the long run checked
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
        self._print_line(trainer)
        self.figures.update(logs)
        if not self.interactive or time.perf_counter() - self.event_time >= self.seconds:
            self.event = ""
        if trainer.is_due(step, trainer.config.sample_every):
            self._tag(f"grid step-{step:06d}.png", step)
        self._alarm(trainer, step)
        self._long_run(trainer, step)
        if self.bar is not None:
            self.bar.update(1)
        elif self.event or time.perf_counter() - self.last_line >= self.seconds:
            self.pending = step  # printed at the next step or the end: the step's checkpoint comes after its hooks

    def on_checkpoint_saved(self, trainer, path):
        if path == trainer.folder.checkpoint:
            self._tag("checkpoint", trainer.step)
            if self.bar is None:
                self.pending = trainer.step

    def _tag(self, what: str, step: int) -> None:
        """Tag ``step`` with what it made; the tags of one step are joined."""
        self.event = f"{self.event}, {what}" if self.event and self.event_step == step else what
        self.event_step, self.event_time = step, time.perf_counter()

    def _print_line(self, trainer) -> None:
        if self.pending is not None:
            click.echo(f"step {self.pending}/{trainer.total_steps}  {self.status(trainer)}")
            self.pending, self.last_line = None, time.perf_counter()

    def _long_run(self, trainer, step):
        """Once the steps after the first have been timed (TIMING_SECONDS), one line when the whole run would take
        over LONG_RUN_MINUTES, with the --steps (or --minutes) that fits FIT_MINUTES."""
        now = time.perf_counter()
        if self.timed_from is None:
            self.timed_from = (step, now)
        timed_step, timed_at = self.timed_from
        if self.told or now - timed_at < TIMING_SECONDS or step - timed_step < TIMING_STEPS:
            return
        self.told = True
        per_step = (now - timed_at) / (step - timed_step)
        whole = trainer.elapsed + per_step * (trainer.total_steps - step)
        if whole <= LONG_RUN_MINUTES * 60 or getattr(trainer.config, "minutes", 0):
            return
        fits = _round_down(FIT_MINUTES * 60 / per_step)
        minutes = f" or --minutes {FIT_MINUTES}" if hasattr(trainer.config, "minutes") else ""
        import torch

        shared = " (on a machine others share, OMP_NUM_THREADS=1 may be faster)" if torch.get_num_threads() > 1 else ""
        self._say(f"zoo: at {per_step:.2g} s a step here, this run's {trainer.total_steps:,} steps take about "
                  f"{whole / 60:.0f} minutes; --steps {fits}{minutes} fits about {FIT_MINUTES} minutes{shared}")

    def _say(self, line: str) -> None:
        if self.bar is not None:
            sys.stderr.write("\r\033[K")  # the bar's line, cleared: it is drawn again below at the next step
        click.echo(line, err=True)

    def _alarm(self, trainer, step):
        """Show each --eval-every result; say so when the samples leave classes out (mode collapse)."""
        record = trainer.history[-1] if trainer.history else {}
        if record.get(logged.STEP) != step or logged.evaluation("fid") not in record:
            return
        self._tag(f"FID {record[logged.evaluation('fid')]:.1f}", step)
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
            self.pending = trainer.step  # the last step's line, if it was due, is this one
            self._print_line(trainer)

    def on_exception(self, trainer, exception):
        self._close()


def _round_down(steps: float) -> int:
    """To two significant figures, at least 10: ``537`` -> ``530``, ``4321`` -> ``4300``."""
    steps = max(int(steps), 10)
    unit = 10 ** max(len(str(steps)) - 2, 0)
    return steps // unit * unit


class SamplingProgress:
    """Progress of an iterative sampler (``zoo sample``, ``zoo eval``), called with (done, total) steps: a bar on
    a terminal, off one a line on stderr every ``ZOO_PROGRESS_SECONDS`` (stdout may be JSON). Shows nothing for
    a model that samples in one pass (it never reports)."""

    def __init__(self, label: str, interactive: bool | None = None, seconds: float | None = None):
        self.label = label
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.seconds = float(os.environ.get("ZOO_PROGRESS_SECONDS", DEFAULT_SECONDS)) if seconds is None else seconds
        self.bar, self.done, self.total, self.first, self.finished = None, 0, 0, 0, False
        self.started = self.last_line = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if self.finished:
            return
        if not self.total:  # timed from the first step it hears of, not from whatever ran before it
            self.started = self.last_line = time.perf_counter()
            self.first = done
        if self.interactive:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label=self.label, show_pos=True, file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.done)
        elif time.perf_counter() - self.last_line >= self.seconds:
            self.last_line = time.perf_counter()
            click.echo(self.line(done, total), err=True)
        self.done, self.total = done, total
        if done >= total:  # closed at once: another progress may follow inside the same block
            self.__exit__()

    def line(self, done: int, total: int) -> str:
        elapsed = time.perf_counter() - self.started
        eta = clock(elapsed / (done - self.first) * (total - done)) if done > self.first else "-"
        return f"{self.label}: step {done}/{total}  elapsed {clock(elapsed)}  eta {eta}"

    def __enter__(self) -> "SamplingProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self.finished:
            return
        self.finished = True
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.total and not self.interactive and time.perf_counter() - self.started >= self.seconds:
            click.echo(self.line(self.done, self.total), err=True)
