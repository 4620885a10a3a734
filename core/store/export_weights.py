"""The weights a model folder keeps. ``sampling`` (the default): the networks that what a model folder is for
reads — sampling, and for models with an encoder reconstruction and the held-out figures (ELBO, NLL) — found
by watching which tensors those calls touch on the model itself, so a GAN's discriminator (and, with an EMA,
the raw generator it averages) stays behind while an autoencoder keeps its encoder. ``all``: the whole
state_dict, for fine-tuning a GAN together with its discriminator. Never optimiser, RNG or trainer state.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

from zoo.architecture import eval_mode
from zoo.errors import ZooError
from zoo.store.model_folder import DTYPES
from zoo.store.tensor_checks import is_finite, largest_magnitude

WEIGHTS = ("sampling", "all")


METADATA = {"__get__", "size", "dim", "numel", "__len__", "is_floating_point", "is_complex", "element_size"}


class _Touched(TorchFunctionMode):
    """Records the identity of every tensor handed to a torch function while it is active, except to those that
    read only what it is (``model.device`` reads the first parameter's device: not a use of its values)."""

    def __init__(self):
        super().__init__()
        self.ids: set[int] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") not in METADATA:
            self._collect(args)
            self._collect(kwargs.values())
        return func(*args, **kwargs)

    def _collect(self, values) -> None:
        for value in values:
            if isinstance(value, torch.Tensor):
                self.ids.add(id(value))
            elif isinstance(value, (list, tuple)):
                self._collect(value)
            elif isinstance(value, dict):
                self._collect(value.values())


def networks(model) -> list[str]:
    """The model's networks (submodules) that hold weights or buffers, in order."""
    return [name for name, net in model.named_children() if next(iter(net.state_dict()), None) is not None]


def networks_used(model) -> list[str]:
    """The networks whose tensors sampling (and reconstruction, held-out figures) read, in order."""
    x = torch.zeros(2, *model.data_shape, device=model.device)
    y = torch.zeros(2, dtype=torch.long, device=model.device) if model.conditional else None
    touched = _Touched()
    with torch.no_grad(), eval_mode(model), touched:
        model.sample(2, seed=0)
        if model.can_reconstruct:
            model.reconstruct(x, y)
        model.validation_logs(x, y)
        model.importance_weighted_nll(x, k=2, generator=torch.Generator(model.device).manual_seed(0))
    used = []
    for name in networks(model):
        net = getattr(model, name)
        tensors = [t for _, t in net.named_parameters(remove_duplicate=False)] + [t for _, t in net.named_buffers()]
        if any(id(t) in touched.ids for t in tensors):
            used.append(name)
    return used


def exported_state(model, weights: str = "sampling", dtype: str = "fp32",
                   missing: list[str] = ()) -> tuple[dict, list[str], list[str]]:
    """(tensors to save, networks kept, networks left out): ``model``'s state_dict without the networks
    ``weights`` leaves out nor those ``missing`` (not loaded: a model folder left them out), floating-point
    tensors cast to ``dtype`` (fp32, fp16 or bf16), on the CPU; a ZooError where a value is beyond that
    dtype's range (fp16 ends near 65,504: it would be written as inf)."""
    every = networks(model)
    kept = [name for name in (networks_used(model) if weights == "sampling" else every) if name not in missing]
    left_out = [name for name in every if name not in kept]
    cast = getattr(torch, DTYPES[dtype])
    tensors = {}
    for key, value in model.state_dict().items():
        if key.split(".", 1)[0] in left_out:
            continue
        value = value.detach().to("cpu")
        tensors[key] = (value.to(cast) if value.is_floating_point() else value).contiguous()
        if not is_finite(tensors[key]) and is_finite(value):
            raise ZooError(f"--dtype {dtype}: tensor '{key}' reaches {largest_magnitude(value):.6g}, beyond {dtype}'s "
                           f"range ({torch.finfo(cast).max:.6g}); export with --dtype bf16 or fp32")
    return tensors, kept, left_out


__all__ = ["WEIGHTS", "networks", "networks_used", "exported_state"]
