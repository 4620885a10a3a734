"""The one training loop of zoo. Architectures declare networks and a step; this runs them.

Read :meth:`Trainer.fit` top to bottom: fetch a batch, let the architecture do its step (under autocast when
asked), check the figures are finite, tell the callbacks. Everything a run writes (metrics, samples,
checkpoints, plots) is a callback.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from . import checkpoint as ckpt_io
from .batches import InMemoryBatches
from .callbacks import Callback
from .datasets import ImageData
from .errors import CheckpointError, DataError, TrainingError, ZooError

PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainConfig:
    steps: int = 2000
    batch_size: int = 64
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    sample_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 10
    eval_every: int = 0
    eval_samples: int = 1000


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ZooError("--device cuda: no CUDA device is available here (try --device auto)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ZooError("--device mps: no Apple MPS device is available here (try --device auto)")
    if name not in ("cpu", "cuda", "mps"):
        raise ZooError(f"unknown device '{name}'; choose auto, cpu, cuda or mps")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)


class Trainer:
    def __init__(self, model, data: ImageData, config: TrainConfig, out_dir: str | Path,
                 callbacks: list[Callback] = (), meta: dict | None = None, heldout: ImageData | None = None):
        if config.steps < 1:
            raise ZooError(f"--steps must be at least 1, got {config.steps}")
        if config.batch_size < 1 or config.batch_size > len(data):
            raise DataError(f"--batch-size {config.batch_size} does not fit {data.name}, which has {len(data)} images")
        if config.precision not in PRECISIONS:
            raise ZooError(f"unknown precision '{config.precision}'; choose {' or '.join(PRECISIONS)}")
        if model.conditional and data.labels is None:
            raise DataError(f"{model.name} needs a labelled dataset (one subfolder per class, or 'labels' in the .npz); {data.name} has no labels")
        if tuple(model.data_shape) != data.shape:
            raise DataError(f"{model.name} was built for images of shape {model.data_shape}, {data.name} has {data.shape}")
        self.config = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.data = data
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.callbacks = list(callbacks)
        self.meta = dict(meta or {})
        images, labels = self._tensors(data)
        self.batches = InMemoryBatches(images, labels, config.batch_size, config.seed)
        self.heldout_data = heldout
        self.heldout = None if heldout is None else self._tensors(heldout)
        self.model.optimizers = self.model.configure_optimizers()
        self.total_steps = config.steps
        self.step = 0
        self.history: list[dict] = []
        self.images_per_second = 0.0
        self._seconds_before = 0.0  # training time of earlier sessions of a resumed run
        self._started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds spent in fit() for this run, earlier sessions of a resumed run included."""
        return self._seconds_before + time.perf_counter() - self._started

    def _tensors(self, data: ImageData) -> tuple[torch.Tensor, torch.Tensor | None]:
        images = torch.from_numpy(data.images).to(self.device, torch.float32).div_(127.5).sub_(1.0)
        labels = None if data.labels is None else torch.from_numpy(data.labels).to(self.device)
        return images, labels

    @property
    def metrics_path(self) -> Path:
        return self.out_dir / "metrics.jsonl"

    def record(self, figures: dict) -> None:
        """Append one record (the current step and ``figures``) to ``metrics.jsonl`` and ``self.history``."""
        entry = {"step": self.step, "epoch": self.batches.epoch, **figures}
        self.history.append(entry)
        with open(self.metrics_path, "a") as fh:
            fh.write(json.dumps(entry) + "\n")

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / ckpt_io.FILENAME

    def fit(self) -> None:
        if self.step == 0:
            seed_everything(self.config.seed)
        self._started = time.perf_counter()
        self.model.train()
        self._emit("on_train_start")
        try:
            while self.step < self.total_steps:
                started = time.perf_counter()
                batch = self.batches.next()
                with self._autocast():
                    logs = self.model.training_step(batch, self.step)
                figures = {name: float(value) for name, value in logs.items()}
                self.step += 1
                self._check_finite(figures)
                self._measure_speed(time.perf_counter() - started)
                self._emit("on_step_end", self.step, figures)
                if self.batches.epoch_finished:
                    self._emit("on_epoch_end", self.batches.epoch + 1)
            self.model.on_train_end(self.batches.images, self.batches.labels)
            self._emit("on_train_end")
        except BaseException as exc:
            self._emit("on_exception", exc)
            raise

    def _emit(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _autocast(self):
        if self.config.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _check_finite(self, figures: dict[str, float]) -> None:
        for name, value in figures.items():
            if not math.isfinite(value):
                kept = f"the last good checkpoint is {self.checkpoint_path}" if self.checkpoint_path.exists() else "no checkpoint was written yet"
                raise TrainingError(f"'{name}' became {value} at step {self.step}; training stopped ({kept})")

    def _measure_speed(self, seconds: float) -> None:
        rate = self.config.batch_size / max(seconds, 1e-9)
        self.images_per_second = rate if self.images_per_second == 0 else 0.9 * self.images_per_second + 0.1 * rate

    # --- checkpoints ------------------------------------------------------------------------------------------
    def save_checkpoint(self) -> Path:
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        meta = dict(self.meta)
        meta["trainer"] = {"batches": self.batches.state_dict(), "total_steps": self.total_steps, "seed": self.config.seed,
                           "elapsed": round(self.elapsed, 3)}
        path = ckpt_io.save_checkpoint(self.checkpoint_path, self.model, step=self.step,
                                       optimizers=self.model.optimizers, rng=rng, meta=meta)
        self._emit("on_checkpoint_saved", path)
        return path

    def restore(self, checkpoint: ckpt_io.Checkpoint) -> None:
        """Continue from ``checkpoint``: weights, optimisers, RNG states, step and data position."""
        if checkpoint.architecture != self.model.name:
            raise CheckpointError(f"{checkpoint.path} is a '{checkpoint.architecture}' checkpoint, not '{self.model.name}'")
        try:
            self.model.load_state_dict(checkpoint.group("model."))
        except RuntimeError as exc:
            raise CheckpointError(f"{checkpoint.path}: weights do not fit this {self.model.name}: {str(exc).splitlines()[0]}") from None
        ckpt_io.restore_optimizers(checkpoint, self.model.optimizers)
        torch.set_rng_state(checkpoint.tensors["rng.torch"])
        if "rng.cuda" in checkpoint.tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(checkpoint.tensors["rng.cuda"], self.device)
        state = checkpoint.json("trainer")
        self.batches.load_state_dict(state["batches"])
        self._seconds_before = float(state.get("elapsed", 0.0))
        self.step = checkpoint.step
