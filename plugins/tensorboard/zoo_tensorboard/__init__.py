"""zoo plugin: a TensorBoard callback (zoo train dcgan --callback tensorboard). Light: torch and tensorboard are
imported when a run starts, not when zoo starts."""

import zoo

ZOO_API = "1.4"


class TensorBoard(zoo.Callback):
    """Mirror the run into TensorBoard event files: every metrics.jsonl record as scalars (losses, images/s,
    held-out and eval figures), each sample grid as an image, and the config as hyperparameters with the final
    figures. ``logdir`` defaults to RUN/tensorboard; a resumed run drops the events past its checkpoint."""

    def __init__(self, logdir: str = "", images: bool = True):
        self.logdir, self.images = logdir, images
        self.writer = None

    def on_train_start(self, trainer):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(self.logdir or str(trainer.out_dir / "tensorboard"),
                                    purge_step=trainer.step + 1 if trainer.step else None)  # redone past the checkpoint
        self.seen = len(trainer.history)

    def _mirror(self, trainer):
        for record in trainer.history[self.seen:]:
            for key, value in record.items():
                if key not in ("step", "epoch") and isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, record["step"])
        self.seen = len(trainer.history)

    def _grid(self, trainer, step):
        import numpy as np
        from PIL import Image

        path = trainer.folder.sample_grid(step)
        if self.images and path.exists():
            with Image.open(path) as image:
                self.writer.add_image("samples", np.asarray(image.convert("RGB")), step, dataformats="HWC")

    def on_step_end(self, trainer, step, logs):
        self._mirror(trainer)
        if trainer.is_due(step, trainer.config.sample_every):
            self._grid(trainer, step)

    def on_train_end(self, trainer):
        self._mirror(trainer)
        self._grid(trainer, trainer.step)
        config = {k: v for k, v in trainer.model.config.__dict__.items() if isinstance(v, (int, float, str, bool))}
        config.update(model=trainer.model.name, batch_size=trainer.config.batch_size, seed=trainer.config.seed)
        last = {}
        for record in trainer.history:
            last.update({f"final/{k}": v for k, v in record.items() if k not in ("step", "epoch") and isinstance(v, (int, float))})
        self.writer.add_hparams(config, last, run_name=".")
        self.close()

    def on_exception(self, trainer, exception):
        self.close()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@zoo.hookimpl
def register_callbacks(register):
    register("tensorboard", TensorBoard, summary="write losses, grids, eval figures and hyperparameters for TensorBoard")
