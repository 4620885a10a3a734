"""``zoo eval``: score a checkpoint's samples, or samples made anywhere, beside the held-out floor."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zoo.cli import cost_table, sampling_options
from zoo.cli.sampling_options import EPILOG, TakesSamplingOptions
from zoo.errors import ZooError
from zoo.outputs.figures import LABEL_HEADERS, cas_line, info_line, label_rows, shares_line, table_rows


def format_report(report: dict, classes: list[str] | None = None) -> str:
    """The report as a table: each figure, which way is better, the model's value and the held-out floor."""
    model = report["model"]
    lines = [f"{'metric':<18}{'better':<8}{'model':>12}{'held-out real':>16}"]
    for figure, better, value, floor in table_rows(model, report["floor"]):
        lines.append(f"{figure:<18}{better:<8}{value:>12}{floor:>16}")
    lines.append(info_line(model, report["info"]))
    if "shares" in model:
        lines.append(shares_line(model["shares"], classes))
    rows = label_rows(report.get("per_label"), classes)
    if rows:
        widths = [max(len(row[i]) for row in [LABEL_HEADERS, *rows]) for i in range(len(LABEL_HEADERS))]
        lines.append("per label: agreement (samples read as their label) beside held-out real images of the label; "
                     "intra-class FID of its samples, of as many as its held-out images, and of those")
        lines += ["  ".join(text.ljust(width) if i == 0 else text.rjust(width) for i, (text, width) in
                            enumerate(zip(row, widths))) for row in [LABEL_HEADERS, *rows]]
    if cas_line(report.get("cas")):
        lines.append(cas_line(report["cas"]))
    return "\n".join(lines)


def _image_size(ckpt) -> int | None:
    return int(ckpt.meta.get("image_size", 0)) or None


@click.command("eval", cls=TakesSamplingOptions, epilog=EPILOG)
@click.argument("checkpoint", required=False, type=click.Path(path_type=Path))
@click.option("--samples", type=click.Path(path_type=Path), default=None, help="Score images from this .npz instead of a checkpoint.")
@click.option("--data", default=None, help="Dataset to compare with (default: the checkpoint's).")
@click.option("-n", "count", type=click.IntRange(min=10), default=5000, show_default=True, help="How many samples to draw.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--features", default="classifier", show_default=True, help="Registered feature extractor.")
@click.option("--iw-samples", type=click.IntRange(min=1), default=100, show_default=True, help="k for the importance-weighted NLL (VAEs).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def evaluate(ctx, checkpoint, samples, data, count, seed, features, iw_samples, as_json):
    """Score CHECKPOINT (or --samples FILE.npz) with FID, KID, precision/recall, confidence/diversity, class coverage;
    for autoencoders and VAEs, reconstruction error, held-out ELBO and importance-weighted NLL; for conditional
    models (or samples with labels in the .npz), each label's agreement beside its floor, intra-class FID and CAS.
    A sampling option given a comma-separated list (--steps 1,2,4,10,50, --sampler heun,dpm-solver++) prints
    quality against cost instead: FID, network evaluations per image and seconds per 1,000 images of each setting."""
    if (checkpoint is None) == (samples is None):
        raise ZooError("give a CHECKPOINT or --samples FILE.npz (one of them)")
    if ctx.meta["sampling"] and samples is not None:
        raise ZooError(f"--{next(iter(ctx.meta['sampling']))}: sampling options need a model to sample from, not --samples")
    from zoo import datasets
    from zoo.cli.progress import SamplingProgress
    from zoo.evaluation.harness import evaluate as run, load_labelled_samples

    model, sampling, grid = None, None, None
    if checkpoint is not None:
        from zoo.store.checkpoint import build_model, load_checkpoint

        ckpt = load_checkpoint(checkpoint)
        model = build_model(ckpt)
        grid = cost_table.settings_grid(model, ctx.meta["sampling"])
        sampling = None if grid else sampling_options.settings(model, ctx)
        data = data or ckpt.meta.get("dataset", datasets.DEFAULT)
    elif data is None:
        raise ZooError("--samples needs --data to say what the samples should look like")
    loaded = datasets.load(data, image_size=_image_size(ckpt) if checkpoint is not None and data == ckpt.meta.get("dataset") else None)
    train, heldout = datasets.split(loaded, "train"), datasets.split(loaded, "heldout")
    if grid:  # --steps 1,2,4,10,50: quality against cost, one row per setting
        with SamplingProgress(f"{model.name}: sampling") as progress:
            rows = cost_table.measure(model, grid, train, heldout, n=count, seed=seed, features=features,
                                      progress=progress)
        return cost_table.echo(rows, as_json)
    images, labels = (None, None) if samples is None else load_labelled_samples(samples, train.shape)
    with SamplingProgress("evaluation classifier: training") as training, \
            SamplingProgress(f"{model.name if model else 'samples'}: sampling") as progress:
        report = run(train, heldout, model=model, samples=images, n=count, seed=seed, features=features,
                     iw_samples=iw_samples, sampling=sampling, progress=progress, labels=labels,
                     training_progress=training).to_dict()
    report["info"]["source"] = str(checkpoint or samples)
    report["info"]["classes"] = list(loaded.classes) if loaded.classes else None
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report, report["info"]["classes"]))
    from zoo.store.model_folder import holds_model

    if checkpoint is not None and Path(checkpoint).is_dir() and not holds_model(checkpoint):  # a run folder keeps
        from zoo.outputs.report import write_report                                          # its latest evaluation
        from zoo.store.run_folder import RunFolder

        folder = RunFolder(checkpoint)
        folder.write_eval(report)
        if folder.config.exists():
            write_report(folder, folder.read_metrics()[0])
        click.echo(f"saved to {folder.eval_report}", err=True)
