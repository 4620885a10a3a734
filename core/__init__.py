"""zoo: a plugin-based generative model zoo on PyTorch.

``import zoo`` is cheap (no torch): the registry, the hook marker and the errors load at once; the torch-backed
building blocks (``zoo.Architecture``, ``zoo.GAN``, ``zoo.Trainer``, ``zoo.train``, ...) load on first access.
"""

from importlib import import_module

from zoo import moved
from zoo.errors import CheckpointError, ConfigError, DataError, PluginError, TrainingError, ZooError
from zoo.hookspecs import API_VERSION, hookimpl
from zoo.registry.lookup import UnknownNameError, list_registered
from zoo.registry.models import DuplicateModelError, ModelSpec, UnknownModelError, create_model, get_model, list_models
from zoo.version import __version__

moved.install()

_LAZY = {
    "Architecture": "zoo.architecture",
    "Batch": "zoo.architecture",
    "GAN": "zoo.gan",
    "Generator": "zoo.networks",
    "Discriminator": "zoo.networks",
    "Callback": "zoo.callbacks",
    "Trainer": "zoo.training.trainer",
    "TrainConfig": "zoo.training.options",
    "train": "zoo.training.trainer",
    "RunFolder": "zoo.store.run_folder",
    "atomic_write": "zoo.store.atomic",
    "eval_mode": "zoo.architecture",
    "load_checkpoint": "zoo.store.checkpoint",
    "load_model": "zoo.store.checkpoint",
    "save_checkpoint": "zoo.store.checkpoint",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


__all__ = [
    "__version__",
    "API_VERSION",
    "hookimpl",
    "list_models",
    "get_model",
    "create_model",
    "list_registered",
    "ModelSpec",
    "UnknownNameError",
    "UnknownModelError",
    "DuplicateModelError",
    "ZooError",
    "PluginError",
    "ConfigError",
    "DataError",
    "CheckpointError",
    "TrainingError",
    *_LAZY,
]
