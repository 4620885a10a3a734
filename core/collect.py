"""Collect what plugins register through a ``register_*`` hook into one name -> Registration table.

One mechanism serves architectures, losses, datasets and callbacks. A name registered by two plugins is a
conflict: it is left out of the table, reported once naming both distributions, and looking it up raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import plugins


@dataclass(frozen=True)
class Registration:
    name: str
    value: Any
    plugin: str
    distribution: str
    version: str
    extras: dict = field(default_factory=dict)


@dataclass
class Collected:
    entries: dict[str, Registration]
    conflicts: dict[str, list[Registration]]


def _conflict_message(kind: str, name: str, regs: list[Registration]) -> str:
    who = " and ".join(f"{plugins.plugin_info(r.plugin).source} (plugin '{r.plugin}')" for r in regs)
    return f"{kind} '{name}' is registered by both {who}; uninstall one of them"


class DuplicateNameError(plugins.PluginError):
    def __init__(self, kind: str, name: str, regs: list[Registration]):
        super().__init__(_conflict_message(kind, name, regs))
        self.name = name
        self.registrations = regs


def collect(hook_name: str, kind: str) -> Collected:
    """Run ``hook_name`` over every plugin and gather its registrations."""
    seen: dict[str, list[Registration]] = {}
    current = {"plugin": plugins.BUILTIN_PLUGIN}

    def register(name: str, value: Any = None, **extras: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{kind} names must be non-empty strings, got {name!r}")
        info = plugins.plugin_info(current["plugin"])
        seen.setdefault(name, []).append(
            Registration(name, value, info.name, info.distribution, info.version, dict(extras))
        )

    plugins.call_hook(hook_name, on_plugin=lambda name: current.update(plugin=name), register=register)

    entries, conflicts = {}, {}
    for name, regs in seen.items():
        owners = {r.plugin for r in regs}
        if len(owners) > 1:
            conflicts[name] = regs
            plugins.record_failure(regs[-1].plugin, hook_name, DuplicateNameError(kind, name, regs))
        else:
            entries[name] = regs[-1]
    return Collected(entries, conflicts)
