"""Import paths of modules that have moved into rooms, kept working: ``import zoo.trainer`` gives the module now at
``zoo.training.trainer`` (the same object, so patching either patches both). Installed by ``zoo/__init__.py``;
new code imports the new paths."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

OLD_PATHS = {
    "zoo.plugins": "zoo.registry.plugin_host",
    "zoo.lookup": "zoo.registry.lookup",
    "zoo.train_config": "zoo.training.options",
    "zoo.trainer": "zoo.training.trainer",
    "zoo.run": "zoo.training.plan",
    "zoo.distributed": "zoo.training.distributed",
    "zoo.batches": "zoo.training.batches",
    "zoo.checkpoint": "zoo.store.checkpoint",
    "zoo.atomic": "zoo.store.atomic",
    "zoo.paths": "zoo.store.paths",
    "zoo.images": "zoo.outputs.images",
    "zoo.plots": "zoo.outputs.plots",
    "zoo.report": "zoo.outputs.report",
    "zoo.latent": "zoo.outputs.latent_walk",
}
"""Old path -> where the module lives now (zoo-core 0.5, plugin API 1.4)."""


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name in OLD_PATHS:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(OLD_PATHS[spec.name])

    def exec_module(self, module):
        pass  # already executed under its new name


def install() -> None:
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
