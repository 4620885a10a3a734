"""The one training loop of zoo. Architectures declare networks and a step; this runs them, in one process or in
several started by torchrun (data parallel, see :mod:`zoo.training.distributed`).

Read :meth:`Trainer.fit` top to bottom: fetch a batch, let the architecture do its step (under autocast when
asked), check the figures are finite, tell the callbacks. Everything a run writes (metrics, samples,
checkpoints, plots) is a callback, and callbacks run on rank 0 only: one writer per run folder.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from pathlib import Path

import torch

from zoo import logged
from zoo.architecture import Architecture
from zoo.callbacks import Callback
from zoo.datasets import ImageData
from zoo.errors import DataError, ZooError
from zoo.registry.models import create_model
from zoo.store.run_folder import RunFolder
from zoo.training import budget, callback_specs, distributed, optimizers, resume
from zoo.training.batches import data_batches, held_out
from zoo.training.checks import check_data, first_non_finite, not_finite
from zoo.training.devices import prepare_model, resolve_device, seed_everything
from zoo.training.init_from import load_initial_weights
from zoo.training.options import TrainConfig
from zoo.training.hooks import Hooks
from zoo.training.record import run_record
from zoo.training.signals import StopSignals

ON_TRAIN_END_LIMIT = 10_000  # training images handed to Architecture.on_train_end


class Trainer:
    """Trains ``model`` on ``data``, writing the run folder ``out_dir``.

    ``callbacks`` are Callback objects, names of registered callbacks or ``(name, options)`` pairs, and run in
    the order given; None means zoo's defaults (metrics, validation, sample grids, evaluation, checkpoints,
    loss plot, report), as ``zoo train`` uses. Registered ones are recorded in ``config.json`` with their options.
    """

    def __init__(self, model, data: ImageData, config: TrainConfig, out_dir: str | Path,
                 callbacks: list[Callback | str] | None = None, heldout: ImageData | None = None):
        launched = distributed.launched_world()
        check_data(model.name, model.conditional, data, config.batch_size, launched.size)
        if tuple(model.data_shape) != data.shape:
            raise DataError(f"{model.name} was built for images of shape {model.data_shape}, {data.name} has {data.shape}")
        self.config = config
        self.device = resolve_device(config.device, launched.local_rank)
        self.world = distributed.join(self.device.type)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: pick the fastest convolution once
        model, self.channels_last = prepare_model(model, config, self.device, self.world.distributed)
        self.model = model.to(self.device)
        self.data = data
        self.folder = RunFolder(out_dir)
        given = callback_specs.default_callbacks() if callbacks is None else callbacks
        self.callbacks, self.callback_specs, self.callback_keys = callback_specs.build(given)
        self.batches = data_batches(data, config, self.device, self.world, self.channels_last)
        self.heldout_data = heldout
        self.heldout_tensors = None if heldout is None else held_out(heldout, self.device)
        self.precision, self.base_lrs, self.optimizer_steps = optimizers.prepare(self.model, config, self.device,
                                                                                 self.world)
        self.total_steps = config.steps
        self.step = 0
        self.start_step = 0  # where this fit() began: 0, or the step a resume continued from
        self.history: list[dict] = []
        self.images_per_second = 0.0
        self.created = datetime.now().isoformat(timespec="seconds")
        self.init_from: dict | None = None  # where the weights it started from came from (zoo train --init-from)
        self._seconds_before = 0.0  # training time of earlier sessions of a resumed run
        self.hooks = Hooks(self.callbacks, self.world, self.device)
        self._started = time.perf_counter()
        self.budget: dict | None = None  # what --minutes became: {minutes, steps, images_per_s}
        self.stopped: str | None = None  # why a callback ended the run early (stop(reason))
        self.saved_step: int | None = None  # the step the run's checkpoint holds
        self._signals = StopSignals()

    @classmethod
    def from_plan(cls, plan, callbacks: list[Callback] = ()) -> "Trainer":
        """The trainer of a planned run (new or resumed), with ``callbacks`` added to the run's own."""
        seed_everything(plan.train.seed)  # initial weights come from the seed (a resume then loads its own)
        model = create_model(plan.model, data_shape=plan.data.shape, num_classes=plan.data.num_classes,
                             **plan.model_options)
        if plan.init_weights is not None:  # --init-from: a new run starts from a model folder's weights
            load_initial_weights(model, plan.init_weights, plan.init_from)
        trainer = cls(model, plan.data, plan.train, plan.folder.path, [*plan.callbacks.items(), *callbacks], plan.heldout)
        trainer.created, trainer.init_from, trainer.budget = plan.created, plan.init_from, plan.budget
        if plan.checkpoint is not None:
            trainer.restore(plan.checkpoint)
        return trainer

    @property
    def out_dir(self) -> Path:
        return self.folder.path

    @property
    def heldout(self):
        """Deprecated: :attr:`heldout_tensors`, under its name before API 1.4 (warns once; goes in zoo-core 1.0)."""
        from zoo.moved import deprecated

        deprecated("Trainer.heldout", "Trainer.heldout_tensors")
        return self.heldout_tensors

    @property
    def elapsed(self) -> float:
        """Seconds spent in fit() for this run, earlier sessions of a resumed run included."""
        return self._seconds_before + time.perf_counter() - self._started

    def is_due(self, step: int, every: int) -> bool:
        """Whether a periodic action (a grid every ``sample_every`` steps, say) happens after ``step``: every
        ``every`` steps (0: never), except the last step, where each happens once in ``on_train_end``."""
        return every > 0 and step % every == 0 and step != self.total_steps

    def record(self, figures: dict) -> None:
        """Append one record (the current step and ``figures``) to ``metrics.jsonl`` and ``self.history``."""
        entry = {logged.STEP: self.step, logged.EPOCH: self.batches.epoch, **figures}
        self.history.append(entry)
        self.folder.append_metrics(entry)

    def stop(self, reason: str) -> None:
        """End the run after the current step, normally: the final grid, checkpoint and report are written, and
        status.json and report.html say "stopped early at step N: reason". For a callback (early stopping)."""
        self.stopped = str(reason) or "stopped by a callback"

    def fit(self) -> None:
        with self.folder.lock() if self.world.is_writer else contextlib.nullcontext(), self._signals.listening():
            if self.step == 0:
                seed_everything(self.config.seed)
            self._start_session()
            self.model.train()
            try:
                if self.config.minutes and self.step == 0:
                    self._spend_budget()
                self.hooks.emit(self, "on_train_start")
                with self._signals.armed_for_steps():
                    while self.step < self.total_steps and not self._ends_here():
                        started = time.perf_counter()
                        figures, epochs_finished = self._step()
                        self._check_finite(figures)
                        self._measure_speed(time.perf_counter() - started)
                        self.hooks.emit(self, "on_step_end", self.step, figures)
                        for epoch in epochs_finished:
                            self.hooks.emit(self, "on_epoch_end", epoch)
                        while self.hooks.deferred:  # the step's checkpoints, once every callback has seen all of it
                            self.save_checkpoint(self.hooks.deferred.pop(0))
                if self.stopped and self.world.is_writer:  # the final report page says so
                    self.folder.write_status("stopped", self.step, self.stopped)
                if type(self.model).on_train_end is not Architecture.on_train_end:  # spare the copy for those without
                    self.model.on_train_end(*self.batches.sample(ON_TRAIN_END_LIMIT, self.config.seed))
                self.hooks.emit(self, "on_train_end")
                distributed.barrier()  # the others wait while rank 0 writes the last checkpoint
            except BaseException as exc:
                ended = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                if self.world.is_writer:  # before on_exception, so the report page it rewrites says how it ended
                    with contextlib.suppress(OSError):  # a full disk must not hide the error itself
                        error = str(exc) if isinstance(exc, ZooError) else f"{type(exc).__name__}: {exc}"
                        self.folder.write_status(ended, self.step, error[:500])
                self.hooks.emit(self, "on_exception", exc)
                raise
            if self.world.is_writer:
                self.folder.write_status(*(("stopped", self.step, self.stopped) if self.stopped else ("finished", self.step)))

    def _step(self) -> tuple[dict[str, float], list[int]]:
        """One optimisation step of every rank, counted: its figures (averaged over ranks) and the epochs that ended."""
        if self.world.distributed:  # each rank its own noise, resumable without gathering RNG states
            torch.manual_seed(distributed.step_seed(self.config.seed, self.world.rank, self.step))
        if self.config.lr_decay > 0:
            optimizers.set_rates(self.model, self.base_lrs,
                                 optimizers.decay_factor(self.config.lr_decay, self.step, self.total_steps))
        figures, epochs_finished = self._optimisation_step()
        if self.world.distributed:
            figures = distributed.mean_figures(figures, self.device)
            distributed.broadcast_state(self.model.buffers())
        self.step += 1
        return figures, epochs_finished

    def _ends_here(self) -> bool:
        """Whether the run ends before another step: a callback called :meth:`stop`, or a first SIGINT/SIGTERM
        came (then the step just finished is checkpointed and the run ends interrupted). Every rank agrees."""
        stopping, interrupted = self.stopped is not None, self._signals.received is not None
        if self.world.distributed:
            stopping, interrupted = distributed.any_rank([stopping, interrupted], self.device)
        if interrupted:
            if self.step > 0 and self.saved_step != self.step:
                self.save_checkpoint()
            raise KeyboardInterrupt(f"stopped by {self._signals.received or 'a signal to another process'}")
        if stopping and self.stopped is None:
            self.stopped = "stopped by a callback on rank 0"
        return stopping

    def _spend_budget(self) -> None:
        """Turn ``--minutes`` into steps (:mod:`zoo.training.budget`; warm-up steps numbered as the run's first)."""
        self.budget = budget.measure(self._step, self.config, self.model, self.batches, self.optimizer_steps,
                                     self.device, self.world)
        self.step = 0
        self.total_steps = self.config.steps = self.budget["steps"]
        if self.world.is_writer:
            self.folder.write_record(run_record(self))

    def _optimisation_step(self) -> tuple[dict[str, float], list[int]]:
        """The architecture's step on each of ``accumulate`` micro-batches (its optimisers step after the last):
        the figures averaged over them, and the epochs that ended."""
        sums, epochs_finished = {}, []
        for micro_batch in range(self.config.accumulate):
            self.optimizer_steps.micro_batch = micro_batch
            batch = self.batches.next()
            with self.optimizer_steps.autocast():
                logs = self.model.training_step(batch, self.step)
            for name, value in logs.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach() if torch.is_tensor(value) else value)
            if self.batches.epoch_finished:
                epochs_finished.append(self.batches.epoch + 1)
        self.optimizer_steps.end_of_step()
        return {name: total / self.config.accumulate for name, total in sums.items()}, epochs_finished

    def _start_session(self) -> None:
        """Check the folder, write the run record, trim metrics a resume trains again; give every rank the
        same starting state."""
        if self.world.is_writer:
            if self.step == 0 and self.folder.checkpoint.exists():
                raise ZooError(f"{self.out_dir} already holds a trained run; continue it (zoo train --resume, "
                               "zoo.train(resume=...), Trainer.restore) or choose another folder")
            self.history = self.folder.keep_metrics_until(self.step)  # a resume trains the steps past it again
            self.folder.write_record(run_record(self))
        if self.world.distributed:
            distributed.broadcast_state([*self.model.parameters(), *self.model.buffers()])
        self.start_step = self.step
        self._started = time.perf_counter()

    def _check_finite(self, figures: dict[str, float]) -> None:
        problem = first_non_finite(figures)
        if problem is not None:
            raise not_finite(problem, self.step, self.saved_step, f"zoo train --resume {self.out_dir}")

    def _measure_speed(self, seconds: float) -> None:
        rate = self.config.batch_size * self.config.accumulate * self.world.size / max(seconds, 1e-9)
        self.images_per_second = rate if self.images_per_second == 0 else 0.9 * self.images_per_second + 0.1 * rate

    def save_checkpoint(self, path: Path | None = None) -> Path:
        """Write the full training state to ``path`` (default: the run's checkpoint.safetensors) atomically, then
        tell the callbacks (``on_checkpoint_saved``), for best.safetensors too. Asked for in ``on_step_end`` or
        ``on_epoch_end``, it is written once every callback has seen the step, with each one's state of it."""
        path = Path(path or self.folder.checkpoint)
        if not self.world.is_writer:  # an every_rank callback's: rank 0 alone writes
            return path
        if self.hooks.defers(path):
            return path
        broken = resume.non_finite(self.model)
        if broken is not None:  # never a checkpoint of NaN weights: the last finite one stays
            raise not_finite(f"{broken} is not finite", self.step, self.saved_step, f"zoo train --resume {self.out_dir}")
        path = resume.save(path, self.model, step=self.step, rng=self.hooks.training_rng(), data=self.data,
                           image_size=self.config.image_size, state=self.training_state(),
                           callbacks=resume.callback_states(self.callback_keys, self.callbacks))
        if path == self.folder.checkpoint:
            self.saved_step = self.step
        self.hooks.emit(self, "on_checkpoint_saved", path)
        return path

    def training_state(self) -> dict:
        """What a checkpoint keeps of this trainer beyond the weights, optimisers and RNG states."""
        return {"batches": self.batches.state_dict(), "total_steps": self.total_steps, "seed": self.config.seed,
                "elapsed": round(self.elapsed, 3), "world_size": self.world.size,
                "optimizer_steps": self.optimizer_steps.state_dict()}

    def restore(self, checkpoint) -> None:
        """Continue from ``checkpoint`` (a :class:`zoo.store.checkpoint.Checkpoint`): weights, optimisers, RNG
        states, step, data position and the callbacks' state (a callback the checkpoint has none for keeps its own)."""
        resumed = resume.read(checkpoint, self.model, self.device, self.world.size)
        with resume.damage_reported(checkpoint):
            self.batches.load_state_dict(resumed.state["batches"])
            self.optimizer_steps.load_state_dict(resumed.state.get("optimizer_steps", {}))  # fp16's loss scale
            self._seconds_before = float(resumed.state.get("elapsed", 0.0))
        for key, callback in zip(self.callback_keys, self.callbacks):
            if key in resumed.callbacks and hasattr(callback, "load_state_dict"):
                callback.load_state_dict(resumed.callbacks[key])
        if resumed.rates_changed:  # the optimisers' saved state holds the old rates
            optimizers.set_rates(self.model, self.base_lrs)
        self.step = self.saved_step = resumed.step


def train(model: str | None = None, *, out: str | Path | None = None, data: str | None = None, resume: str | Path | None = None,
          callbacks: list[str] | tuple = (), config: dict | None = None, init_from: str | Path | None = None,
          **options) -> Trainer:
    """Train ``model`` as ``zoo train`` does and return the finished Trainer; ``resume=RUN`` continues a run,
    ``init_from=DIR`` (a model folder or hf://owner/name) starts a new one from its weights.

    ``options`` are TrainConfig fields (or ``epochs``), ``config`` the model's config keys, ``callbacks`` registered
    callback names besides the defaults. ``zoo.train("dcgan", out="runs/d", steps=500)``.
    """
    from zoo.training.plan import plan_run

    trainer = Trainer.from_plan(plan_run(model, resume=resume, out=out, data=data, options=options,
                                         model_options=config, callbacks=callbacks, init_from=init_from))
    trainer.fit()
    return trainer
