"""``zoo push``: a model folder (or a run, exported first) to the Hugging Face Hub (:func:`zoo.sharing.push`)."""

from __future__ import annotations

import click


@click.command("push")
@click.argument("source", metavar="RUN_OR_DIR")
@click.argument("repo_id", metavar="OWNER/NAME")
@click.option("--private", is_flag=True, help="Create the repository private (an existing one keeps its visibility).")
@click.option("--dtype", type=click.Choice(["fp32", "fp16", "bf16"]), default="fp32", show_default=True,
              help="For a run: the precision it is exported in (see zoo export).")
@click.option("--weights", type=click.Choice(["sampling", "all"]), default="sampling", show_default=True,
              help="For a run: which networks it is exported with (see zoo export).")
@click.option("--message", default=None, help="The commit message. [default: Upload zoo model NAME]")
def push(source, repo_id, private, dtype, weights, message):
    """Upload RUN_OR_DIR to the Hugging Face Hub as the model repository OWNER/NAME (created if missing), in one
    commit of exactly these files: model.safetensors (the weights), config.json, README.md (the model card, with
    OWNER/NAME written into its commands) and samples.png. Nothing else in the folder is uploaded. A run or
    checkpoint is exported to a temporary folder first, as zoo export does.

    Needs pip install 'zoo-core[hub]'. The login is huggingface_hub's own (hf auth login, or HF_TOKEN); zoo
    stores no credentials. Others then run: zoo sample hf://OWNER/NAME -n 64 --out grid.png"""
    from zoo.sharing.publish import push as push_model

    pushed = push_model(source, repo_id, private=private, dtype=dtype, weights=weights, message=message)
    click.echo(f"pushed {', '.join(pushed.files)} to {pushed.url}")
    click.echo(f"sample from it: zoo sample hf://{repo_id} -n 64 --out grid.png")
