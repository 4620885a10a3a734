"""The run record: what ``config.json`` says of a run, written when each training session starts."""

from __future__ import annotations

import dataclasses

from zoo.config import to_dict
from zoo.registry.models import get_model
from zoo.training import callback_specs
from zoo.training.distributed import BACKENDS
from zoo.version import __version__

RECORD_FORMAT = "zoo-run/2"


def run_record(trainer) -> dict:
    """The record of the run ``trainer`` is training."""
    import torch

    model, data = trainer.model, trainer.data
    spec = get_model(model.name)
    return {
        "format": RECORD_FORMAT,
        "model": model.name,
        "config": to_dict(model.config),
        "train": dataclasses.asdict(trainer.config),
        "data": {"source": data.source, "part": data.part, "heldout": trainer.heldout_data is not None,
                 "shape": list(data.shape), "num_classes": data.num_classes, "train_images": len(data),
                 "classes": list(data.classes) if data.classes else None},
        "plugin": {"distribution": spec.distribution, "version": spec.version},
        "callbacks": [callback_specs.entry(name, options) for name, options in trainer.callback_specs],
        "versions": {"zoo-core": __version__, spec.distribution: spec.version, "torch": torch.__version__},
        "device": str(trainer.device),
        "precision": {"used": trainer.precision.used, "why": trainer.precision.why},
        "world": {"size": trainer.world.size, "backend": BACKENDS.get(trainer.device.type, "gloo")},
        "created": trainer.created,
        "init_from": trainer.init_from,
        "budget": trainer.budget,
    }
