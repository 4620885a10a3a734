"""The model registry: what programs and the CLI look architectures up in (in the style of timm's).

    >>> import zoo
    >>> zoo.list_models("*gan*")
    ['cgan', 'dcgan', 'wgan-gp']
    >>> model = zoo.create_model("dcgan", latent_dim=64)

The registry is rebuilt from the plugins on each call: calling the hooks costs microseconds (the entry points
are imported once per process), and it means a plugin registered at run time is seen at once.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from . import plugins
from .collect import DuplicateNameError, collect
from .config import build_config, describe, to_dict
from .errors import DataError

DEFAULT_DATA_SHAPE = (1, 28, 28)


class UnknownModelError(KeyError):
    """No architecture of that name is registered. The message suggests close names and lists the rest."""

    def __init__(self, message: str, name: str):
        super().__init__(message)
        self.message = message
        self.name = name

    def __str__(self) -> str:
        return self.message


DuplicateModelError = DuplicateNameError


@dataclass(frozen=True)
class ModelSpec:
    """Everything the registry knows of an architecture without building it (torch is not imported)."""

    name: str
    summary: str
    plugin: str
    distribution: str
    version: str
    config_class: type
    factory: Any = field(repr=False)
    data_shapes: tuple[tuple[int, int, int], ...] = (DEFAULT_DATA_SHAPE,)
    train_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def default_config(self) -> Any:
        return self.config_class()

    def config_dict(self) -> dict[str, Any]:
        return to_dict(self.config_class())

    def describe_config(self):
        return describe(self.config_class)

    def load(self) -> Callable:
        """The architecture class, importing its module now if it was registered as a string."""
        if isinstance(self.factory, str):
            module, _, attr = self.factory.partition(":")
            return getattr(importlib.import_module(module), attr)
        return self.factory


def _specs() -> tuple[dict[str, ModelSpec], dict[str, list]]:
    found = collect("register_architectures", "model")
    specs = {}
    for name, reg in found.entries.items():
        extras = reg.extras
        summary = extras.get("summary") or ""
        if not summary and not isinstance(reg.value, str):
            summary = ((reg.value.__doc__ or "").strip().splitlines() or [""])[0]
        specs[name] = ModelSpec(
            name=name,
            summary=summary,
            plugin=reg.plugin,
            distribution=reg.distribution,
            version=reg.version,
            config_class=extras["config"],
            factory=reg.value,
            data_shapes=tuple(tuple(s) for s in extras.get("data_shapes", (DEFAULT_DATA_SHAPE,))),
            train_defaults=dict(extras.get("train_defaults", {})),
        )
    return specs, found.conflicts


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of the registered architectures matching the fnmatch ``pattern``."""
    specs, _ = _specs()
    return sorted(name for name in specs if fnmatch.fnmatchcase(name, pattern))


def get_model(name: str) -> ModelSpec:
    """The spec registered under ``name``; raises UnknownModelError or DuplicateModelError."""
    specs, conflicts = _specs()
    if name in specs:
        return specs[name]
    if name in conflicts:
        raise DuplicateModelError("model", name, conflicts[name])
    raise UnknownModelError(_unknown_message(name, sorted(specs)), name)


def _unknown_message(name: str, known: list[str]) -> str:
    parts = [f"unknown model '{name}'"]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        parts.append("did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
    parts.append("registered: " + (", ".join(known) if known else "none"))
    broken = [info for info in plugins.failures() if info.name != plugins.BUILTIN_PLUGIN]
    for info in broken:
        parts.append(f"plugin {info.label} failed to load ({info.errors[0]})")
    return "; ".join(parts)


def create_model(name: str, *, data_shape=None, num_classes: int | None = None, **overrides: Any):
    """Build architecture ``name`` with its default config updated by ``overrides``.

    ``data_shape`` is (channels, height, width) and defaults to the first shape the model declares.
    """
    spec = get_model(name)
    config = build_config(spec.config_class, overrides, model=name)
    cls = spec.load()
    if getattr(cls, "conditional", False) and not num_classes:
        raise DataError(f"{name} is conditional: it needs a labelled dataset (a folder with one subfolder per class, "
                        "or an .npz with 'labels'; from Python, pass num_classes)")
    shape = tuple(data_shape) if data_shape is not None else spec.data_shapes[0]
    model = cls(config, data_shape=shape, num_classes=num_classes)
    model.name = name
    return model
