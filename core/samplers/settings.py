"""A model's sampling settings with its chosen sampler's options in them.

A model whose sampling dataclass declares ``sampler`` with ``choices="samplers"`` (and ``steps``) lets the user
pick any registered sampler that serves its ``prediction``; while one is chosen, that sampler's options are
fields of the settings too (``zoo sample RUN --sampler ddim --eta 0.5``), in a dataclass made once per pair of
dataclasses that subclasses the model's own. Every other sampling dataclass is built as it always was."""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any, Mapping

from zoo import config
from zoo.errors import ConfigError, PluginError
from zoo.registry.configs import build_config
from zoo.registry.lookup import list_registered
from zoo.samplers.spec import SamplerSpec, get_sampler, samplers_for


def chooses_sampler(sampling_class: type | None) -> bool:
    """Whether a model with these sampling options samples through the registered samplers."""
    for cls in getattr(sampling_class, "__mro__", ()):
        declared = getattr(cls, "__dataclass_fields__", {}).get("sampler")
        if declared is not None and declared.metadata.get("choices") is not None:
            return declared.metadata["choices"] == "samplers"
    return False


@functools.lru_cache(maxsize=None)
def with_options(sampling_class: type, options: type | None) -> type:
    """``sampling_class`` with the fields of a sampler's ``options`` added (itself when there are none)."""
    if options is None:
        return sampling_class
    own = {f.name for f in dataclasses.fields(sampling_class)}
    hints = typing.get_type_hints(options)
    added = []
    for f in dataclasses.fields(options):
        if f.name in own:
            raise PluginError(f"sampler option '{f.name}' ({options.__qualname__}) has the name of a sampling "
                              f"option of the model ({sampling_class.__qualname__})")
        added.append((f.name, hints[f.name], dataclasses.field(default=f.default, metadata=f.metadata)))
    return dataclasses.make_dataclass(f"{sampling_class.__name__}_{options.__name__}", added, bases=(sampling_class,),
                                      namespace={"SAMPLER_OPTIONS": tuple(name for name, *_ in added)})


def sampler_for(model, name: str) -> SamplerSpec:
    """The registered sampler ``name``, if it serves ``model`` (a ConfigError naming those that do, if not)."""
    prediction = getattr(model, "prediction", None)
    serving = samplers_for(prediction)
    if name not in serving:
        what = f"predicts {prediction}" if prediction else "declares no prediction"
        raise ConfigError(f"bad value {name!r} for {model.name} sampling option 'sampler' ({model.name} {what}); "
                          f"choose one of: {', '.join(serving) or 'none is registered'}")
    return get_sampler(name)


def build_sampling(model, sampling_class: type, base: Mapping[str, Any], overrides: Mapping[str, Any]) -> Any:
    """The settings ``overrides`` (strings as given on a command line, or values) make over ``base`` (the values
    of settings already checked, or stored ones), checked; a sampler's options carry over from ``base`` only
    while the same sampler stays chosen."""
    how = {"model": model.name, "kind": "sampling option"}
    overrides = {key.replace("-", "_"): value for key, value in overrides.items()}
    if not chooses_sampler(sampling_class):
        return build_config(sampling_class, {**base, **overrides}, **how)
    declared = {f.name: f.default for f in dataclasses.fields(sampling_class)}
    chosen = str(overrides.get("sampler", base.get("sampler", declared["sampler"])))
    spec = sampler_for(model, chosen)
    settings_class = with_options(sampling_class, spec.options)
    kept = set(declared) if base.get("sampler", declared["sampler"]) != chosen else {
        f.name for f in dataclasses.fields(settings_class)}

    def names(kind: str) -> list[str]:  # the samplers offered are those that serve the model
        return samplers_for(model.prediction) if kind == "samplers" else list_registered(kind)

    return config.build_config(settings_class, {**{k: v for k, v in base.items() if k in kept}, **overrides},
                               names=names, **how)


def sampler_options(settings: Any) -> dict[str, Any]:
    """The chosen sampler's own options in ``settings`` (none for settings without any)."""
    return {name: getattr(settings, name) for name in getattr(type(settings), "SAMPLER_OPTIONS", ())}


def sampler_record(settings: Any) -> dict[str, Any] | None:
    """What eval.json records of the sampler ``settings`` choose: its name, its own options and its cost, the
    network evaluations per image (None for settings that choose none)."""
    if settings is None or not chooses_sampler(type(settings)):
        return None
    return {"name": settings.sampler, "options": sampler_options(settings),
            "evaluations": get_sampler(settings.sampler).evaluations(settings.steps)}
