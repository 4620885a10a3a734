"""``zoo export``: a self-contained model folder (weights, config, model card, sample grid) from a run."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli.sampling_options import EPILOG, TakesSamplingOptions


@click.command("export", cls=TakesSamplingOptions, epilog=EPILOG)
@click.argument("source", metavar="RUN_OR_CKPT")
@click.argument("out", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--dtype", type=click.Choice(["fp32", "fp16", "bf16"]), default="fp32", show_default=True,
              help="Precision of the saved weights; fp16 and bf16 halve the file (samples then differ slightly).")
@click.option("--weights", type=click.Choice(["sampling", "all"]), default="sampling", show_default=True,
              help="sampling: the networks that sampling (and reconstruction) read, e.g. a GAN's EMA generator "
                   "without its discriminator; all: every network, to fine-tune a GAN with its discriminator.")
@click.pass_context
def export(ctx, source, out, dtype, weights):
    """Write the model folder DIR from RUN_OR_CKPT (a run folder, a checkpoint, a model folder or hf://owner/name):
    model.safetensors (weights only: no optimiser, RNG or trainer state), config.json (model, config, data shape,
    classes, versions, where it came from), README.md (a model card the Hugging Face Hub reads, with the run's
    evaluation) and samples.png. DIR must not exist, or be empty; the source is never written to. The folder
    keeps the model's sampling options (the defaults, or those given: --steps 20) and samples with them.

    \b
    zoo export runs/dcgan out/dcgan
    zoo sample out/dcgan -n 64 --out grid.png
    zoo push out/dcgan OWNER/NAME"""
    from zoo.cli.train import sigterm_as_interrupt
    from zoo.sharing.export import export_model
    from zoo.store.model_folder import WEIGHTS

    with sigterm_as_interrupt():  # a killed export removes the folder it was building
        folder = export_model(source, out, dtype=dtype, weights=weights, sampling=ctx.meta["sampling"])
    size = (folder / WEIGHTS).stat().st_size
    click.echo(f"exported {source} to {folder} ({WEIGHTS} {size / 2**20:.2f} MiB, config.json, README.md, samples.png)")
    click.echo(f"next: zoo sample {folder} -n 64 --out grid.png, or zoo push {folder} OWNER/NAME")
