"""``zoo train --init-from DIR_OR_HF``: a new run that starts from a model folder's weights (zoo export's, local or
``hf://owner/name``). The model and its config come from the folder unless given; the folder is only read.

Planning loads the folder (:func:`initial_weights`) and checks it against the data (:func:`check_data_shape`);
the Trainer puts the weights into the model it built, before step 0; the run record says where they came from.
"""

from __future__ import annotations

import logging

import torch

from zoo.errors import ZooError
from zoo.store import hub
from zoo.store.checkpoint import Checkpoint, left_out, load_checkpoint, load_weights
from zoo.training.distributed import is_rank_zero

log = logging.getLogger(__name__)


def initial_weights(source: str, model: str | None, model_options: dict) -> tuple[str, dict, Checkpoint, dict]:
    """(model name, its config keys, the weights, what the run record keeps of them) for ``--init-from source``:
    the folder's config, updated by the keys given (which must still fit its weights)."""
    weights = load_checkpoint(source)
    if model is not None and model != weights.architecture:
        raise ZooError(f"--init-from {source} holds a '{weights.architecture}' model, not '{model}'")
    missing = left_out(weights)
    text = str(source)
    where = hub.SCHEME + text.split(":/", 1)[1].lstrip("/") if hub.is_hub_address(text) else text
    record = {"source": where, "model": weights.architecture, "step": weights.step, "left_out": missing}
    return weights.architecture, {**weights.json("config"), **model_options}, weights, record


def load_initial_weights(model, weights: Checkpoint, record: dict) -> None:
    """Put the folder's weights into the freshly built ``model``: a network it left out whose EMA it holds (a GAN's
    ``generator`` beside ``generator_ema``, a denoiser's ``network`` beside ``network_ema``: what a default export
    keeps) starts from that EMA, the others left out keep the weights they were built with; say so once, from the
    first process."""
    load_weights(model, weights)
    averaged = _averages_of_left_out(model, record["left_out"])
    for name, ema in averaged.items():
        getattr(model, name).load_state_dict(getattr(model, ema).state_dict())
    fresh = [name for name in record["left_out"] if name not in averaged]
    if record["left_out"] and is_rank_zero():
        kept = sorted({key.split(".", 2)[1] for key in weights.tensors if key.startswith("model.")})
        said = [f"{name} starts from {ema}" for name, ema in averaged.items()]
        if fresh:
            said.append(f"{', '.join(fresh)} start{'s' if len(fresh) == 1 else ''} from initial weights")
        log.info("%s holds %s only; %s (zoo export --weights all keeps every network)", record["source"],
                 ", ".join(kept), "; ".join(said))


def _averages_of_left_out(model, left_out: list[str]) -> dict[str, str]:
    """{left-out network: its EMA} for those whose EMA (``<name>_ema``, of the same tensors) the folder kept."""
    pairs = {}
    for name in left_out:
        ema = f"{name}_ema"
        if ema not in left_out and isinstance(getattr(model, ema, None), torch.nn.Module):
            if getattr(model, ema).state_dict().keys() == getattr(model, name).state_dict().keys():
                pairs[name] = ema
    return pairs


def check_data_shape(source: str, weights: Checkpoint, shape: tuple[int, ...], data_name: str) -> None:
    """The data must be of the shape the weights were trained on."""
    trained = tuple(weights.json("data_shape"))
    if trained != tuple(shape):
        raise ZooError(f"--init-from {source} makes {'x'.join(map(str, trained))} images; {data_name} has "
                       f"{'x'.join(map(str, shape))}")


__all__ = ["initial_weights", "load_initial_weights", "check_data_shape"]
