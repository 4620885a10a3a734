"""One way to look a name up: every kind of thing plugins register, in one table, with one error style.

Architectures, losses, penalties, datasets, callbacks, feature extractors and samplers are each gathered from their
``register_*`` hook into a name -> :class:`Registration` table. Each registration is checked inside the
registering plugin's guard: a bad one is reported against that plugin and left out. Names: a plugin's
registration replaces zoo's own of the same kind and name (one notice on stderr), so a newer core never takes a
name away from an installed plugin; a name registered by two other plugins is ambiguous: left out, reported
once naming both distributions, and looking it up raises. An
unknown name raises :class:`UnknownNameError`, whose message suggests close names, lists the registered ones,
explains plugins that failed to load and, for a name a checkpoint or run recorded, names the distribution to
install.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Callable

from zoo.config import check_value, did_you_mean
from zoo.registry import plugin_host as plugins
from zoo.errors import DataError, PluginError, ZooError


@dataclass(frozen=True)
class Registration:
    name: str
    value: Any
    plugin: str
    distribution: str
    version: str
    extras: dict = field(default_factory=dict)

    @property
    def summary(self) -> str:
        if self.extras.get("summary"):
            return str(self.extras["summary"])
        doc = "" if isinstance(self.value, str) else (getattr(self.value, "__doc__", None) or "")
        return (doc.strip().splitlines() or [""])[0]

    @property
    def source(self) -> str:
        return plugins.plugin_info(self.plugin).source


def _callable(reg: Registration) -> None:
    if not callable(reg.value):
        raise TypeError(f"'{reg.name}' must be registered with a callable, got {type(reg.value).__name__}")


RESERVED_SAMPLING_NAMES = frozenset({"n", "count", "out", "seed", "label", "interpolate", "device", "force", "scale",
                                     "samples", "data", "features", "iw_samples", "json", "help", "progress"})
"""Names of the options ``zoo sample`` and ``zoo eval`` have of their own: a model's sampling options cannot use them."""


TRAINING_OPTIONS: list = []
"""The training options (``zoo.training.options.fields()``), the keys ``train_defaults`` may give. The registry sits
below training and cannot import it; ``zoo/__init__`` hands them over."""


def _train_defaults(reg: Registration) -> None:
    defaults, known = reg.extras.get("train_defaults", {}), {f.name: f for f in TRAINING_OPTIONS}
    if not isinstance(defaults, dict):
        raise TypeError(f"'{reg.name}': train_defaults= must be a dict of training options, got {defaults!r}")
    for key, value in defaults.items():
        if key not in known:
            raise TypeError(f"'{reg.name}': train_defaults key {key!r} is not a training option; "
                            f"{did_you_mean(str(key), known)}valid: {', '.join(known)}")
        try:
            check_value(known[key], value, f"train_defaults {key!r}")
        except ZooError as exc:
            raise ValueError(f"'{reg.name}': {exc}") from None


def _options_class(reg: Registration, key: str, what: str, reserved: frozenset) -> None:
    """``reg.extras[key]``, where given, is a dataclass none of whose fields is named as one of ``reserved``."""
    options = reg.extras.get(key)
    if options is None:
        return
    if not (isinstance(options, type) and dataclasses.is_dataclass(options)):
        raise TypeError(f"'{reg.name}': {key}= must be a dataclass, got {options!r}")
    taken = sorted(reserved & {f.name for f in dataclasses.fields(options)})
    if taken:
        raise TypeError(f"'{reg.name}': {what} {', '.join(taken)} would shadow an option of zoo sample or zoo eval; "
                        "rename it")


def _architecture(reg: Registration) -> None:
    if not (callable(reg.value) or (isinstance(reg.value, str) and ":" in reg.value)):
        raise TypeError(f"'{reg.name}': the factory must be an Architecture subclass or a 'module:Class' string")
    config = reg.extras.get("config")
    if not (isinstance(config, type) and dataclasses.is_dataclass(config)):
        raise TypeError(f"'{reg.name}': config= must be a dataclass, got {config!r}")
    _options_class(reg, "sampling", "sampling option", RESERVED_SAMPLING_NAMES)
    if isinstance(reg.value, str) and plugins.strict():  # strict: a factory that cannot load fails its plugin now
        module, _, attr = reg.value.partition(":")
        getattr(importlib.import_module(module), attr)
    shapes = reg.extras.get("data_shapes", [(1, 28, 28)])
    if not (isinstance(shapes, (list, tuple)) and shapes
            and all(isinstance(s, (list, tuple)) and len(s) == 3 and all(isinstance(d, int) and d > 0 for d in s) for s in shapes)):
        raise TypeError(f"'{reg.name}': data_shapes= must be a non-empty list of (channels, height, width), got {shapes!r}")
    _train_defaults(reg)


def _sampler(reg: Registration) -> None:
    if not (callable(reg.value) or (isinstance(reg.value, str) and ":" in reg.value)):
        raise TypeError(f"'{reg.name}': a sampler is a function sample(model, z, labels, settings) or a "
                        "'module:function' string")
    serves = reg.extras.get("serves")
    if not (isinstance(serves, (list, tuple)) and serves and all(isinstance(p, str) and p for p in serves)):
        raise TypeError(f"'{reg.name}': serves= must name the predictions it samples from, e.g. ('epsilon', 'v'), "
                        f"got {serves!r}")
    _options_class(reg, "options", "sampler option", RESERVED_SAMPLING_NAMES | {"sampler", "steps"})
    evaluations = reg.extras.get("evaluations", lambda steps: steps)
    if not callable(evaluations) or not isinstance(evaluations(10), int):
        raise TypeError(f"'{reg.name}': evaluations= must be a function of the steps giving the network evaluations "
                        "per image")


def _adversarial_loss(reg: Registration) -> None:
    if not all(callable(getattr(reg.value, m, None)) for m in ("discriminator", "generator")):
        raise TypeError(f"'{reg.name}' is not an adversarial loss: it needs discriminator(real, fake) and generator(fake)")


ZOOS_OWN = {  # names that zoo's own plugin distributions provide, so a missing one can say what to install
    ("models", "autoencoder"): "zoo-autoencoder", ("models", "vae"): "zoo-vae", ("models", "dcgan"): "zoo-dcgan",
    ("models", "wgan-gp"): "zoo-wgan-gp", ("models", "cgan"): "zoo-cgan", ("models", "ddpm"): "zoo-ddpm",
    ("models", "flow-matching"): "zoo-flow-matching",
    ("callbacks", "tensorboard"): "zoo-tensorboard (also the extra zoo-core[tensorboard])",
}


@dataclass(frozen=True)
class Kind:
    name: str  # singular, for messages
    plural: str  # what users type: zoo list --kind PLURAL, zoo.list_registered(PLURAL)
    hook: str
    check: Callable[[Registration], None] = _callable


KINDS = {kind.plural: kind for kind in (
    Kind("model", "models", "register_architectures", _architecture),
    Kind("loss", "losses", "register_losses", _adversarial_loss),
    Kind("penalty", "penalties", "register_penalties"),
    Kind("dataset", "datasets", "register_datasets"),
    Kind("callback", "callbacks", "register_callbacks"),
    Kind("feature extractor", "features", "register_feature_extractors"),
    Kind("sampler", "samplers", "register_samplers", _sampler),
)}


def kind_of(kind: str) -> Kind:
    if kind not in KINDS:
        raise ZooError(f"unknown kind '{kind}'; choose one of: {', '.join(KINDS)}")
    return KINDS[kind]


class UnknownNameError(ZooError, KeyError):
    """Nothing of that kind is registered under that name. The message says what to do about it."""

    def __init__(self, message: str, kind: str, name: str):
        super().__init__(message)
        self.message, self.kind, self.name = message, kind, name

    def __str__(self) -> str:
        return self.message


class UnknownModelError(UnknownNameError):
    """No architecture of that name is registered (a ``KeyError``, as in timm)."""


class UnknownDatasetError(UnknownNameError, DataError):
    """No dataset of that name is registered (and no file or folder has that path)."""


def _who(reg: Registration) -> str:
    return f"{reg.source} (plugin '{reg.plugin}')" if reg.version else f"plugin '{reg.plugin}'"


class DuplicateNameError(PluginError):
    """Two plugins (neither zoo's own) registered the same name; neither is used until one is uninstalled."""

    def __init__(self, kind: str, name: str, regs: list[Registration]):
        owners = list({r.plugin: r for r in regs}.values())  # one per plugin, in registration order
        who = " and ".join(_who(r) for r in owners)
        super().__init__(f"{kind} '{name}' is ambiguous: registered by both {who}; uninstall one")
        self.name = name
        self.registrations = regs


@dataclass
class _Table:
    entries: dict[str, Registration]
    conflicts: dict[str, list[Registration]]


def _collect(kind: Kind) -> _Table:
    seen: dict[str, list[Registration]] = {}
    current = {"plugin": plugins.BUILTIN_PLUGIN}

    def register(name: str, value: Any = None, **extras: Any) -> None:
        info = plugins.plugin_info(current["plugin"])
        try:
            if not isinstance(name, str) or not name:
                raise TypeError(f"{kind.name} names must be non-empty strings, got {name!r}")
            reg = Registration(name, value, info.name, info.distribution, info.version, dict(extras))
            kind.check(reg)
        except (TypeError, ValueError) as exc:
            plugins.record_failure(info.name, kind.hook, exc)
            return
        seen.setdefault(name, []).append(reg)

    plugins.call_hook(kind.hook, on_plugin=lambda name: current.update(plugin=name), register=register)

    table = _Table({}, {})
    for name, regs in seen.items():
        outside = [r for r in regs if r.plugin != plugins.BUILTIN_PLUGIN]
        if len({r.plugin for r in outside}) > 1:  # two plugins, neither zoo: no rule can choose
            table.conflicts[name] = outside
            conflict = DuplicateNameError(kind.name, name, outside)
            plugins.record_ambiguity(sorted({r.plugin for r in outside}), str(conflict))
        elif outside and len(outside) < len(regs):  # a plugin's name that zoo's own plugin registers too
            table.entries[name] = outside[-1]
            what = f"{kind.name} '{name}'"
            plugins.record_shadowing(outside[-1].plugin, what, f"{what} of {_who(outside[-1])} replaces zoo's own")
        else:
            table.entries[name] = regs[-1]
    return table


_tables: dict[str, tuple[tuple, _Table]] = {}


def _table(kind: Kind) -> _Table:
    """The registrations of ``kind``, gathered once per state of the plugin host: one command looks its model up
    many times, and each gathering would call every plugin's hook again."""
    now = plugins.state()
    cached = _tables.get(kind.plural)
    if cached is None or cached[0] != now:
        cached = _tables[kind.plural] = (now, _collect(kind))
    return cached[1]


def registered(kind: str) -> dict[str, Registration]:
    """Every registration of ``kind`` (``models``, ``losses``, ...) by name."""
    return _table(kind_of(kind)).entries


def taken(kind: str) -> set[str]:
    """Every name of ``kind`` some installed plugin registers, usable or ambiguous."""
    table = _table(kind_of(kind))
    return set(table.entries) | set(table.conflicts)


def list_registered(kind: str, pattern: str = "*") -> list[str]:
    """Sorted names of ``kind`` matching the fnmatch ``pattern``."""
    return sorted(name for name in registered(kind) if fnmatch.fnmatchcase(name, pattern))


def lookup(kind: str, name: str, *, not_found: str = "", wanted_by: str | None = None,
           distribution: str | None = None, version: str | None = None) -> Registration:
    """The registration of ``kind`` called ``name``.

    ``not_found`` adds to the message (e.g. "nor an existing path"); ``wanted_by`` and ``distribution`` say that
    a file recorded the name and which distribution provided it then, so the message can say what to install.
    """
    k = kind_of(kind)
    table = _table(k)
    if name in table.entries:
        return table.entries[name]
    if name in table.conflicts:
        raise DuplicateNameError(k.name, name, table.conflicts[name])
    known = sorted(table.entries)
    ours = ZOOS_OWN.get((k.plural, name))
    installed = next((info for info in plugins.list_plugins() if distribution and info.distribution == distribution
                      and not info.errors), None)
    if wanted_by and installed is not None:
        message = (f"{wanted_by} needs {k.name} '{name}', which the installed {installed.source} does not register"
                   + (f" (it was written with version {version})" if version and version != installed.version else "")
                   + "; registered: " + (", ".join(known) if known else "none"))
    elif wanted_by and (distribution or ours):
        message = (f"{wanted_by} needs {k.name} '{name}', which no installed plugin provides; "
                   f"install {distribution or ours}" + (f" (version {version})" if version else ""))
    elif ours:
        message = f"{k.name} '{name}' comes with {ours}, which is not installed: pip install {ours.split()[0]}"
    else:
        message = f"unknown {k.name} '{name}'{not_found}; "
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        if close:
            message += "did you mean " + " or ".join(f"'{c}'" for c in close) + "? "
        message += "registered: " + (", ".join(known) if known else "none")
    for info in plugins.failures():
        if info.name != plugins.BUILTIN_PLUGIN:
            message += f"; plugin {info.label} failed to load ({info.errors[0]})"
    error = {"models": UnknownModelError, "datasets": UnknownDatasetError}.get(k.plural, UnknownNameError)
    raise error(message, k.plural, name)
