"""One bench, run to the end: each model and seed trained under the same budget into an ordinary run folder under
the bench's folder, then scored; a run already trained (or scored) is reused, so an interrupted bench continues
with ``zoo bench --resume DIR``. bench.json is written again after every run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from zoo import datasets
from zoo.bench import page
from zoo.bench.scoring import score
from zoo.bench.settings import FORMAT, BenchSettings, run_name
from zoo.errors import ZooError
from zoo.registry.models import get_model, list_models
from zoo.store.atomic import write_text
from zoo.store.regular_files import read_regular
from zoo.store.run_folder import RunFolder
from zoo.training.plan import plan_run
from zoo.training.trainer import Trainer

log = logging.getLogger(__name__)
BENCH_FILE, BENCH_LIMIT = "bench.json", 16 * 2**20


def bench(models=(), *, data: str = datasets.DEFAULT, minutes: float = 0.0, steps: int = 0, defaults: bool = False,
          seeds=(0,), out: str | Path = "bench", resume: bool = False, n: int = 2000, image_size: int = 0,
          features: str = "classifier", device: str = "auto", callbacks=lambda: [], progress=None,
          **train_options) -> dict:
    """Train every model of ``models`` (default: every installed one that takes the data's images) for each seed
    under one budget (``minutes`` of training, ``steps``, or with ``defaults=True`` each model's own default
    training, as ``zoo train NAME`` does), score them alike, and write ``out/bench.json`` and ``out/index.html``;
    returns what bench.json holds. ``resume=True`` continues the bench in ``out`` with its own settings.
    ``callbacks()`` gives extra callbacks for each training run (a progress display)."""
    out = Path(out)
    loaded = datasets.load(data, image_size or None) if not resume else None
    if resume:
        settings = _stored_settings(out)
        loaded = datasets.load(settings.data, settings.image_size or None)
    else:
        _check_new(out)
        settings = BenchSettings(tuple(models) or default_models(loaded), data, minutes=float(minutes),
                                 steps=int(steps), defaults=bool(defaults), seeds=tuple(seeds), image_size=image_size,
                                 n=n, features=features, device=device, train_options=dict(train_options))
        for name in settings.models:  # before anything is trained or written
            _check_takes(name, loaded)
    train, heldout = datasets.split(loaded, "train"), datasets.split(loaded, "heldout")
    results: list[dict] = []
    for index, (model, seed) in enumerate((m, s) for m in settings.models for s in settings.seeds):
        folder = RunFolder(out / run_name(model, seed))
        log.info("bench %d of %d: %s, seed %d", index + 1, len(settings.models) * len(settings.seeds), model, seed)
        trained = _train(folder, model, seed, settings, callbacks())
        report = score(folder, settings, train, heldout, out / "grids" / f"{folder.path.name}.png", progress)
        results.append(_result(folder, model, seed, trained, report))
        _write(out, settings, results)
    return _write(out, settings, results)


def default_models(data) -> tuple[str, ...]:
    """Every installed architecture that declares the data's image shape; conditional ones only for labelled data."""
    chosen = []
    for name in list_models():
        spec = get_model(name)
        if tuple(data.shape) in spec.data_shapes and (data.labels is not None or not spec.is_conditional()):
            chosen.append(name)
    return tuple(chosen)


def _check_takes(name: str, data) -> None:
    spec = get_model(name)
    if tuple(data.shape) not in spec.data_shapes:
        shapes = ", ".join("x".join(map(str, shape)) for shape in spec.data_shapes)
        raise ZooError(f"{name} takes images of {shapes}, not {'x'.join(map(str, data.shape))} "
                       f"({data.name}); --image-size resizes a folder")
    if spec.is_conditional() and data.labels is None:
        raise ZooError(f"{name} is conditional: {data.name} has no labels")


def _train(folder: RunFolder, model: str, seed: int, settings: BenchSettings, callbacks: list) -> dict:
    """Train the run (or the rest of it); what its record and last metrics say of it."""
    ended = folder.read_status() if folder.status_file.exists() else {}
    if ended.get("status") in ("finished", "stopped") and folder.checkpoint.exists():
        log.info("bench: %s is trained already (step %s); kept", folder.path, ended.get("step"))
    else:
        if folder.config.exists():
            plan = plan_run(resume=folder.path, options={})
        else:
            options = {**settings.train_options, **settings.budget(), "seed": seed, "device": settings.device}
            if settings.image_size:
                options["image_size"] = settings.image_size
            plan = plan_run(model, out=folder.path, data=settings.data, options=options)
        Trainer.from_plan(plan, callbacks).fit()
    record, (metrics, _) = folder.read_record(), folder.read_metrics()
    speeds = [r["images_per_s"] for r in metrics if isinstance(r.get("images_per_s"), (int, float))]
    times = [r["time_s"] for r in metrics if isinstance(r.get("time_s"), (int, float))]
    return {"steps": record["train"]["steps"], "budget": record.get("budget"),
            "images_per_s": speeds[-1] if speeds else None, "train_seconds": times[-1] if times else None}


def _result(folder: RunFolder, model: str, seed: int, trained: dict, report: dict) -> dict:
    scored = report["info"]["bench"]
    agreements = [e["agreement"] for e in report.get("per_label") or [] if e.get("agreement") is not None]
    return {"model": model, "seed": seed, "run": folder.path.name, "grid": f"grids/{folder.path.name}.png", **trained,
            "sample_seconds_per_1000": scored["sample_seconds_per_1000"], "fid_10_steps": scored.get("fid_10_steps"),
            "worst_label_agreement": min(agreements) if agreements else None,
            "figures": report["model"], "floor": report["floor"], "provenance": report["info"].get("provenance")}


def _write(out: Path, settings: BenchSettings, results: list[dict]) -> dict:
    document = {"format": FORMAT, "settings": settings.to_dict(), "runs": results}
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / BENCH_FILE, json.dumps(document, indent=2) + "\n")
    page.write(out, document)
    return document


def _check_new(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        hint = f"continue it with zoo bench --resume {out}" if (out / BENCH_FILE).exists() else "choose another folder"
        raise ZooError(f"--out {out} already exists; {hint}")


def _stored_settings(out: Path) -> BenchSettings:
    try:
        stored = json.loads(read_regular(out / BENCH_FILE, BENCH_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        raise ZooError(f"--resume {out}: no {BENCH_FILE} there (not a zoo bench folder)") from None
    except (ValueError, UnicodeDecodeError, ZooError) as exc:
        raise ZooError(f"{out / BENCH_FILE}: not a readable zoo bench ({exc})") from None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT or not isinstance(stored.get("settings"), dict):
        raise ZooError(f"{out / BENCH_FILE}: not a zoo bench (no \"format\": \"{FORMAT}\")")
    return BenchSettings.from_dict(stored["settings"])
