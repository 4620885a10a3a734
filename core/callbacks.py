"""Training callbacks: override the hooks you need; every one is a no-op by default (as in Lightning).

zoo's own run-folder features (metrics log, sample grids, checkpoints, loss plot) are callbacks too, on the
same contract a plugin's callbacks use. Each reads what it needs from the trainer it is handed. This module
does not import torch, so a plugin can subclass Callback in its light entry module.
"""

from __future__ import annotations

from pathlib import Path


class Callback:
    every_rank = False
    """With several processes, callbacks run on rank 0 alone, which writes the run folder. A callback that changes
    training itself (say, a learning-rate schedule) sets this True and then runs on every rank; it must not write
    files then, or only where ``trainer.world.is_writer``."""

    def on_train_start(self, trainer) -> None:
        """Before the first step (also when resuming; ``trainer.step`` then says where)."""

    def on_step_end(self, trainer, step: int, logs: dict[str, float]) -> None:
        """After each optimisation step; ``step`` counts completed steps from 1, ``logs`` are finite floats."""

    def on_epoch_end(self, trainer, epoch: int) -> None:
        """After the step that used the last full batch of an epoch (epochs count from 1)."""

    def on_checkpoint_saved(self, trainer, path: Path) -> None:
        """After a checkpoint was written atomically to ``path``."""

    def on_train_end(self, trainer) -> None:
        """After the last step, when training finished normally."""

    def on_exception(self, trainer, exception: BaseException) -> None:
        """When training stops on an error or interrupt; the exception is raised again afterwards."""


def _due(step: int, every: int, trainer) -> bool:
    return every > 0 and step % every == 0 and step != trainer.total_steps


class MetricsLog(Callback):
    """Average the step figures over ``log_every`` steps into ``metrics.jsonl`` (via ``trainer.record``)."""

    def on_train_start(self, trainer):
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def on_step_end(self, trainer, step, logs):
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1
        if step % trainer.config.log_every == 0 or step == trainer.total_steps:
            averages = {k: self.sums[k] / self.counts[k] for k in self.sums}
            trainer.record({**averages, "images_per_s": round(trainer.images_per_second, 1), "time_s": round(trainer.elapsed, 2)})
            self.sums, self.counts = {}, {}


class Validation(Callback):
    """Log the model's ``validation_logs`` on the held-out split at each sample interval and at the end."""

    def run(self, trainer):
        import torch

        from .architecture import eval_mode

        if trainer.heldout is None:
            return
        with eval_mode(trainer.model), torch.no_grad():
            figures = trainer.model.validation_logs(*trainer.heldout)
        if figures:
            trainer.record({f"heldout/{k}": float(v) for k, v in figures.items()})

    def on_step_end(self, trainer, step, logs):
        if _due(step, trainer.config.sample_every, trainer):
            self.run(trainer)

    def on_train_end(self, trainer):
        self.run(trainer)


class SampleGrids(Callback):
    """Save ``samples/step-NNNNNN.png`` every ``sample_every`` steps and at the end, from one fixed noise batch."""

    count = 64

    def on_train_start(self, trainer):
        from .images import class_rows

        model = trainer.model
        self.nrow, self.labels = None, None
        if model.conditional:
            self.labels, self.nrow = class_rows(model.num_classes, 8 * model.num_classes)
        self.n = self.count if self.labels is None else len(self.labels)

    def save(self, trainer, step):
        from .images import save_grid

        # the latents are drawn from the seed at each save, as the prior may change (e.g. fitted at the end)
        images = trainer.model.sample(self.n, seed=trainer.config.seed, labels=self.labels)
        save_grid(images, trainer.folder.sample_grid(step), self.nrow)

    def on_step_end(self, trainer, step, logs):
        if _due(step, trainer.config.sample_every, trainer):
            self.save(trainer, step)

    def on_train_end(self, trainer):
        self.save(trainer, trainer.step)


class Checkpointing(Callback):
    """Save ``checkpoint.safetensors`` every ``checkpoint_every`` steps and at the end."""

    def on_step_end(self, trainer, step, logs):
        if _due(step, trainer.config.checkpoint_every, trainer):
            trainer.save_checkpoint()

    def on_train_end(self, trainer):
        trainer.save_checkpoint()


class LossPlot(Callback):
    """Draw ``losses.png`` from the logged figures when training ends."""

    def on_train_end(self, trainer):
        from .plots import plot_losses

        plot_losses(trainer.history, trainer.folder.losses_plot, title=trainer.model.name)


class Report(Callback):
    """Write ``report.html`` (config, loss curves, grids over time, evaluation) at each sample interval and at
    the end; it runs after the other default callbacks, so the grid and evaluation of the step are in it."""

    def on_step_end(self, trainer, step, logs):
        if _due(step, trainer.config.sample_every, trainer):
            self.write(trainer)

    def on_train_end(self, trainer):
        self.write(trainer)

    def write(self, trainer):
        from .report import write_report

        write_report(trainer.folder, trainer.history)


class Evaluation(Callback):
    """With ``eval_every`` > 0: zoo eval's figures every so many steps into metrics.jsonl, at the end into
    ``eval.json``, and ``best.safetensors`` beside the last checkpoint: the one whose samples scored the lowest FID
    (a GAN's last step is seldom its best)."""

    def on_train_start(self, trainer):
        scored = [r["eval/fid"] for r in trainer.history if "eval/fid" in r]  # on resume, the best so far
        self.best_fid = min(scored, default=float("inf"))

    def run(self, trainer) -> dict:
        from .evaluation import evaluate

        report = evaluate(trainer.data, trainer.heldout_data, model=trainer.model,
                          n=trainer.config.eval_samples, seed=trainer.config.seed).to_dict()
        figures = {k: v for k, v in report["model"].items() if isinstance(v, (int, float)) and k != "n"}
        trainer.record({f"eval/{k}": v for k, v in figures.items()})
        if figures["fid"] < self.best_fid:
            self.best_fid = figures["fid"]
            trainer.save_checkpoint(trainer.folder.best_checkpoint)
        return report

    def on_step_end(self, trainer, step, logs):
        if trainer.heldout_data is not None and _due(step, trainer.config.eval_every, trainer):
            self.run(trainer)

    def on_train_end(self, trainer):
        if trainer.heldout_data is not None and trainer.config.eval_every > 0:
            import json

            from .atomic import write_text

            write_text(trainer.folder.eval_report, json.dumps(self.run(trainer), indent=2) + "\n")
