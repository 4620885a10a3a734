"""The registry: the plugin host (:mod:`zoo.registry.plugin_host`: entry points, hooks, failures), the lookup of
every kind plugins register (:mod:`zoo.registry.lookup`: models, losses, penalties, datasets, callbacks,
feature spaces), configs built with the registered names (:mod:`zoo.registry.configs`) and the models' face in the
style of timm (:mod:`zoo.registry.models`).

``from zoo.registry import create_model`` works as it did when this was one module."""

from zoo import moved
from zoo.registry.lookup import DuplicateNameError
from zoo.registry.models import ModelSpec, UnknownModelError, create_model, get_model, list_models

__all__ = ["ModelSpec", "list_models", "get_model", "create_model", "UnknownModelError", "DuplicateNameError"]


def __getattr__(name: str):
    return moved.old_name(__name__, name)  # DuplicateModelError, with its warning
