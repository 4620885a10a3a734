"""Configs and callbacks' options described and built with the registry's names: a field declared
``option(choices="losses")`` takes the names registered under that kind. :mod:`zoo.config` parses and checks values
and knows nothing of the registry; which names a kind holds is said here, where they are registered."""

from __future__ import annotations

from typing import Any

from zoo import config
from zoo.registry.lookup import list_registered


def describe(config_cls: type) -> list[config.FieldInfo]:
    """:func:`zoo.config.describe`, a kind's registered names as the choices of a field that names it."""
    return config.describe(config_cls, names=list_registered)


def build_config(config_cls: type, overrides: dict[str, Any] | None = None, **how: Any) -> Any:
    """:func:`zoo.config.build_config` (``model=``, ``kind=`` as there), a value of a field that names a kind
    checked against the names registered under it."""
    return config.build_config(config_cls, overrides, names=list_registered, **how)


def describe_options(factory) -> list[config.FieldInfo]:
    """:func:`zoo.config.describe_callable` (a callback's options), with the registered names as above."""
    return config.describe_callable(factory, names=list_registered)


def build_options(factory, options: dict[str, Any], what: str) -> dict[str, Any]:
    """:func:`zoo.config.build_options`, an option that names a kind checked against the names registered under it."""
    return config.build_options(factory, options, what, names=list_registered)


__all__ = ["describe", "build_config", "describe_options", "build_options"]
