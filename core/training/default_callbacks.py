"""zoo's own callbacks, registered by :mod:`zoo.builtins` with ``default=True``: every run has them unless told
otherwise. They write the run folder: metrics.jsonl, held-out figures, sample grids, checkpoints, evaluations,
losses.png and report.html, each on the contract a plugin's callbacks use."""

from __future__ import annotations

import contextlib
import time

from zoo import logged
from zoo.callbacks import Callback


class MetricsLog(Callback):
    """Average the step figures over ``log_every`` steps into ``metrics.jsonl`` (via ``trainer.record``)."""

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def state_dict(self) -> dict:
        return {"sums": self.sums, "counts": self.counts} if self.counts else {}

    def load_state_dict(self, state: dict) -> None:
        self.sums, self.counts = dict(state["sums"]), dict(state["counts"])

    def on_step_end(self, trainer, step, logs):
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1
        if step % trainer.config.log_every == 0 or step == trainer.total_steps:
            self.flush(trainer)

    def on_train_end(self, trainer):  # a run stopped early (trainer.stop) ends between two records
        if self.counts:
            self.flush(trainer)

    def flush(self, trainer):
        averages = {k: self.sums[k] / self.counts[k] for k in self.sums}
        if trainer.optimizer_steps.scaler is not None:  # fp16: steps skipped on overflow so far (a few are normal)
            averages[logged.OVERFLOW_STEPS] = trainer.optimizer_steps.overflows
        trainer.record({**averages, logged.IMAGES_PER_SECOND: round(trainer.images_per_second, 1),
                        logged.TIME_SECONDS: round(trainer.elapsed, 2)})
        self.sums, self.counts = {}, {}


class Validation(Callback):
    """Log the model's ``validation_logs`` on the held-out split at each sample interval and at the end."""

    def run(self, trainer):
        import torch

        from zoo.architecture import eval_mode

        if trainer.heldout_tensors is None:
            return
        with eval_mode(trainer.model), torch.no_grad():
            figures = trainer.model.validation_logs(*trainer.heldout_tensors)
        if figures:
            trainer.record({logged.heldout(k): float(v) for k, v in figures.items()})

    def on_step_end(self, trainer, step, logs):
        if trainer.is_due(step, trainer.config.sample_every):
            self.run(trainer)

    def on_train_end(self, trainer):
        self.run(trainer)


class SampleGrids(Callback):
    """Save ``samples/step-NNNNNN.png`` every ``sample_every`` steps and at the end, from one fixed noise batch."""

    count = 64

    def save(self, trainer, step):
        from zoo.outputs.images import labelled_grid, save_png

        # the latents are drawn from the seed at each save, as the prior may change (e.g. fitted at the end)
        model = trainer.model
        n = 8 * model.num_classes if model.conditional else self.count  # a conditional model: 8 of each label
        save_png(labelled_grid(model, n, trainer.config.seed), trainer.folder.sample_grid(step))

    def on_step_end(self, trainer, step, logs):
        if trainer.is_due(step, trainer.config.sample_every):
            self.save(trainer, step)

    def on_train_end(self, trainer):
        self.save(trainer, trainer.step)


class Checkpointing(Callback):
    """Save ``checkpoint.safetensors`` every ``checkpoint_every`` steps, when ``checkpoint_minutes`` passed since
    the last one, and at the end."""

    def __init__(self):
        self.last_saved = time.monotonic()

    def on_train_start(self, trainer):
        self.last_saved = time.monotonic()

    def on_checkpoint_saved(self, trainer, path):
        if path == trainer.folder.checkpoint:
            self.last_saved = time.monotonic()

    def on_step_end(self, trainer, step, logs):
        minutes = trainer.config.checkpoint_minutes
        overdue = minutes > 0 and time.monotonic() - self.last_saved >= minutes * 60 and step != trainer.total_steps
        if trainer.is_due(step, trainer.config.checkpoint_every) or overdue:
            trainer.save_checkpoint()

    def on_train_end(self, trainer):
        trainer.save_checkpoint()


class LossPlot(Callback):
    """Draw ``losses.png`` from the logged figures when training ends."""

    def on_train_end(self, trainer):
        from zoo.outputs.plots import plot_losses

        plot_losses(trainer.history, trainer.folder.losses_plot, title=trainer.model.name)


class ReportPage(Callback):
    """Write ``report.html`` (status, the latest grid, loss curves, evaluation, config) at each sample interval, at
    the end, and when a run stops on an error or interrupt; it runs after the other default callbacks, so the grid
    and evaluation of the step are in it."""

    def on_step_end(self, trainer, step, logs):
        if trainer.is_due(step, trainer.config.sample_every):
            self.write(trainer)

    def on_train_end(self, trainer):
        self.write(trainer)

    def on_exception(self, trainer, exception):
        from zoo.errors import ZooError

        with contextlib.suppress(OSError, ZooError):  # the page must not hide the error that stopped the run
            self.write(trainer)

    def write(self, trainer):
        from zoo.outputs.report import write_report

        write_report(trainer.folder, trainer.history)


class Evaluation(Callback):
    """With ``eval_every`` > 0: zoo eval's figures every so many steps into metrics.jsonl, at the end into
    ``eval.json``, and ``best.safetensors`` beside the last checkpoint: the one whose samples scored the lowest FID
    (a GAN's last step is seldom its best)."""

    def __init__(self):
        self.best_fid = float("inf")

    def state_dict(self) -> dict:
        return {"best_fid": self.best_fid} if self.best_fid < float("inf") else {}

    def load_state_dict(self, state: dict) -> None:
        self.best_fid = float(state["best_fid"])

    def run(self, trainer) -> dict:
        from zoo.evaluation.harness import evaluate

        report = evaluate(trainer.data, trainer.heldout_data, model=trainer.model,
                          n=trainer.config.eval_samples, seed=trainer.config.seed).to_dict()
        figures = {k: v for k, v in report["model"].items() if isinstance(v, (int, float)) and k != "n"}
        trainer.record({logged.evaluation(k): v for k, v in figures.items()})
        if figures["fid"] < self.best_fid:
            self.best_fid = figures["fid"]
            trainer.save_checkpoint(trainer.folder.best_checkpoint)
        return report

    def on_step_end(self, trainer, step, logs):
        if trainer.heldout_data is not None and trainer.is_due(step, trainer.config.eval_every):
            self.run(trainer)

    def on_train_end(self, trainer):
        if trainer.heldout_data is not None and trainer.config.eval_every > 0:
            trainer.folder.write_eval(self.run(trainer))
