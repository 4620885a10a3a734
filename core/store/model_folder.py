"""Model folders: what ``zoo export`` writes, and what every command that loads a model reads besides checkpoints.

    DIR/
      config.json        {"format": "zoo-model/1", "model", "config", "data_shape", "num_classes", "classes",
                          "plugin": {distribution, version}, "zoo_version", "weights": {dtype, networks, left_out},
                          "data": {dataset, image_size}, "source": {run, step, exported},
                          "sampling": {the sampling options it was exported with, for models that have them}}
      model.safetensors  the weights (state_dict keys as the model names them): no optimiser, RNG or trainer state
      README.md          the model card (front matter as the Hugging Face Hub reads it)
      samples.png        the grid the card shows (zoo sample DIR -n 64 --seed 0)

A folder holding ``model.safetensors`` is a model folder. Only ``config.json`` (JSON, a regular file of at most
``CONFIG_LIMIT`` bytes) and ``model.safetensors`` (through safetensors, by :mod:`zoo.store.checkpoint`) are ever
read: anything else in it (a ``.bin``, ``.pt`` or ``.pkl`` that came with a download) is never opened.
Standard library only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zoo.errors import CheckpointError
from zoo.store.regular_files import read_regular

FORMAT = "zoo-model/1"
CONFIG, WEIGHTS, CARD, GRID = "config.json", "model.safetensors", "README.md", "samples.png"
FILES = (CONFIG, WEIGHTS, CARD, GRID)  # everything zoo writes into a model folder, and all it uploads or downloads
DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
CONFIG_LIMIT = 16 * 2**20
WEIGHTS_META = {"format": "pt", "zoo": FORMAT}  # "pt": what the Hub's safetensors readers expect


def holds_model(path: str | Path) -> bool:
    """Whether ``path`` is a model folder (a folder with ``model.safetensors``); asks the file system only."""
    path = Path(path)
    return path.is_dir() and (path / WEIGHTS).exists()


def check_has_weights(path: str | Path) -> None:
    """Refuse, in one line, a folder whose config.json is a model folder's but which holds no model.safetensors
    (a run folder's config.json is another kind of file: its checkpoint is looked for as usual)."""
    path = Path(path)
    if path.is_dir() and not (path / WEIGHTS).exists() and (path / CONFIG).exists():
        try:
            read_config(path)
        except CheckpointError:
            return
        raise CheckpointError(f"{path}: a model folder without {WEIGHTS} (zoo export writes it beside {CONFIG})")


def _fail(folder: Path, what: str) -> CheckpointError:
    return CheckpointError(f"{folder / CONFIG}: {what}")


def _kind(value: Any, kind, allow_none: bool = False) -> bool:
    if value is None:
        return allow_none
    return isinstance(value, kind) and not isinstance(value, bool)


def _strings(value: Any, allow_none: bool = False) -> bool:
    return _kind(value, list, allow_none) and all(_kind(v, str) for v in value or [])


def _weights_ok(weights: Any) -> bool:
    return (_kind(weights, dict) and _strings(weights.get("left_out", []))
            and weights.get("dtype", "float32") in DTYPES.values())


def read_config(folder: str | Path) -> dict:
    """``config.json`` of a model folder, checked field by field; anything else is one CheckpointError line."""
    folder = Path(folder)
    try:
        config = json.loads(read_regular(folder / CONFIG, CONFIG_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        raise _fail(folder, "missing; a model folder holds config.json beside model.safetensors") from None
    except CheckpointError:
        raise
    except Exception as exc:  # not UTF-8, not JSON, nested too deep, a pipe or device, too large: one line
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise _fail(folder, f"not a readable zoo model config ({type(exc).__name__}: {first})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _fail(folder, f"not a zoo model config (no \"format\": \"{FORMAT}\")")
    checks = {"model": _kind(config.get("model"), str) and 0 < len(config["model"]) <= 200,
              "config": _kind(config.get("config"), dict),
              "data_shape": _kind(config.get("data_shape"), list) and all(_kind(d, int) for d in config["data_shape"]),
              "num_classes": _kind(config.get("num_classes"), int, allow_none=True),
              "classes": _strings(config.get("classes"), allow_none=True),
              "plugin": _kind(config.get("plugin", {}), dict)
              and all(_kind(v, str, allow_none=True) for v in config.get("plugin", {}).values()),
              "weights": _weights_ok(config.get("weights", {})),
              "data": _kind(config.get("data", {}), dict),
              "source": _kind(config.get("source", {}), dict),
              "sampling": _kind(config.get("sampling", {}), dict)}
    wrong = [key for key, ok in checks.items() if not ok]
    if wrong:
        raise _fail(folder, f"its '{wrong[0]}' is not what a zoo model config holds")
    step = config.get("source", {}).get("step", 0)
    if not _kind(step, int) or step < 0:
        raise _fail(folder, "its source step is not a number of steps")
    return config


def checkpoint_meta(config: dict) -> dict[str, str]:
    """A model folder's config in the form of a checkpoint's metadata, so both load through one path."""
    data, plugin, weights = config.get("data", {}), config.get("plugin", {}), config.get("weights", {})
    meta = {"format": FORMAT, "architecture": config["model"], "config": json.dumps(config["config"]),
            "step": str(config.get("source", {}).get("step", 0)), "data_shape": json.dumps(config["data_shape"]),
            "num_classes": json.dumps(config["num_classes"]), "classes": json.dumps(config.get("classes")),
            "left_out": json.dumps(weights.get("left_out", [])), "dtype": weights.get("dtype", "float32")}
    if isinstance(plugin.get("distribution"), str):
        meta["plugin_distribution"] = plugin["distribution"]
    if isinstance(plugin.get("version"), str):
        meta["plugin_version"] = plugin["version"]
    if isinstance(data.get("dataset"), str):
        meta["dataset"] = data["dataset"]
    if _kind(data.get("image_size"), int) and data["image_size"] > 0:
        meta["image_size"] = str(data["image_size"])
    if config.get("sampling"):
        meta["sampling"] = json.dumps(config["sampling"])
    return meta


def model_config(meta: dict[str, str], *, dtype: str, networks: list[str], left_out: list[str],
                 source: dict, sampling: dict | None = None) -> dict:
    """``config.json`` for a model whose checkpoint metadata is ``meta`` (see :mod:`zoo.store.checkpoint`), which
    samples with ``sampling`` (its sampling options' values) by default, whichever plugin version reads it."""
    from zoo.version import __version__

    data = {"dataset": meta.get("dataset")}
    if meta.get("image_size"):
        data["image_size"] = int(meta["image_size"])
    return {
        "format": FORMAT,
        "model": meta["architecture"],
        "config": json.loads(meta["config"]),
        "data_shape": json.loads(meta["data_shape"]),
        "num_classes": json.loads(meta["num_classes"]),
        "classes": json.loads(meta["classes"]) if "classes" in meta else None,
        "plugin": {"distribution": meta.get("plugin_distribution"), "version": meta.get("plugin_version")},
        "zoo_version": __version__,
        "weights": {"file": WEIGHTS, "dtype": DTYPES[dtype], "networks": networks, "left_out": left_out},
        "data": data,
        "source": source,
        **({"sampling": sampling} if sampling is not None else {}),
    }


__all__ = ["FORMAT", "FILES", "CONFIG", "WEIGHTS", "CARD", "GRID", "DTYPES", "holds_model", "check_has_weights",
           "read_config",
           "checkpoint_meta", "model_config"]
