"""Sharing a model: a self-contained model folder from a run, a checkpoint or another folder (``export``:
:func:`export_model`, what ``zoo export`` does) and that folder on the Hugging Face Hub (``publish``:
:func:`push`, what ``zoo push`` does). Above the store and the outputs, which it puts together: the weights and
config from :mod:`zoo.store`, the model card and the sample grid from :mod:`zoo.outputs`.

    >>> from zoo.sharing import export_model, push
    >>> export_model("runs/dcgan", "out/dcgan")
    >>> push("runs/dcgan", "me/dcgan-mnist")

Importing this package alone loads neither torch nor huggingface_hub.
"""

from importlib import import_module

_FROM = {"export_model": "zoo.sharing.export", "push": "zoo.sharing.publish", "Pushed": "zoo.sharing.publish"}

__all__ = ["export_model", "push", "Pushed"]


def __getattr__(name: str):
    if name not in _FROM:
        raise AttributeError(f"module 'zoo.sharing' has no attribute {name!r}")
    return getattr(import_module(_FROM[name]), name)
