"""The trainer's options: their names, defaults, help and checks, stated once (no torch here).

``zoo train`` makes one command-line option of each field (``batch_size`` -> ``--batch-size``), a config file's
``[train]`` table uses the same names, and every value is checked when a TrainConfig is made, whoever makes it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from zoo.config import FieldInfo, check_value, describe, did_you_mean, option
from zoo.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16", "auto")
DATA_ACCESS = ("auto", "memory", "stream")
BATCHNORM = ("per-rank", "sync")
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")

RESUMABLE = ("steps", "device", "sample_every", "checkpoint_every", "checkpoint_minutes", "log_every", "eval_every",
             "eval_samples", "data_access", "compile", "memory_format")
"""The options a resumed run may change; the others (batch size, seed, precision) define the run."""


@dataclass
class TrainConfig:
    steps: int = option(2000, "optimisation steps [default: the model's, see zoo info NAME; 2000 if it names none]",
                        minimum=1, maximum=10**9)
    minutes: float = option(0.0, "train for a wall-clock budget instead of --steps: the first steps are timed (then "
                            "undone) and the budget becomes the steps that fit, recorded in config.json, so --steps "
                            "with that number repeats the run exactly (0: off)", minimum=0.0, maximum=10**6)
    batch_size: int = option(64, "images per step on each process [default: the model's, see zoo info NAME; 64 if it "
                             "names none]", minimum=1, maximum=1 << 20)
    seed: int = option(0, "random seed: same seed, same run")
    device: str = option("auto", "where to train; auto: cuda if there is one, else mps, else cpu", choices=DEVICES)
    precision: str = option("fp32", "bf16 or fp16 run each step under autocast (fp16 with loss scaling, for "
                            "models that step through Architecture.optimize); auto: bf16 where the device has it "
                            "natively (Ampere+ GPUs, CPUs with AVX-512 BF16 or AMX), fp32 elsewhere",
                            choices=PRECISIONS)
    accumulate: int = option(1, "micro-batches of --batch-size per optimiser step: a step sees batch size x "
                             "accumulate x processes images (models that step through Architecture.optimize)",
                             minimum=1, maximum=4096)
    clip_grad_norm: float = option(0.0, "clip each optimiser's gradient norm to this before its step (0: off; "
                                   "models that step through Architecture.optimize)", minimum=0.0)
    lr_decay: float = option(0.0, "fraction of the run at its end over which every learning rate falls linearly to "
                             "0 (0: constant; a plugin may set its own default, zoo info NAME shows it)",
                             minimum=0.0, maximum=1.0)
    sample_every: int = option(500, "steps between sample grids, held-out figures and report.html updates (0: only "
                               "at the end, where they are always made)", minimum=0)
    checkpoint_every: int = option(500, "steps between checkpoints (0: only at the end, where one is always "
                                   "written)", minimum=0)
    checkpoint_minutes: float = option(5.0, "also write a checkpoint when this many minutes passed since the last "
                                       "one, so a killed run loses at most that much (0: off)", minimum=0.0)
    log_every: int = option(10, "steps averaged into each metrics.jsonl record", minimum=1)
    eval_every: int = option(0, "steps between zoo eval figures in metrics.jsonl, the best FID's weights kept in "
                             "best.safetensors (0: off); the final ones go to eval.json", minimum=0)
    eval_samples: int = option(1000, "samples drawn for each --eval-every evaluation", minimum=10)
    image_size: int = option(0, "decode an image folder at SxS: the centred square of each image, resized with the "
                             "Lanczos filter (0: as the folder is)", minimum=0, maximum=4096)
    data_access: str = option("auto", "memory: hold the uint8 images on the device; stream: read each batch from the "
                              "memory-mapped file (.npy, cached folders); auto: stream when the images take over a "
                              "quarter of the machine's memory", choices=DATA_ACCESS)
    memory_format: str = option("auto", "layout of image tensors and conv weights on CPU and CUDA: channels_last is "
                                "faster for convolutions but needs networks that reshape, not view, activations; "
                                "auto: what the architecture declares", choices=MEMORY_FORMATS)
    compile: bool = option(False, "torch.compile each network (about 3 s more to start with a warm compile "
                           "cache, 10-30 s from a cold one; benchmarks/train_speed.py says whether it pays on your "
                           "machine)")
    batchnorm: str = option("per-rank", "with several processes, BatchNorm's batch statistics per rank, or sync "
                            "(SyncBatchNorm, CUDA only)", choices=BATCHNORM)

    def __post_init__(self):
        for info in fields():
            setattr(self, info.name, check_value(info, getattr(self, info.name), flag(info.name)))


LENGTHS = ("steps", "epochs", "minutes")
"""The options that say how long a run is: one of them at a time."""


def fields() -> list[FieldInfo]:
    return describe(TrainConfig)


def names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(TrainConfig))


def flag(name: str) -> str:
    """The command-line spelling of an option: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def layered(*layers: dict) -> dict:
    """Options from ``layers``, later ones winning (the model's defaults, a config file, the command line, or a
    resumed run's record and what was given now). A run's length is one setting: a later layer that gives
    ``steps``, ``epochs`` or ``minutes`` replaces whichever of them an earlier layer gave."""
    merged: dict = {}
    for layer in layers:
        if layer.keys() & set(LENGTHS):
            for name in LENGTHS:
                merged.pop(name, None)
        merged.update(layer)
    return merged


def train_config(settings: dict, images: int, processes: int = 1) -> TrainConfig:
    """The TrainConfig ``settings`` describe; ``epochs`` becomes ``steps`` for a dataset of ``images`` images, each
    step taking ``batch_size x accumulate`` images on each of ``processes`` processes."""
    settings = dict(settings)
    given = [flag(name) for name in LENGTHS if settings.get(name)]
    if len(given) > 1:
        raise ConfigError(f"give one of --steps, --epochs and --minutes, not {' and '.join(given)}")
    epochs = settings.pop("epochs", None)
    if epochs is not None:
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise ConfigError(f"--epochs must be at least 1, got {epochs}")
        per_step = settings.get("batch_size", TrainConfig().batch_size) * settings.get("accumulate", 1) * processes
        settings["steps"] = epochs * max(1, images // per_step)
    unknown = sorted(set(settings) - set(names()))
    if unknown:
        hints = "".join(did_you_mean(name, ("epochs", *names())) for name in unknown)
        raise ConfigError(f"unknown training option {', '.join(unknown)}; {hints}valid: epochs, {', '.join(names())}")
    return TrainConfig(**settings)
