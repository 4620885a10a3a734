"""zoo: a plugin-based generative model zoo on PyTorch.

``import zoo`` is cheap (no torch): the registry, the hook marker and the errors load at once; the torch-backed
building blocks (``zoo.Architecture``, ``zoo.GAN``, ``zoo.Trainer``, ``zoo.train``, ...) load on first access.

zoo logs what it does under the ``zoo`` logger (shown by the ``zoo`` command; a program sees it where it configures
logging) and warns with :class:`ZooWarning` where a user should change something. A program silences both with
``logging.getLogger("zoo").setLevel(logging.ERROR)`` and
``warnings.filterwarnings("ignore", category=zoo.ZooWarning)``. Deprecated paths warn once each
(docs/deprecations.md).
"""

import logging
from importlib import import_module

from zoo import moved
from zoo.errors import CheckpointError, ConfigError, DataError, PluginError, TrainingError, ZooError, ZooWarning
from zoo.hookspecs import API_VERSION, hookimpl
from zoo.registry import lookup as _lookup
from zoo.training import options as _training_options
from zoo.registry.lookup import DuplicateNameError, UnknownNameError, list_registered
from zoo.registry.models import ModelSpec, UnknownModelError, create_model, get_model, list_models
from zoo.version import __version__

moved.install()
_lookup.TRAINING_OPTIONS[:] = _training_options.fields()  # the keys train_defaults may give (the registry can't ask)
logging.getLogger("zoo").addHandler(logging.NullHandler())  # the program decides where zoo's records go

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
    return moved.old_name(__name__, name)  # a deprecated name, with its warning, or AttributeError


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
    "DuplicateNameError",
    "ZooError",
    "ZooWarning",
    "PluginError",
    "ConfigError",
    "DataError",
    "CheckpointError",
    "TrainingError",
    *_LAZY,
]
