"""The model registry: what programs and the CLI look architectures up in (in the style of timm's).

    >>> import zoo
    >>> zoo.list_models("*gan*")
    ['cgan', 'dcgan', 'wgan-gp']
    >>> model = zoo.create_model("dcgan", latent_dim=64)

The registry is gathered from the plugins' hooks once per state of the plugin host and cached
(:func:`zoo.registry.lookup.registered`): a plugin registered or unregistered at run time is seen at the next call.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from zoo.registry.configs import build_config, describe
from zoo.errors import DataError, PluginError
from zoo.registry.lookup import DuplicateNameError, Registration, UnknownModelError, list_registered, lookup

DEFAULT_DATA_SHAPE = (1, 28, 28)


def __getattr__(name: str):  # DuplicateModelError, DuplicateNameError's old name: a warning, then the class
    return importlib.import_module("zoo.moved").old_name(__name__, name)


__all__ = ["ModelSpec", "list_models", "get_model", "create_model", "UnknownModelError"]


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
    sampling_class: type | None = None

    @classmethod
    def from_registration(cls, reg: Registration) -> "ModelSpec":
        extras = reg.extras
        return cls(reg.name, reg.summary, reg.plugin, reg.distribution, reg.version, extras["config"], reg.value,
                   tuple(tuple(s) for s in extras.get("data_shapes", (DEFAULT_DATA_SHAPE,))),
                   dict(extras.get("train_defaults", {})), extras.get("sampling"))

    @property
    def default_config(self) -> Any:
        return self.config_class()

    def describe_config(self):
        return describe(self.config_class)

    def describe_sampling(self):
        """The sampling options (``zoo sample NAME --steps 10``), as :meth:`describe_config` describes the config;
        empty for models that declare none."""
        return describe(self.sampling_class) if self.sampling_class is not None else []

    def is_conditional(self, **overrides: Any) -> bool:
        """Whether the model, with its default config updated by ``overrides``, takes class labels."""
        return self.load().is_conditional(build_config(self.config_class, overrides, model=self.name))

    def load(self) -> Callable:
        """The architecture class, importing its module now if it was registered as a string."""
        if isinstance(self.factory, str):
            module, _, attr = self.factory.partition(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise PluginError(f"model '{self.name}' of plugin '{self.plugin}' ({self.distribution} {self.version}) "
                                  f"points at {self.factory}, which cannot be loaded: {type(exc).__name__}: {exc}") from None
        return self.factory


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of the registered architectures matching the fnmatch ``pattern``."""
    return list_registered("models", pattern)


def get_model(name: str, **recorded: str) -> ModelSpec:
    """The spec registered under ``name``; raises UnknownModelError or DuplicateNameError.

    ``recorded`` (``wanted_by``, ``distribution``, ``version``) says which file named the model, for the message.
    """
    return ModelSpec.from_registration(lookup("models", name, **recorded))


def create_model(name: str, *, data_shape=None, num_classes: int | None = None, **overrides: Any):
    """Build architecture ``name`` with its default config updated by ``overrides``: the one way a model is built.

    ``data_shape`` is (channels, height, width) and defaults to the first shape the model declares.
    """
    spec = get_model(name)
    config = build_config(spec.config_class, overrides, model=name)
    cls = spec.load()
    if cls.is_conditional(config) and not num_classes:
        raise DataError(f"{name} is conditional: it needs a labelled dataset (a folder with one subfolder per class, "
                        "or an .npz with 'labels'; from Python, pass num_classes)")
    shape = tuple(data_shape) if data_shape is not None else spec.data_shapes[0]
    model = cls(config, data_shape=shape, num_classes=num_classes)
    model.name = name
    if spec.sampling_class is not None:
        model.sampling = spec.sampling_class()
    return model
