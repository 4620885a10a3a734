"""``zoo sample`` and ``zoo reconstruct``: images from a run folder, a checkpoint or a model folder (local, or
``hf://owner/name[@revision]``)."""

from __future__ import annotations

import math
from pathlib import Path

import click

from zoo.cli import sampling_options
from zoo.cli.sampling_options import EPILOG, TakesSamplingOptions
from zoo.errors import ZooError

OUTPUT_SUFFIXES = (".png", ".npz", ".safetensors")


def _check_output(out: Path, force: bool, suffixes=OUTPUT_SUFFIXES) -> None:
    """Refuse an output that would destroy a checkpoint (the input's or any run's), or any existing file unless
    ``--force``; checked before the model is loaded."""
    from zoo.store.atomic import blocking_file
    from zoo.store.checkpoint import is_checkpoint

    if out.suffix.lower() not in suffixes:
        raise ZooError(f"--out {out}: unsupported file type; use one of {', '.join(suffixes)}")
    if out.is_dir():
        raise ZooError(f"--out {out} is a folder; give a file name")
    if blocking_file(out):
        raise ZooError(f"--out {out}: {blocking_file(out)} is a file, not a folder")
    if out.exists():
        if is_checkpoint(out):
            raise ZooError(f"--out {out} is a zoo checkpoint; it is never overwritten by samples")
        if not force:
            raise ZooError(f"--out {out} already exists; pass --force to replace it")


def _write(images, labels, out: Path, nrow: int | None, scale: int | None, rows_by=None) -> None:
    import numpy as np

    from zoo.store.atomic import atomic_write, write_bytes
    from zoo.outputs.images import grid, save_png, to_uint8

    array = to_uint8(images)
    suffix = out.suffix.lower()
    if suffix == ".png":
        save_png(grid(array, nrow, scale=scale, rows_by=None if rows_by is None else rows_by.numpy()), out)
    elif suffix == ".npz":
        payload = {"images": array[:, 0] if array.shape[1] == 1 else array}
        if labels is not None:
            payload["labels"] = labels.cpu().numpy()
        with atomic_write(out) as fh:
            np.savez_compressed(fh, **payload)
    else:
        import torch
        from safetensors.torch import save

        tensors = {"images": torch.from_numpy(array)}
        if labels is not None:
            tensors["labels"] = labels.cpu().contiguous()
        write_bytes(out, save(tensors))


@click.command(cls=TakesSamplingOptions, epilog=EPILOG)
@click.argument("checkpoint", metavar="MODEL")
@click.option("-n", "count", type=click.IntRange(min=1), default=64, show_default=True, help="How many images.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("samples.png"), show_default=True,
              help="Output file: .png (grid), .npz (uint8 images) or .safetensors.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same images.")
@click.option("--label", type=int, default=None, help="Class to draw (conditional models).")
@click.option("--interpolate", type=click.IntRange(min=2), default=None,
              help="Rows of K images walking between random latent pairs (about N images in all).")
@click.option("--device", default="cpu", show_default=True, help="auto, cpu, cuda or mps.")
@click.option("--force", is_flag=True, help="Replace --out if it exists (never a checkpoint).")
@click.option("--scale", type=click.IntRange(min=1, max=16), default=None,
              help="Enlarge each tile of a .png grid this many times. [default: to about 96 pixels]")
@click.pass_context
def sample(ctx, checkpoint, count, out, seed, label, interpolate, device, force, scale):
    """Draw images from MODEL: a run folder, a .safetensors checkpoint, a model folder (zoo export) or
    hf://owner/name[@revision] on the Hugging Face Hub."""
    _check_output(out, force)
    import torch

    from zoo.cli.progress import SamplingProgress
    from zoo.store.checkpoint import load_model
    from zoo.outputs.images import balanced_labels
    from zoo.outputs.latent_walk import interpolation_latents
    from zoo.training.trainer import resolve_device

    model = load_model(checkpoint, resolve_device(device))
    sampling = sampling_options.settings(model, ctx)
    labels, nrow, z, rows_by = None, None, None, None
    if label is not None:
        if not model.conditional:
            raise ZooError(f"--label needs a conditional model; {model.name} does not take labels")
        if not 0 <= label < model.num_classes:
            raise ZooError(f"--label {label} is out of range: {model.name} was trained on classes 0..{model.num_classes - 1}")
    if interpolate:
        rows = max(1, math.ceil(count / interpolate))
        z = interpolation_latents(model, rows, interpolate, seed)
        count, nrow = len(z), interpolate
        if model.conditional:
            row_labels = torch.full((rows,), label) if label is not None else torch.arange(rows) % model.num_classes
            labels = row_labels.repeat_interleave(interpolate)
    elif model.conditional and label is not None:
        labels = torch.full((count,), label)
    elif model.conditional:  # one row per label in the grid
        labels = rows_by = balanced_labels(model.num_classes, count)
        if count % model.num_classes:
            most, fewer = count // model.num_classes + 1, count % model.num_classes
            first = "label 0" if fewer == 1 else f"labels 0-{fewer - 1}"
            click.echo(f"zoo: {count} images of {model.num_classes} labels: {most} each of {first}, {most - 1} of "
                       f"the others (-n {most * model.num_classes} draws {most} of each)", err=True)
    with SamplingProgress(f"{model.name}: sampling") as progress:
        images = model.sample(count, seed=seed, labels=labels, z=None if z is None else z.to(model.device),
                              sampling=sampling, progress=progress)
    _write(images, labels, out, nrow, scale, rows_by)
    click.echo(f"wrote {count} images to {out}")


@click.command()
@click.argument("checkpoint", metavar="MODEL")
@click.option("--data", default=None, help="Dataset name or path (default: the one the model was trained on).")
@click.option("-n", "count", type=click.IntRange(min=1), default=32, show_default=True, help="How many images.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reconstructions.png"), show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def reconstruct(checkpoint, data, count, out, device, force):
    """Show held-out images (odd columns) beside their reconstructions (even columns) by MODEL (a run folder,
    checkpoint, model folder or hf://owner/name of an autoencoder or VAE)."""
    _check_output(out, force, suffixes=(".png",))
    import numpy as np
    import torch

    from zoo import datasets
    from zoo.store.checkpoint import build_model, load_checkpoint
    from zoo.datasets.pixels import to_float
    from zoo.outputs.images import save_grid
    from zoo.training.trainer import resolve_device

    ckpt = load_checkpoint(checkpoint)
    model = build_model(ckpt, resolve_device(device))
    if not model.can_reconstruct:
        raise ZooError(f"{model.name} cannot reconstruct images: it has no encoder (try an autoencoder or vae checkpoint)")
    source = data or ckpt.meta.get("dataset", datasets.DEFAULT)
    loaded = datasets.load(source, image_size=int(ckpt.meta.get("image_size", 0)) or None if data is None else None)
    heldout = datasets.split(loaded, "heldout") if data is None else loaded
    if heldout.shape != model.data_shape:
        raise ZooError(f"{source} has images of shape {heldout.shape}; {model.name} was trained on {model.data_shape}")
    count = min(count, len(heldout))
    pick = np.linspace(0, len(heldout) - 1, count).round().astype(int)  # spread out: datasets are often sorted by class
    x = to_float(heldout.images[pick], model.device)
    y = None if heldout.labels is None else torch.from_numpy(heldout.labels[pick]).to(model.device)
    with torch.no_grad():
        rec = model.reconstruct(x, y).float().clamp(-1, 1)
    pairs = torch.stack([x, rec], dim=1).flatten(0, 1)
    save_grid(pairs, out, nrow=16)
    click.echo(f"wrote {count} originals and reconstructions to {out}")
