"""``zoo push``: a model folder (or a run, exported first) to the Hugging Face Hub."""

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
    import tempfile
    from pathlib import Path

    from zoo.outputs.model_card import PLACEHOLDER
    from zoo.store import hub, model_folder
    from zoo.store.checkpoint import load_checkpoint
    from zoo.store.regular_files import is_regular, read_regular

    hub.check_repo_id(repo_id)
    hub.library()  # before any export: say what to install first
    with tempfile.TemporaryDirectory(prefix="zoo-push-") as tmp:
        if model_folder.holds_model(source) and not hub.is_hub_address(source):
            folder = Path(source)
        else:
            from zoo.store.export import export_model

            folder = export_model(source, Path(tmp) / "model", dtype=dtype, weights=weights)
        ckpt = load_checkpoint(folder)  # a folder that does not load is never uploaded
        files = {name: folder / name for name in model_folder.FILES if is_regular(folder / name)}
        if model_folder.CARD in files:  # the card's commands name the repository
            card = read_regular(files[model_folder.CARD], model_folder.CONFIG_LIMIT)
            files[model_folder.CARD] = card.replace(PLACEHOLDER.encode(), f"hf://{repo_id}".encode())
        url = hub.upload(files, repo_id, private=private,
                         message=message or f"Upload zoo model {ckpt.architecture} (step {ckpt.step})")
    click.echo(f"pushed {', '.join(files)} to {url}")
    click.echo(f"sample from it: zoo sample hf://{repo_id} -n 64 --out grid.png")
