"""Architecture configs are dataclasses; this module describes, validates and parses them.

Declare a field with :func:`option` to give it one-line help and, where it has a fixed set of values, its
choices (a tuple, or a registered kind such as ``"losses"`` whose names are the choices) or a minimum. Values arrive as strings from ``--set key=value`` or as TOML values; both are checked against the
field's type here, so a typo fails before any model is built. Whole numbers stay within
``INT_MINIMUM..INT_MAXIMUM`` (32-bit) unless the field declares its own bounds, so ``--set width=2**63`` is
refused here rather than by torch.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import math
import typing
from dataclasses import dataclass
from typing import Any

from zoo.errors import ConfigError

INT_MAXIMUM = 2**31 - 1
"""The largest value an int option takes when it declares no ``maximum`` (``INT_MINIMUM`` the smallest)."""
INT_MINIMUM = -(2**31)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def option(default: Any = dataclasses.MISSING, help: str = "", choices: tuple | str | None = None,
           minimum: float | None = None, maximum: float | None = None, before: Any = dataclasses.MISSING) -> Any:
    """A config field with a default, one line of help and optional allowed values.

    ``choices`` is a tuple of values or the name of a registered kind (``"losses"``, ``"penalties"``, ...);
    ``minimum`` and ``maximum`` bound numbers (inclusive). Floats must be finite in any case; ints without their
    own bounds stay within ``INT_MINIMUM..INT_MAXIMUM``. A callback's option declares the same in its annotation,
    without the default (the parameter's): ``patience: Annotated[int, option(help="...", minimum=1)] = 5``.
    ``before`` is what a stored config without this key meant (a checkpoint or run from a version that had no such
    option): an option added with a default other than the old behaviour says what the old behaviour was.
    """
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices, "minimum": minimum,
                                                        "maximum": maximum, "before": before})


def as_recorded(config_cls: type, stored: dict) -> dict:
    """``stored`` (a config read from a checkpoint, model folder or run) with each key it lacks that declares
    ``before`` filled with that value, so a record from before an option keeps meaning what it meant."""
    if config_cls is None:
        return stored
    missing = {f.name: f.metadata["before"] for f in dataclasses.fields(config_cls) if f.name not in stored
               and f.metadata.get("before", dataclasses.MISSING) is not dataclasses.MISSING}
    return {**missing, **stored}


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple | None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def type_name(self) -> str:
        if self.choices:
            return "|".join(str(c) for c in self.choices)
        return getattr(self.type, "__name__", str(self.type))


def _checks(config_cls: type, name: str, key: str) -> Any:
    """A field's ``help``/``choices``/``minimum``/``maximum``, inherited from a base config when a subclass only
    changes the default (``width: int = option(48)`` keeps GANConfig's help and minimum)."""
    for cls in config_cls.__mro__:
        found = getattr(cls, "__dataclass_fields__", {}).get(name)
        if found is not None and found.metadata.get(key) not in (None, ""):
            return found.metadata[key]
    return None


def renamed(config_cls: type) -> dict[str, str]:
    """Old key -> new key for the config's renamed fields (a ``RENAMED`` class attribute, e.g. GANConfig's
    ``gp_weight`` -> ``penalty_weight``), leaving out old keys a subclass still declares as fields of its own."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {old: new for old, new in getattr(config_cls, "RENAMED", {}).items() if old not in names}


def describe(config_cls: type, names: typing.Callable[[str], typing.Iterable[str]] | None = None) -> list[FieldInfo]:
    """The fields of a config dataclass, in declaration order. ``names`` gives the names registered under a kind,
    for fields whose choices are a kind (``choices="losses"``); without it such a field's choices stay open (None).
    :mod:`zoo.registry.configs` passes the registry's names: what a kind holds is the registry's to say."""
    hints = typing.get_type_hints(config_cls)
    out = []
    for f in dataclasses.fields(config_cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        choices = _checks(config_cls, f.name, "choices")
        if isinstance(choices, str):
            choices = tuple(names(choices)) if names is not None else None
        out.append(FieldInfo(f.name, hints[f.name], default, _checks(config_cls, f.name, "help") or "", choices,
                             _checks(config_cls, f.name, "minimum"), _checks(config_cls, f.name, "maximum")))
    return out


def _coerce(info: FieldInfo, value: Any) -> Any:
    kind = info.type
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("expected true or false")
    if kind is int:
        if isinstance(value, str):  # "64", or "1e8" as TOML would read it
            try:
                return int(value.strip())
            except ValueError:
                try:
                    value = float(value)
                except ValueError:
                    raise ValueError("expected an integer") from None
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("expected an integer")
        return int(value)
    if kind is float:
        if isinstance(value, bool):
            raise ValueError("expected a number")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        return number
    if kind is str:
        return str(value)
    raise ValueError(f"unsupported config type {kind!r}")


def check_value(info: FieldInfo, raw: Any, label: str) -> Any:
    """``raw`` (a string or TOML value) as the field's type, checked; ``label`` names the field in errors."""
    try:
        value = _coerce(info, raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad value {raw!r} for {label} ({info.type_name}): {exc}") from None
    if info.choices is not None and value not in info.choices:
        allowed = ", ".join(str(c) for c in info.choices) or "none is registered"
        raise ConfigError(f"bad value {raw!r} for {label}; choose one of: {allowed}")
    minimum, maximum = info.minimum, info.maximum
    if info.type is int:
        minimum = INT_MINIMUM if minimum is None else minimum
        maximum = INT_MAXIMUM if maximum is None else maximum
    if minimum is not None and value < minimum:
        raise ConfigError(f"{label} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{label} must be at most {maximum}, got {value}")
    return value


def did_you_mean(name: str, known: typing.Iterable[str]) -> str:
    """``"did you mean 'width'? "`` for the names in ``known`` close to ``name`` (as unknown model names get), or ""."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else ""


def build_config(config_cls: type, overrides: dict[str, Any] | None = None, *, model: str = "model",
                 kind: str = "config key", names: typing.Callable[[str], typing.Iterable[str]] | None = None) -> Any:
    """A config instance with ``overrides`` applied; raises ConfigError naming the valid keys on a bad one.
    ``kind`` names what the keys are in messages (``config key``, ``sampling option``); ``names`` is as for
    :func:`describe`."""
    fields = {f.name: f for f in describe(config_cls, names)}
    aliases = renamed(config_cls)
    values = {}
    for key, raw in (overrides or {}).items():
        norm = key.replace("-", "_")
        norm = aliases.get(norm, norm)
        if norm not in fields:
            valid = ", ".join(f"{f.name} ({f.type_name})" for f in fields.values())
            hint = did_you_mean(norm, fields)
            raise ConfigError(f"unknown {kind} '{key}' for {model}; {hint}valid {kind.split()[-1]}s: {valid}")
        values[norm] = check_value(fields[norm], raw, f"{model} {kind} '{norm}'")
    return config_cls(**values)


def parse_assignments(items: typing.Iterable[str], flag: str = "--set") -> dict[str, str]:
    """Parse ``key=value`` strings as given to ``--set`` (or to ``flag``)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


SIMPLE_TYPES = (bool, int, float, str)


def _declared(factory: typing.Callable) -> dict[str, tuple[Any, dict]]:
    """Each parameter's annotated type and the checks an ``option(...)`` in its ``Annotated`` metadata declares."""
    try:
        hints = typing.get_type_hints(factory.__init__ if inspect.isclass(factory) else factory, include_extras=True)
    except Exception:  # an annotation that cannot be resolved: the options stay typed by their defaults
        return {}
    out = {}
    for name, hint in hints.items():
        checks: dict = {}
        if typing.get_origin(hint) is typing.Annotated:
            hint, *extras = typing.get_args(hint)
            checks = next((e.metadata for e in extras if isinstance(e, dataclasses.Field)), {})
        out[name] = (hint, checks)
    return out


def describe_callable(factory: typing.Callable,
                      names: typing.Callable[[str], typing.Iterable[str]] | None = None) -> list[FieldInfo]:
    """The keyword options a factory takes (a callback's, say), typed by their defaults; a parameter without a
    default is required and typed by its annotation, else taken as a string. An ``option(help=, choices=,
    minimum=, maximum=)`` in a parameter's ``Annotated`` annotation gives its help and checks; ``names`` is as for
    :func:`describe`."""
    declared, fields = _declared(factory), []
    for p in inspect.signature(factory).parameters.values():
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        annotated, checks = declared.get(p.name, (p.annotation, {}))
        kind = type(p.default) if p.default not in (p.empty, None) else annotated
        choices = checks.get("choices")
        if isinstance(choices, str):
            choices = tuple(names(choices)) if names is not None else None
        fields.append(FieldInfo(p.name, kind if kind in SIMPLE_TYPES else str,
                                dataclasses.MISSING if p.default is p.empty else p.default, checks.get("help") or "",
                                choices, checks.get("minimum"), checks.get("maximum")))
    return fields


def build_options(factory: typing.Callable, options: dict[str, Any], what: str,
                  names: typing.Callable[[str], typing.Iterable[str]] | None = None) -> dict[str, Any]:
    """``options`` checked against what ``factory`` accepts and converted to its types (a ConfigError if not)."""
    fields = {f.name: f for f in describe_callable(factory, names)}
    out = {}
    for key, raw in options.items():
        if key not in fields:
            raise ConfigError(f"unknown option '{key}' for {what}; {did_you_mean(key, fields)}"
                              f"it takes: {', '.join(fields) or 'no options'}")
        out[key] = check_value(fields[key], raw, f"{what} option '{key}'")
    missing = [f.name for f in fields.values() if f.default is dataclasses.MISSING and f.name not in out]
    if missing:
        raise ConfigError(f"{what} needs the option{'s' if len(missing) > 1 else ''} {', '.join(missing)} (NAME:key=value)")
    return out


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)
