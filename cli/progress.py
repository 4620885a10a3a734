"""The progress bar of ``zoo train``: a callback like any other, living in the CLI because it talks to people."""

from __future__ import annotations

import click

from zoo.callbacks import Callback


class ProgressBar(Callback):
    def __init__(self):
        self.figures: dict[str, float] = {}

    def _describe(self, _item) -> str:
        parts = [f"{k} {v:.3f}" for k, v in self.figures.items()]
        return "  ".join(parts + [f"{self.rate:,.0f} img/s"]) if self.figures else ""

    def on_train_start(self, trainer):
        self.rate = 0.0
        self.bar = click.progressbar(length=trainer.total_steps, label=f"{trainer.model.name}", show_pos=True,
                                     item_show_func=self._describe, file=click.get_text_stream("stderr"))
        self.bar.__enter__()
        self.bar.update(trainer.step)

    def on_step_end(self, trainer, step, logs):
        self.figures.update(logs)
        self.rate = trainer.images_per_second
        self.bar.update(1)

    def _close(self):
        if getattr(self, "bar", None) is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def on_train_end(self, trainer):
        self._close()

    def on_exception(self, trainer, exception):
        self._close()
