"""``zoo export``: a model folder (:mod:`zoo.store.model_folder`) from a run, a checkpoint or another model folder,
with its model card and sample grid (:mod:`zoo.outputs`).

The folder is built beside its destination under a temporary name and renamed into place when complete; the
source is only read (a run folder is never written to, nor a folder inside it created).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
from datetime import datetime
from pathlib import Path

from safetensors.torch import save as st_save

from zoo.errors import ZooError
from zoo.outputs import model_card
from zoo.outputs.images import labelled_grid, save_png
from zoo.registry.models import get_model
from zoo.store import hub, model_folder
from zoo.store.atomic import blocking_file, left_by_dead_process, write_bytes, write_text
from zoo.store.checkpoint import FILENAME, build_model, load_checkpoint
from zoo.store.checkpoint import left_out as ckpt_left_out
from zoo.store.export_weights import exported_state
from zoo.store.run_folder import RunFolder

GRID_IMAGES, GRID_SEED, GRID_SCALE = 64, 0, 2


def _real_destination(out: Path) -> Path:
    """``out``, or the folder the symbolic link ``out`` points to (the export is renamed into that folder); a link
    to nothing, or in a loop, is refused before anything is built."""
    if not out.is_symlink():
        return out
    try:
        return out.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ZooError(f"{out} is a symbolic link to {os.readlink(out)}, which is no folder; give a folder") from None


def _check_destination(out: Path, source) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ZooError(f"{out} already exists and is not an empty folder; give a new folder")
    if blocking_file(out):
        raise ZooError(f"{out}: {blocking_file(out)} is a file, not a folder")
    if not hub.is_hub_address(source):
        where = Path(source).resolve()
        where = where.parent if where.is_file() else where
        target = out.resolve()
        if target == where or where in target.parents:
            raise ZooError(f"{out} is inside {source}; the source is never written to: give a folder outside it")


def _run_folder(source, ckpt) -> RunFolder | None:
    """The run folder ``ckpt`` is the checkpoint of, if it is a run's checkpoint.safetensors (the weights its
    eval.json measured)."""
    if hub.is_hub_address(source) or ckpt.path.is_dir() or ckpt.path.name != FILENAME:
        return None
    folder = RunFolder(ckpt.path.parent)
    return folder if folder.config.is_file() else None


def _evaluation(run: RunFolder | None) -> dict | None:
    """The run's eval.json (what ``zoo eval RUN`` or ``--eval-every`` measured), if there is a readable one."""
    if run is None or not run.eval_report.exists():
        return None
    try:
        report = run.read_eval()
    except Exception:  # a damaged evaluation is left out of the card, not a failed export
        report = None
    if isinstance(report, dict) and isinstance(report.get("model"), dict):
        return report
    logging.getLogger(__name__).info(f"{run.eval_report} is not a readable evaluation; the card says the model is not "
                                     "evaluated")
    return None


def _source(source, ckpt, run: RunFolder | None) -> dict:
    """Where the weights came from, without local paths (a pushed folder must not publish them)."""
    if hub.is_hub_address(source):
        kind, name = "hub", hub.SCHEME + str(source).split(":/", 1)[1].lstrip("/")
    elif ckpt.path.is_dir():
        kind, name = "model folder", ckpt.path.name
    else:
        kind, name = ("run", run.path.name) if run is not None else ("checkpoint", ckpt.path.name)
    return {"kind": kind, "name": name, "step": ckpt.step, "exported": datetime.now().isoformat(timespec="seconds")}


def _public_dataset(meta: dict) -> dict:
    """The checkpoint's metadata with a dataset path cut to its last part (a registered name stays as it is)."""
    dataset = meta.get("dataset")
    if dataset and os.path.isabs(dataset):
        meta = {**meta, "dataset": Path(dataset).name}
    return meta


def export_model(source, out: str | os.PathLike, *, dtype: str = "fp32", weights: str = "sampling",
                 sampling=None) -> Path:
    """Write the model folder ``out`` for ``source`` (a run folder, checkpoint, model folder or hf:// address):
    model.safetensors, config.json, README.md and samples.png. ``out`` must not exist, or be an empty folder.
    config.json keeps the model's sampling settings (``sampling`` over its defaults), so the folder samples the
    same way whichever version of the plugin reads it."""
    if dtype not in model_folder.DTYPES:
        raise ZooError(f"--dtype {dtype}: use one of {', '.join(model_folder.DTYPES)}")
    out = _real_destination(Path(out))
    _check_destination(out, source)
    ckpt = load_checkpoint(source)
    model = build_model(ckpt)
    tensors, kept, left_out = exported_state(model, weights, dtype, missing=ckpt_left_out(ckpt))
    run = _run_folder(source, ckpt)
    settings = model.sampling_settings(sampling)
    config = model_folder.model_config(_public_dataset(ckpt.meta), dtype=dtype, networks=kept, left_out=left_out,
                                       source=_source(source, ckpt, run),
                                       sampling=None if settings is None else dict(vars(settings)))
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f".{glob.escape(out.name)}.*.export"):  # what a killed export left
        if left_by_dead_process(stale):
            shutil.rmtree(stale, ignore_errors=True)
    staging = out.parent / f".{out.name}.{os.getpid()}.export"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write_bytes(staging / model_folder.WEIGHTS, st_save(tensors, metadata=model_folder.WEIGHTS_META))
        write_text(staging / model_folder.CONFIG, json.dumps(config, indent=2) + "\n")
        exported = build_model(load_checkpoint(staging))  # the grid is what the folder itself samples
        save_png(labelled_grid(exported, GRID_IMAGES, GRID_SEED, GRID_SCALE), staging / model_folder.GRID)
        card = model_card.render(config, summary=get_model(model.name).summary, conditional=model.conditional,
                                 evaluation=_evaluation(run))
        write_text(staging / model_folder.CARD, card)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


__all__ = ["export_model"]
