"""Which callbacks a run has: parsed from what the user gave, checked against what each factory takes, built,
and recorded in ``config.json`` so a resume runs the same ones."""

from __future__ import annotations

from zoo.config import parse_assignments
from zoo.registry.configs import build_options
from zoo.registry.lookup import lookup, registered


def default_callbacks() -> list[str]:
    """The callbacks every run has unless told otherwise: those registered with ``default=True``."""
    return [name for name, reg in registered("callbacks").items() if reg.extras.get("default")]


def parse(given) -> dict[str, dict]:
    """``{name: options}`` from registered names, ``"NAME:key=value,key=value"`` strings (as ``--callback``
    takes them), ``(name, options)`` pairs or such a dict; options of a name given twice are merged."""
    specs: dict[str, dict] = {}
    for item in (given.items() if isinstance(given, dict) else given):
        if isinstance(item, str):
            name, _, rest = item.partition(":")
            options = parse_assignments(rest.split(","), flag=f"--callback {name}:") if rest else {}
        else:
            name, options = item
        specs.setdefault(name, {}).update(options or {})
    return specs


def checked(specs: dict[str, dict]) -> dict[str, dict]:
    """Each callback looked up and its options checked against what its factory takes."""
    return {name: build_options(lookup("callbacks", name).value, options, f"callback '{name}'")
            for name, options in specs.items()}


def recorded(saved: dict, wanted_by: str) -> list[tuple[str, dict]]:
    """The callbacks a run record names, each checked to be installed still."""
    entries = [c if isinstance(c, dict) else {"name": c} for c in saved.get("callbacks", [])]
    if saved.get("format") != "zoo-run/2":  # zoo 0.1 recorded only the callbacks added with --callback
        entries = [{"name": n} for n in default_callbacks()] + entries
    for entry in entries:
        lookup("callbacks", entry["name"], wanted_by=wanted_by, distribution=entry.get("distribution"),
               version=entry.get("version"))
    return [(entry["name"], entry.get("options") or {}) for entry in entries]


def entry(name: str, options: dict) -> dict:
    """How the run record names a callback: with its options and the distribution that provided it."""
    reg = lookup("callbacks", name)
    return {"name": name, "options": options, "distribution": reg.distribution, "version": reg.version}


def build(given) -> tuple[list, list[tuple[str, dict]], list[str]]:
    """Callback objects for ``given`` (objects, registered names or (name, options) pairs); the registered ones
    with their options, for the run record; and a key per object for its state in a checkpoint: its registered
    name, or the class name of an object of an unregistered class."""
    factories = {reg.value: name for name, reg in registered("callbacks").items()}
    objects, specs, keys = [], [], []
    for item in given:
        if isinstance(item, (str, tuple)):
            name, options = (item, {}) if isinstance(item, str) else item
            item = lookup("callbacks", name).value(**options)
            specs.append((name, dict(options)))
        elif type(item) in factories:
            name = factories[type(item)]
            specs.append((name, {}))
        else:
            name = type(item).__qualname__
        objects.append(item)
        keys.append(name if name not in keys else f"{name}#{keys.count(name) + 1}")
    return objects, specs, keys
