"""What the registry knows of a sampler without loading it (no torch): :class:`SamplerSpec`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from zoo.config import FieldInfo
from zoo.registry.configs import describe
from zoo.registry.lookup import Registration, list_registered, lookup, registered
from zoo.registry.plugin_host import load_reference


def _one_per_step(steps: int) -> int:
    return steps


@dataclass(frozen=True)
class SamplerSpec:
    name: str
    summary: str
    plugin: str
    distribution: str
    version: str
    factory: Any = field(repr=False)
    serves: tuple[str, ...] = ()
    options: type | None = None
    evaluations: Callable[[int], int] = field(default=_one_per_step, repr=False)
    """Network evaluations per image for a number of steps: the sampler's cost."""

    @classmethod
    def from_registration(cls, reg: Registration) -> "SamplerSpec":
        extras = reg.extras
        return cls(reg.name, reg.summary, reg.plugin, reg.distribution, reg.version, reg.value,
                   tuple(extras["serves"]), extras.get("options"), extras.get("evaluations", _one_per_step))

    def describe_options(self) -> list[FieldInfo]:
        """The sampler's options (``zoo sample RUN --sampler NAME --option value``); empty when it has none."""
        return describe(self.options) if self.options is not None else []

    def load(self) -> Callable:
        """The function ``sample(model, z, labels, settings)``, importing its module now if registered as a string."""
        return load_reference(self.factory, f"sampler '{self.name}' of plugin '{self.plugin}' ({self.distribution} "
                                            f"{self.version})")


def get_sampler(name: str, **recorded: str) -> SamplerSpec:
    """The sampler registered under ``name``; raises :class:`zoo.UnknownNameError` (``recorded`` as for
    :func:`zoo.get_model`)."""
    return SamplerSpec.from_registration(lookup("samplers", name, **recorded))


def list_samplers(pattern: str = "*") -> list[str]:
    """Sorted names of the registered samplers matching the fnmatch ``pattern``."""
    return list_registered("samplers", pattern)


def samplers_for(prediction: str | None) -> list[str]:
    """Sorted names of the samplers that serve a denoiser predicting ``prediction``."""
    return sorted(name for name, reg in registered("samplers").items() if prediction in reg.extras["serves"])
