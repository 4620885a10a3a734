"""The model registry: what programs and the CLI look architectures up in (in the style of timm's).

    >>> import zoo
    >>> zoo.list_models("*gan*")
    ['cgan', 'dcgan', 'wgan-gp']
    >>> model = zoo.create_model("dcgan", latent_dim=64)

The registry is gathered from the plugins' hooks once per state of the plugin host and cached
(:func:`zoo.registry.lookup.registered`): a plugin registered or unregistered at run time is seen at the next call.
"""

from __future__ import annotations

import contextvars
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from zoo.registry.configs import build_config, describe
from zoo.errors import DataError, PluginError
from zoo.registry.lookup import DuplicateNameError, Registration, UnknownModelError, list_registered, lookup
from zoo.registry.plugin_host import load_reference

DEFAULT_DATA_SHAPE = (1, 28, 28)


def __getattr__(name: str):  # DuplicateModelError, DuplicateNameError's old name: a warning, then the class
    return importlib.import_module("zoo.moved").old_name(__name__, name)


__all__ = ["ModelSpec", "list_models", "get_model", "create_model", "identity_of", "Identity", "UnknownModelError"]


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
        return load_reference(self.factory, f"model '{self.name}' of plugin '{self.plugin}' ({self.distribution} "
                                            f"{self.version})")


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of the registered architectures matching the fnmatch ``pattern``."""
    return list_registered("models", pattern)


def get_model(name: str, **recorded: str) -> ModelSpec:
    """The spec registered under ``name``; raises UnknownModelError or DuplicateNameError.

    ``recorded`` (``wanted_by``, ``distribution``, ``version``) says which file named the model, for the message.
    """
    return ModelSpec.from_registration(lookup("models", name, **recorded))


def create_model(name: str, *, data_shape=None, num_classes: int | None = None,
                 sampling_defaults: Mapping[str, Any] | None = None, **overrides: Any):
    """Build architecture ``name`` with its default config updated by ``overrides``: the one way a model is built,
    laid out in the architecture's :attr:`~zoo.Architecture.memory_format` (as it trains, so a model built here and
    the same weights loaded from a checkpoint draw identical images).

    ``data_shape`` is (channels, height, width) and defaults to the first shape the model declares.
    ``sampling_defaults`` replace the declared defaults of the model's sampling options (a model folder's stored
    settings).
    """
    spec = get_model(name)
    config = build_config(spec.config_class, overrides, model=name)
    cls = spec.load()
    if cls.is_conditional(config) and not num_classes:
        raise DataError(f"{name} is conditional: it needs a labelled dataset (a folder with one subfolder per class, "
                        "or an .npz with 'labels'; from Python, pass num_classes)")
    shape = tuple(data_shape) if data_shape is not None else spec.data_shapes[0]
    token = _building.set((cls, Identity(name, spec.sampling_class, dict(sampling_defaults or {}))))
    try:
        model = cls(config, data_shape=shape, num_classes=num_classes)
    finally:
        _building.reset(token)
    if cls.memory_format == "channels_last":
        import torch  # here: the registry lists models without torch

        model = model.to(memory_format=torch.channels_last)
    return model


@dataclass(frozen=True)
class Identity:
    """What a model learns from the registry as it is constructed: its registered name, its sampling options'
    dataclass (None: it has none) and the default settings a model folder stored for them (over the declared ones)."""

    name: str
    sampling_class: type | None = None
    sampling: Mapping[str, Any] = field(default_factory=dict)


_building: contextvars.ContextVar[tuple[type, Identity] | None] = contextvars.ContextVar("zoo_building", default=None)


def identity_of(cls: type) -> Identity:
    """The identity of a model of class ``cls`` under construction: what :func:`create_model` passes, or, for a
    class built with its own constructor, the registration that names it (its class name in lower case when none
    or several do)."""
    building = _building.get()
    if building is not None and building[0] is cls:
        return building[1]
    path = f"{cls.__module__}:{cls.__qualname__}"
    found = [spec for spec in _specs() if spec.factory in (cls, path)]
    if len(found) == 1:
        return Identity(found[0].name, found[0].sampling_class)
    return Identity(cls.__name__.lower())


def _specs() -> Iterator[ModelSpec]:
    for name in list_models():
        try:
            yield get_model(name)
        except PluginError:  # a name two plugins register: not one identity
            continue
