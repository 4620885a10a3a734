"""zoo: a plugin-based generative model zoo on PyTorch.

``import zoo`` is cheap (no torch): the registry, the hook marker and the errors load at once; the torch-backed
building blocks (``zoo.Architecture``, ``zoo.GAN``, ``zoo.Trainer``, ``zoo.train``, ...) load on first access.
"""

from importlib import import_module
from importlib.metadata import version as _version

from .errors import CheckpointError, ConfigError, DataError, PluginError, TrainingError, ZooError
from .hookspecs import API_VERSION, hookimpl
from .lookup import UnknownNameError, list_registered
from .registry import DuplicateModelError, ModelSpec, UnknownModelError, create_model, get_model, list_models

__version__ = _version("zoo-core")

_LAZY = {
    "Architecture": "zoo.architecture",
    "Batch": "zoo.architecture",
    "GAN": "zoo.gan",
    "Generator": "zoo.networks",
    "Discriminator": "zoo.networks",
    "Callback": "zoo.callbacks",
    "Trainer": "zoo.trainer",
    "TrainConfig": "zoo.train_config",
    "train": "zoo.trainer",
    "RunFolder": "zoo.run",
    "eval_mode": "zoo.architecture",
    "load_checkpoint": "zoo.checkpoint",
    "load_model": "zoo.checkpoint",
    "save_checkpoint": "zoo.checkpoint",
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
