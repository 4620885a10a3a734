"""Checkpoints: one safetensors file that alone rebuilds its model (no pickle, no torch.load: zoo's one
torch.load reads the sha256-pinned Inception weights, tensors only, :mod:`zoo.evaluation.inception`); and
the one place a model is loaded from, for checkpoints, run folders and model folders (``zoo export``'s,
:mod:`zoo.store.model_folder`, local or ``hf://owner/name[@revision]``) alike.

Tensors: ``model.*`` (the architecture's state_dict), ``optimizer.<name>.<param>.<key>`` and ``rng.*``.
Metadata (str -> str): the architecture, its config as JSON, zoo's and the plugin's versions, the step, the
data shape and classes, plus the optimisers' non-tensor state and the trainer's state as JSON.
Writes are atomic: a temporary file in the same folder, fsync, then ``os.replace``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file as st_load_file
from safetensors.torch import save as st_save

from zoo.store import hub, model_folder
from zoo.store.atomic import write_bytes
from zoo.store.regular_files import is_regular
from zoo.store.safetensors_header import read_header
from zoo.store.stable_read import read_unchanged
from zoo.store.tensor_checks import check_fit, check_read, declared_dtype
from zoo.config import as_recorded, to_dict
from zoo.errors import CheckpointError, ZooError
from zoo.registry.models import create_model, get_model

FORMAT = "zoo-checkpoint/1"
FILENAME = "checkpoint.safetensors"


@dataclass
class Checkpoint:
    path: Path
    meta: dict[str, str]
    tensors: dict[str, torch.Tensor]

    @property
    def architecture(self) -> str:
        return self.meta["architecture"]

    @property
    def step(self) -> int:
        return int(self.meta["step"])

    def json(self, key: str) -> Any:
        return json.loads(self.meta[key])

    def group(self, prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in self.tensors.items() if k.startswith(prefix)}


def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint file, the checkpoint inside a run folder, or a model folder (``hf://`` ones downloaded first;
    a model folder's ``model.safetensors`` stands for its folder)."""
    if hub.is_hub_address(path):
        folder = hub.download(path)
        if not model_folder.holds_model(folder):
            raise CheckpointError(f"{path}: not a zoo model (no {model_folder.WEIGHTS} beside {model_folder.CONFIG})")
        return folder
    path = Path(path)
    if path.name == model_folder.WEIGHTS and model_folder.holds_model(path.parent):
        path = path.parent
    if model_folder.holds_model(path):
        return path
    model_folder.check_has_weights(path)
    if path.is_dir():
        path = path / FILENAME
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint")
    if not path.is_file():
        raise CheckpointError(f"{path}: not a regular file")
    return path


def _flatten_optimizer(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, entries in state["state"].items():
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{name}.{pid}.{key}"] = value
            else:
                scalars[f"{pid}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars, "tensors": sorted(tensors)}


def _optimizer_state(ckpt: Checkpoint, name: str) -> dict:
    meta = ckpt.json("optimizers")[name]
    missing = [key for key in meta.get("tensors", []) if key not in ckpt.tensors]
    if missing:
        raise KeyError(f"tensor {missing[0]} is missing")
    state: dict[int, dict] = {}
    for key, value in ckpt.group(f"optimizer.{name}.").items():
        pid, _, field = key.partition(".")
        state.setdefault(int(pid), {})[field] = value
    for key, value in meta["scalars"].items():
        pid, _, field = key.partition(".")
        state.setdefault(int(pid), {})[field] = value
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
              for group in meta["param_groups"]]  # JSON turned tuples such as Adam's betas into lists
    return {"state": state, "param_groups": groups}


def save_checkpoint(path: str | os.PathLike, model, *, step: int = 0, optimizers: dict | None = None,
                    rng: dict[str, torch.Tensor] | None = None, meta: dict[str, Any] | None = None) -> Path:
    """Write ``model`` (and optionally its optimisers, RNG states and more metadata) atomically to ``path``."""
    from zoo.version import __version__

    path = Path(path)
    spec = get_model(model.name)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    optimizer_meta = {}
    for name, opt in (optimizers or {}).items():
        opt_tensors, optimizer_meta[name] = _flatten_optimizer(name, opt)
        tensors.update(opt_tensors)
    tensors.update({f"rng.{k}": v for k, v in (rng or {}).items()})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    header = {
        "format": FORMAT,
        "architecture": model.name,
        "config": json.dumps(to_dict(model.config)),
        "zoo_version": __version__,
        "plugin_distribution": spec.distribution,
        "plugin_version": spec.version,
        "step": str(step),
        "data_shape": json.dumps(list(model.data_shape)),
        "num_classes": json.dumps(model.num_classes),
        "optimizers": json.dumps(optimizer_meta),
    }
    header.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (meta or {}).items()})
    return write_bytes(path, st_save(tensors, metadata=header))


MAX_CHANNELS, MAX_SIDE = 4, 4096  # nothing zoo trains is larger; a lying header must not make it build a giant
MAX_CLASSES = 10_000  # zoo.datasets.image_data's bound: a class embedding is never sized from a lie
JSON_FIELDS = {"config": dict, "data_shape": list, "optimizers": dict, "num_classes": (int, type(None)),
               "trainer": dict, "classes": (list, type(None)), "left_out": list}


def _check_metadata(path: Path, meta: Any) -> dict[str, str]:
    if not isinstance(meta, dict) or meta.get("format") not in (FORMAT, model_folder.FORMAT):
        raise CheckpointError(f"{path}: a safetensors file, but not a zoo checkpoint")
    for key in ("architecture", "config", "step", "data_shape", "num_classes"):
        if not isinstance(meta.get(key), str):
            raise CheckpointError(f"{path}: a zoo checkpoint without '{key}'")
    for key, kind in JSON_FIELDS.items():
        if key in meta and not isinstance(json.loads(meta[key]), kind):
            raise CheckpointError(f"{path}: its '{key}' is not what a zoo checkpoint holds")
    if not meta["step"].isdigit():
        raise CheckpointError(f"{path}: step {meta['step']!r} is not a number of steps")
    shape = json.loads(meta["data_shape"])
    if not (len(shape) == 3 and all(isinstance(d, int) for d in shape) and 0 < shape[0] <= MAX_CHANNELS
            and 0 < shape[1] <= MAX_SIDE and 0 < shape[2] <= MAX_SIDE):
        raise CheckpointError(f"{path}: data_shape {shape} is not (channels <= {MAX_CHANNELS}, height, width <= {MAX_SIDE})")
    classes = json.loads(meta["num_classes"])
    if classes is not None and not (not isinstance(classes, bool) and 0 < classes <= MAX_CLASSES):
        raise CheckpointError(f"{path}: num_classes {classes} is not a number of classes (1 to {MAX_CLASSES})")
    return meta


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and validate a checkpoint or model folder; raises CheckpointError with one line for anything wrong.
    A model folder's weights come as ``model.*`` tensors and its config.json as the metadata a checkpoint holds."""
    path = resolve(path)
    if path.is_dir():  # a model folder: config.json (JSON) and model.safetensors (safetensors), nothing else
        meta, weights = model_folder.checkpoint_meta(model_folder.read_config(path)), path / model_folder.WEIGHTS
        if not is_regular(weights):
            raise CheckpointError(f"{weights}: not a regular file")
    else:
        meta, weights = None, path
    def read():  # the header and metadata are checked before any tensor is read
        header = read_header(weights)
        return _check_metadata(path, header.get("__metadata__") if meta is None else meta), st_load_file(str(weights))

    try:
        meta, tensors = read_unchanged(weights, read)  # one version of a checkpoint a run is replacing, never a mix
    except CheckpointError:
        raise
    except Exception as exc:  # whatever a hostile file provokes (RecursionError, MemoryError, ...) is one line
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(f"{weights}: not a readable safetensors {'file' if weights != path else 'checkpoint'} "
                              f"({type(exc).__name__}: {first})") from None
    check_read(weights, tensors, declared=declared_dtype(meta) if weights != path else None)
    if weights != path:
        tensors = {f"model.{k}": v for k, v in tensors.items()}
    return Checkpoint(path, meta, tensors)


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a zoo checkpoint or a model folder's weights (by its header alone)."""
    try:
        meta = read_header(Path(path)).get("__metadata__", {})
        return meta.get("format") == FORMAT or meta.get("zoo") == model_folder.FORMAT
    except Exception:
        return False


def build_model(ckpt: Checkpoint, device: str | torch.device = "cpu"):
    """The architecture a checkpoint describes, with its weights, in eval mode."""
    name = ckpt.architecture
    spec = get_model(name, wanted_by=f"{ckpt.path}", distribution=ckpt.meta.get("plugin_distribution"),
                     version=ckpt.meta.get("plugin_version"))
    try:
        stored = ckpt.json("sampling") if "sampling" in ckpt.meta else None  # a model folder's own settings
        config = as_recorded(spec.config_class, ckpt.json("config"))
        model = create_model(name, data_shape=tuple(ckpt.json("data_shape")), num_classes=ckpt.json("num_classes"),
                             sampling_defaults=stored, **config)
    except (ZooError, ValueError, TypeError, RuntimeError) as exc:  # a config the installed plugin cannot build
        raise CheckpointError(f"{ckpt.path}: its config does not fit the installed {spec.distribution} {spec.version}: "
                              f"{(str(exc).splitlines() or [''])[0][:300]}") from None
    load_weights(model, ckpt)
    for name in left_out(ckpt):  # their weights are the model's fresh ones: any use would draw from noise
        getattr(model, name).register_forward_pre_hook(_left_out_guard(ckpt, name))
    return model.to(device).eval()


def _left_out_guard(ckpt: Checkpoint, name: str):
    def refuse(module, args):
        raise CheckpointError(f"{ckpt.path} holds no weights for {name} (zoo export left it out; --weights all keeps "
                              "it); sample with the settings it was exported for")
    return refuse


def load_weights(model, ckpt: Checkpoint) -> None:
    """Put the checkpoint's weights into ``model`` (built for the same architecture), for sampling and resume alike."""
    if ckpt.architecture != model.name:
        raise CheckpointError(f"{ckpt.path} is a '{ckpt.architecture}' checkpoint, not '{model.name}'")
    check_fit(ckpt.path, ckpt.group("model."), model.state_dict(), declared_dtype(ckpt.meta))
    try:
        model.load_state_dict(_with_left_out(model, ckpt))
    except RuntimeError as exc:  # torch's first line names the class; the next ones name the keys
        lines = [line.strip() for line in str(exc).strip().splitlines()]
        detail = (lines[1] if len(lines) > 1 else lines[0])[:300]
        raise CheckpointError(f"{ckpt.path}: weights do not fit {model.name}: {detail}") from None


def _with_left_out(model, ckpt: Checkpoint) -> dict[str, torch.Tensor]:
    """The checkpoint's weights, plus the model's own for the networks a model folder left out (a GAN's
    discriminator: used in training only); those must be networks of the model, and none of their tensors in the file."""
    state, missing = ckpt.group("model."), left_out(ckpt)
    if not missing:
        return state
    holders = {name for name, net in model.named_children() if next(iter(net.state_dict()), None) is not None}
    stray = [name for name in missing if name not in holders or any(k.startswith(name + ".") for k in state)]
    if stray:
        raise CheckpointError(f"{ckpt.path}: '{stray[0]}' is left out, but it is not a network of {model.name} "
                              "or its weights are in the file")
    own = {k: v for k, v in model.state_dict().items() if k.split(".", 1)[0] in missing}
    return {**own, **state}


def left_out(ckpt: Checkpoint) -> list[str]:
    """The networks a model folder left out (they keep the weights they are built with), [] for a checkpoint."""
    return ckpt.json("left_out") if "left_out" in ckpt.meta else []


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Shortcut: the model stored at ``path`` (a checkpoint, a run folder, a model folder or hf://owner/name)."""
    return build_model(load_checkpoint(path), device)


def restore_optimizers(ckpt: Checkpoint, optimizers: dict) -> None:
    for name, opt in optimizers.items():
        try:
            opt.load_state_dict(_optimizer_state(ckpt, name))
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, RuntimeError) as exc:
            raise CheckpointError(f"{ckpt.path}: optimiser '{name}' state does not fit: {exc}") from None


__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint", "load_model", "build_model", "load_weights",
           "restore_optimizers", "resolve", "left_out", "FILENAME"]
