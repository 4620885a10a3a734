"""``zoo push``: a model folder on the Hugging Face Hub, a run or checkpoint exported to a temporary folder first.

Only the files zoo writes into a model folder are uploaded (:data:`zoo.store.model_folder.FILES`), in one commit,
and the model card's commands name the repository they were pushed to."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zoo.outputs.model_card import PLACEHOLDER
from zoo.store import hub, model_folder
from zoo.store.checkpoint import load_checkpoint
from zoo.store.regular_files import is_regular, read_regular


@dataclass(frozen=True)
class Pushed:
    """What :func:`push` uploaded: the files' names in the repository, and its URL."""

    files: tuple[str, ...]
    url: str


def push(source: str | os.PathLike, repo_id: str, *, private: bool = False, dtype: str = "fp32",
         weights: str = "sampling", message: str | None = None) -> Pushed:
    """Upload ``source`` (a model folder, or a run, checkpoint or hf:// model exported first as
    :func:`zoo.sharing.export_model` does with ``dtype`` and ``weights``) to the Hub as the model repository
    ``repo_id`` ("owner/name", created if missing; ``private`` for a new one), in one commit (``message``, by
    default "Upload zoo model NAME (step N)"). A folder that does not load is never uploaded."""
    hub.check_repo_id(repo_id)
    hub.library()  # before any export: say what to install first
    with tempfile.TemporaryDirectory(prefix="zoo-push-") as tmp:
        if model_folder.holds_model(source) and not hub.is_hub_address(source):
            folder = Path(source)
        else:
            from zoo.sharing.export import export_model

            folder = export_model(source, Path(tmp) / "model", dtype=dtype, weights=weights)
        ckpt = load_checkpoint(folder)
        files = {name: folder / name for name in model_folder.FILES if is_regular(folder / name)}
        if model_folder.CARD in files:  # the card's commands name the repository
            card = read_regular(files[model_folder.CARD], model_folder.CONFIG_LIMIT)
            files[model_folder.CARD] = card.replace(PLACEHOLDER.encode(), f"{hub.SCHEME}{repo_id}".encode())
        url = hub.upload(files, repo_id, private=private,
                         message=message or f"Upload zoo model {ckpt.architecture} (step {ckpt.step})")
    return Pushed(tuple(files), url)


__all__ = ["push", "Pushed"]
