"""Scoring one bench run: zoo eval's figures with the bench's one setting (kept in the run's eval.json, and reused
from it when the run and the setting are unchanged), the seconds it takes to sample 1,000 images at the model's
default settings (timed on the evaluation's n images when that is fewer, so a quick bench stays quick), the FID with
10 sampler steps where the sampler takes a number of steps (quality against sampling cost), and a sample
grid at the size every run's grid has on the page."""

from __future__ import annotations

import time
from pathlib import Path

from zoo.evaluation.harness import evaluate
from zoo.outputs.images import labelled_grid, save_png
from zoo.outputs.report import write_report
from zoo.store.checkpoint import build_model, load_checkpoint
from zoo.training.devices import resolve_device

GRID_IMAGES, GRID_SEED, GRID_SCALE = 64, 0, 2
TIMED_SAMPLES = 1000
FEW_SAMPLER_STEPS = 10


def score(folder, settings, train, heldout, grid_path: Path, progress=None) -> dict:
    """The run in ``folder`` (a RunFolder) scored: ``{"model": figures, "floor": figures, "info": ...}`` as zoo eval
    writes it, with ``info["bench"]`` saying which setting and step it was scored at and how fast it samples."""
    ckpt = load_checkpoint(folder.path)
    mark = {"n": settings.n, "seed": settings.eval_seed, "features": settings.features, "step": ckpt.step}
    model = build_model(ckpt, resolve_device(settings.device))
    kept = folder.read_eval()
    if kept is not None and kept.get("info", {}).get("bench", {}).get("scored") == mark and grid_path.exists():
        return kept
    report = evaluate(train, heldout, model=model, n=settings.n, seed=settings.eval_seed, features=settings.features,
                      progress=progress).to_dict()
    report["info"]["source"] = str(folder.path)
    report["info"]["bench"] = {"scored": mark, "sample_seconds_per_1000": sampling_seconds(model, settings.n),
                               **few_steps_fid(model, train, heldout, settings, report["model"]["fid"], progress)}
    folder.write_eval(report)
    write_report(folder, folder.read_metrics()[0])
    draw_grid(model, grid_path)
    return report


def sampling_seconds(model, n: int) -> float:
    """Seconds to draw 1,000 images at the model's default sampling settings, timed on 1,000 images or ``n`` if that
    is fewer (then scaled to 1,000)."""
    count = min(TIMED_SAMPLES, n)
    started = time.perf_counter()
    model.sample(count, seed=0)
    return round((time.perf_counter() - started) * TIMED_SAMPLES / count, 2)


def few_steps_fid(model, train, heldout, settings, fid: float, progress=None) -> dict:
    """``{"fid_10_steps": FID}`` with 10 sampler steps, for a model whose sampler takes a number of steps (``fid``,
    the default settings' own, where they are 10 steps already); ``{}`` for the others."""
    if model.sampling_class is None or "steps" not in vars(model.sampling_settings()):
        return {}
    if model.sampling_settings().steps != FEW_SAMPLER_STEPS:
        fid = evaluate(train, heldout, model=model, n=settings.n, seed=settings.eval_seed, features=settings.features,
                       sampling={"steps": FEW_SAMPLER_STEPS}, progress=progress).model["fid"]
    return {"fid_10_steps": fid}


def draw_grid(model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(labelled_grid(model, GRID_IMAGES, GRID_SEED, GRID_SCALE), path)
