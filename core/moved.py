"""Deprecated import paths and names, kept working until zoo-core :data:`REMOVED_IN`, each with one
``DeprecationWarning`` per process that names where it went (timm's ``register_model_deprecations`` pattern).

- :data:`OLD_PATHS`: modules that moved (``import zoo.trainer`` gives the module now at ``zoo.training.trainer``,
  the same object, so patching either patches both); the finder is installed by ``zoo/__init__.py``.
- :data:`OLD_NAMES`: names that left a module (``from zoo.callbacks import MetricsLog``); the module's
  ``__getattr__`` calls :func:`old_name`.
- :func:`deprecated`: the one warning, for any other shim (a renamed attribute, say).

Add an entry to either table, and a row to docs/deprecations.md (a test checks that each is there). Data is not an
API: old checkpoints and run records load without a warning. New code imports the new paths.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

REMOVED_IN = "1.0"
"""The zoo-core version that removes every deprecated path and name below."""

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
    "zoo.evaluation.figures": "zoo.outputs.figures",
    "zoo.store.export": "zoo.sharing.export",
    "zoo.training.optimizer_steps": "zoo.optimization.steps",
}
"""Old module path -> where the module lives now (since when: docs/deprecations.md)."""

OLD_NAMES = {
    "zoo.DuplicateModelError": "zoo.registry.lookup.DuplicateNameError",
    "zoo.registry.DuplicateModelError": "zoo.registry.lookup.DuplicateNameError",
    "zoo.registry.models.DuplicateModelError": "zoo.registry.lookup.DuplicateNameError",
    **{f"zoo.callbacks.{name}": f"zoo.training.default_callbacks.{name}"
       for name in ("MetricsLog", "Validation", "SampleGrids", "Checkpointing", "LossPlot", "Evaluation")},
    "zoo.callbacks.Report": "zoo.training.default_callbacks.ReportPage",
    "zoo.outputs.images.to_float": "zoo.datasets.pixels.to_float",
}
"""Old ``module.name`` -> ``module.name`` where it lives now."""

_warned: set[str] = set()


def deprecated(old: str, new: str, stacklevel: int = 2) -> None:
    """Warn, once per process, that ``old`` is deprecated for ``new`` and goes in zoo-core :data:`REMOVED_IN`;
    ``stacklevel`` counts from the caller of this function, as :func:`warnings.warn` does from its own."""
    if old not in _warned:
        _warned.add(old)
        warnings.warn(f"{old} is deprecated and goes in zoo-core {REMOVED_IN}: use {new} instead", DeprecationWarning,
                      stacklevel=stacklevel + 1)


def old_name(module: str, name: str):
    """What ``module.name`` was, from where it lives now, with the warning: a module's ``__getattr__`` calls this
    (raising AttributeError, as Python expects, for a name that never was)."""
    new = OLD_NAMES.get(f"{module}.{name}")
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    where, _, attribute = new.rpartition(".")
    deprecated(f"{module}.{name}", new, stacklevel=3)  # the frame that named it, past __getattr__
    return getattr(importlib.import_module(where), attribute)


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name in OLD_PATHS:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        new = OLD_PATHS[spec.name]
        deprecated(spec.name, new, stacklevel=2)  # the import statement: warnings skips importlib's own frames
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # already executed under its new name


def install() -> None:
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
