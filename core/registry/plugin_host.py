"""Find plugins through the ``zoo.plugins`` entry-point group and call their hooks, surviving bad ones.

Each entry point is loaded on its own; one that fails to import, or raises inside a hook, is reported once (a
:class:`~zoo.errors.ZooWarning`, which the ``zoo`` command prints as ``zoo: warning: ...``) and left out while
everything else keeps working. ``ZOO_STRICT_PLUGINS=1`` makes any failure fatal and ``ZOO_LOAD_PLUGINS=a,b``
loads only the named entry points (set but empty: none) besides zoo's own.
zoo's own registrations (losses, datasets, callbacks, ...) are :mod:`zoo.builtins`, an entry point of zoo-core
found like any other plugin's, so nothing here imports a module that imports this one back.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy

from zoo import hookspecs
from zoo.errors import PluginError, ZooNote, ZooWarning

ENTRY_POINT_GROUP = "zoo.plugins"
BUILTIN_PLUGIN = "zoo"
BUILTIN_MODULE = "zoo.builtins"


@dataclass
class PluginInfo:
    """What ``zoo plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not failures: a name it shares with another plugin, or took over
    import_seconds: float | None = None  # what importing it cost every zoo command (torch at import shows here)

    @property
    def source(self) -> str:
        return f"{self.distribution} {self.version}" if self.version else self.distribution

    @property
    def label(self) -> str:
        return f"'{self.name}' ({self.source})"


_manager: pluggy.PluginManager | None = None
_infos: dict[str, PluginInfo] = {}
_said: set[str] = set()  # what was said already (as a ZooWarning): each once per process
_generation = 0  # counts resets, so state() never matches one from before


def strict() -> bool:
    return os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0")


def _allowed_names() -> set[str] | None:
    raw = os.environ.get("ZOO_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def note_problem(plugin: str, stage: str, exc: BaseException) -> tuple["PluginInfo", str]:
    """Add a problem to what ``zoo plugins`` shows for ``plugin``, without a warning."""
    info = _infos.setdefault(plugin, PluginInfo(plugin, "unknown", "unknown"))
    message = f"{stage}: {_one_line(exc)}"
    if message not in info.errors:
        info.errors.append(message)
    return info, message


def record_failure(plugin: str, stage: str, exc: BaseException) -> None:
    """Note that ``plugin`` failed at ``stage`` (``import`` or a hook name); warn once, or raise when strict."""
    info, message = note_problem(plugin, stage, exc)
    text = f"plugin {info.label} failed in {message}"
    if strict():
        raise PluginError(text + " (ZOO_STRICT_PLUGINS is set)") from exc
    _say_once(ZooWarning, text)


def _say_once(category: type[ZooWarning], text: str) -> None:
    if text not in _said:
        _said.add(text)
        warnings.warn(text, category, stacklevel=3)


def _note(plugin: str, text: str) -> None:
    info = plugin_info(plugin)
    if text not in info.notes:
        info.notes.append(text)


def record_ambiguity(plugins: list[str], text: str) -> None:
    """Two plugins registered one name, so neither registration is used: no one plugin failed. Both show
    ``text`` in ``zoo plugins``; it is said once as a ZooWarning, or raised when strict."""
    for plugin in plugins:
        _note(plugin, text)
    if strict():
        raise PluginError(text + " (ZOO_STRICT_PLUGINS is set)")
    _say_once(ZooWarning, text)


def record_shadowing(plugin: str, what: str, notice: str) -> None:
    """``plugin`` registered ``what`` (``"loss 'ragan'"``) under a name zoo's own plugin uses too, and its
    registration wins: ``notice`` is said once (a ZooNote), never fatal; ``zoo plugins`` shows it for both."""
    _note(plugin, f"replaces zoo's {what}")
    _note(BUILTIN_PLUGIN, f"{what} replaced by plugin '{plugin}'")
    _say_once(ZooNote, notice)


@contextlib.contextmanager
def guarded(plugin: str, stage: str):
    """Run a plugin's code so that whatever it raises is recorded against it: any exception, ``sys.exit()``
    (the "optional dependency missing" idiom), even a KeyboardInterrupt it raises itself. Only a real Ctrl-C
    from the user, seen by a SIGINT handler installed meanwhile, still stops zoo."""
    pressed: list[bool] = []
    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_sigint(signum, frame):
            pressed.append(True)
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    except PluginError:
        raise
    except BaseException as exc:
        if pressed or (isinstance(exc, KeyboardInterrupt) and previous is None):
            raise
        record_failure(plugin, stage, exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class IncompatiblePlugin(Exception):
    """The plugin declares a ``ZOO_API`` this core does not provide."""


def _check_api(module, info: PluginInfo) -> None:
    declared = getattr(module, "ZOO_API", None)
    if declared is None:
        return  # plugins that declare nothing keep loading
    ours = tuple(int(x) for x in hookspecs.API_VERSION.split("."))
    try:
        wanted = tuple(int(x) for x in str(declared).split("."))[:2] + (0,) * (2 - len(str(declared).split(".")))
    except ValueError:
        raise IncompatiblePlugin(f"ZOO_API = {declared!r} is not a MAJOR.MINOR version") from None
    if wanted[0] > ours[0] or (wanted[0] == ours[0] and wanted[1] > ours[1]):
        raise IncompatiblePlugin(f"written for zoo API {declared}, but zoo-core {_core_version()} has API "
                                 f"{hookspecs.API_VERSION}: upgrade zoo-core")
    if wanted[0] < ours[0]:
        raise IncompatiblePlugin(f"written for zoo API {declared}, which zoo-core {_core_version()} (API "
                                 f"{hookspecs.API_VERSION}) no longer provides: upgrade {info.distribution}")


def _core_version() -> str:
    from importlib.metadata import version

    return version("zoo-core")


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    allowed = _allowed_names()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed and ep.value != BUILTIN_MODULE:
            continue
        dist = ep.dist
        info = PluginInfo(ep.name, dist.name if dist else "unknown", dist.version if dist else "unknown")
        _infos[ep.name] = info
        started = time.perf_counter()
        with guarded(ep.name, "import"):  # a broken plugin must not take zoo down with it
            module = ep.load()
            _check_api(module, info)
            pm.register(module, name=ep.name)
        info.import_seconds = time.perf_counter() - started


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first use."""
    global _manager
    if _manager is None:
        pm = pluggy.PluginManager("zoo")
        pm.add_hookspecs(hookspecs)
        _manager = pm
        _load_entry_points(pm)
    return _manager


def reset() -> None:
    """Forget loaded plugins and reported failures; the next call rediscovers them (used by tests)."""
    global _manager, _generation
    _manager = None
    _generation += 1
    _infos.clear()
    _said.clear()


def plugin_info(name: str) -> PluginInfo:
    """What is known of plugin ``name``; plugins registered in-process have no distribution."""
    return _infos.setdefault(name, PluginInfo(name, "registered in-process", ""))


def call_hook(hook_name: str, on_plugin=None, **kwargs) -> None:
    """Call every implementation of ``hook_name`` in registration order, each on its own.

    ``on_plugin(name)`` is told which plugin is about to be called, so callers can attribute what it does.
    """
    caller = getattr(plugin_manager().hook, hook_name)
    for impl in caller.get_hookimpls():  # in registration order
        if on_plugin is not None:
            on_plugin(impl.plugin_name)
        with guarded(impl.plugin_name, hook_name):
            impl.function(**{arg: kwargs[arg] for arg in impl.argnames})


def state() -> tuple:
    """Which plugins are registered now: what a hook's results depend on, so callers can keep them until it
    changes (a plugin registered or unregistered at run time, or :func:`reset`)."""
    pm = plugin_manager()
    return _generation, frozenset(id(plugin) for plugin in pm.get_plugins())


def list_plugins() -> list[PluginInfo]:
    """Every plugin zoo knows of, loaded or failed, with the hooks it implements."""
    pm = plugin_manager()
    for name, plugin in pm.list_name_plugin():
        info = plugin_info(name)
        info.hooks = sorted(impl.name for impl in pm.get_hookcallers(plugin) or [])
    return sorted(_infos.values(), key=lambda info: (info.name != BUILTIN_PLUGIN, info.name))


def failures() -> list[PluginInfo]:
    return [info for info in _infos.values() if info.errors]


def load_reference(value: Any, what: str) -> Any:
    """``value`` itself, or for a ``"module:attribute"`` string that attribute, imported now; a PluginError that
    names ``what`` (e.g. "model 'x' of plugin 'y' (dist 1.0)") when it cannot be loaded."""
    if not isinstance(value, str):
        return value
    module, _, attr = value.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"{what} points at {value}, which cannot be loaded: {type(exc).__name__}: {exc}") from None
