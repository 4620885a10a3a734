"""``--features inception``: FID, KID and IS in the feature space published papers use, so figures compare with
pytorch-fid's and torch-fidelity's on the same images.

The weights are never bundled. The file pytorch-fid publishes (``pt_inception-2015-12-05-6726825d.pth``,
95,628,359 bytes) is downloaded once when online, or copied by hand into ``$ZOO_HOME/weights/inception``, and
accepted only when its sha256 is the pinned one; only then is it read, with ``torch.load(weights_only=True)``
(tensors only, no pickled code), checked against the network's layout, and converted once to safetensors. Every
later evaluation reads the safetensors file, and only after checking it: its metadata must name the pinned
source and the sha256 of the tensors it holds (see :func:`tensors_sha256`), so weights saved there by anything
but the conversion are converted again from the original, or refused in one line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from zoo.store.atomic import write_bytes
from zoo.datasets import ImageData, download
from zoo.errors import DataError, ZooError
from zoo.store.paths import cache_home
from zoo.store.regular_files import is_regular, read_regular
from zoo.evaluation.inception_net import FIDInceptionV3

log = logging.getLogger(__name__)

WEIGHTS = download.RemoteFile(
    "pt_inception-2015-12-05-6726825d.pth",
    "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
    ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/",),
)
CHUNK = 50
CONVERTED_LIMIT = 256 * 2**20  # the converted weights are 95.6 MB


def converted_path() -> Path:
    return cache_home() / "weights" / "inception" / "pt_inception-2015-12-05-6726825d.safetensors"


def tensors_sha256(state: dict[str, torch.Tensor]) -> str:
    """A digest of the tensors themselves (names, dtypes, shapes and values, in name order), whatever file holds them."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}\n{tensor.dtype}\n{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def convert(source: Path, destination: Path) -> dict[str, torch.Tensor]:
    """The verified .pth -> safetensors, after checking every tensor's name and shape against the network; the
    file's metadata names the source's sha256 and the converted tensors' digest, checked on every load."""
    state = torch.load(source, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    expected = {k: v.shape for k, v in FIDInceptionV3().state_dict().items() if not k.endswith("num_batches_tracked")}
    wrong = sorted(set(expected) ^ set(state)) or [k for k in expected if state[k].shape != expected[k]]
    if wrong:
        raise DataError(f"{source}: not the FID Inception weights ({len(wrong)} tensors differ, e.g. {wrong[0]})")
    state = {k: v.float().contiguous() for k, v in state.items()}
    write_bytes(destination, st_save(state, metadata={"source": WEIGHTS.name, "source_sha256": WEIGHTS.sha256,
                                                      "tensors_sha256": tensors_sha256(state)}))
    return state


def read_converted(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a converted file, if it is one: a regular safetensors file whose metadata names the pinned
    source and whose tensors match the digest recorded at conversion. Otherwise a DataError saying what is wrong."""
    data = read_regular(path, CONVERTED_LIMIT)
    size = int.from_bytes(data[:8], "little")
    try:
        if len(data) < 8 or 8 + size > len(data):
            raise ValueError("a header longer than the file")
        metadata = json.loads(data[8 : 8 + size]).get("__metadata__")
        state = st_load(data)
    except (ValueError, AttributeError, RecursionError, SafetensorError) as exc:
        raise DataError(f"{path}: not a safetensors file ({' '.join(str(exc).split())[:80]})") from None
    metadata = metadata if isinstance(metadata, dict) else {}
    if metadata.get("source_sha256") != WEIGHTS.sha256:
        raise DataError(f"{path}: not converted from {WEIGHTS.name} (its metadata names no such source)")
    if metadata.get("tensors_sha256") != tensors_sha256(state):
        raise DataError(f"{path}: its tensors are not the ones converted (their digest differs from the recorded one)")
    return state


def _fetch_original(folder: Path) -> Path:
    """The pinned .pth in ``folder``, downloading it if needed; a one-line DataError saying what went wrong."""
    local, url = folder / WEIGHTS.name, WEIGHTS.mirrors[0] + WEIGHTS.name
    wrong = is_regular(local) and download.sha256_of(local) != WEIGHTS.sha256
    try:
        return download.fetch("inception", WEIGHTS, folder=folder)
    except DataError as exc:
        needs = f"--features inception needs {WEIGHTS.name} (95.6 MB, sha256 {WEIGHTS.sha256[:12]}...)"
        if wrong:  # a copy put there by hand, and no download replaced it
            raise DataError(f"{local}: fails its checksum, a wrong or truncated copy (the file is 95.6 MB with sha256 "
                            f"{WEIGHTS.sha256[:12]}...): replace it with the one from {url}") from None
        if "not a regular file" in str(exc):
            raise
        why = ("the copy downloaded fails its checksum" if "sha256 mismatch" in str(exc)  # download.fetch's words
               else "it could not be downloaded")
        raise DataError(f"{needs}; {why}: fetch it from {url} and copy it into {folder}{_mirror_note()}") from None


def _mirror_note() -> str:
    """Where ZOO_DATASET_MIRROR is set, that it replaced the weights' download URL too (download.fetch reads it
    for every file); else nothing: it is no way to get the weights."""
    mirror = os.environ.get("ZOO_DATASET_MIRROR", "").strip()
    return (f" (ZOO_DATASET_MIRROR={mirror} replaces the download URLs of the weights too: put the file there, "
            "or unset it)") if mirror else ""


def load_network() -> FIDInceptionV3:
    """The network with the FID weights, fetching and converting them the first time, and converting them again
    when the converted file fails its check and the original is there to convert."""
    path = converted_path()
    state = None
    if path.exists() or path.is_symlink():
        try:
            state = read_converted(path)
        except ZooError as exc:
            problem = str(exc).replace(f"{path}: ", "")
            if not is_regular(path.parent / WEIGHTS.name):
                raise DataError(f"{path}: {problem}; delete it and evaluate again (zoo then fetches and converts "
                                f"{WEIGHTS.name} anew)") from None
            log.info("%s: %s; converting %s again", path, problem, WEIGHTS.name)
    if state is None:
        source = _fetch_original(path.parent)
        if not path.exists():
            log.info("converting the Inception weights to safetensors (once)")
        state = convert(source, path)
    net = FIDInceptionV3()
    missing = net.load_state_dict(state, strict=False)
    if missing.unexpected_keys or [k for k in missing.missing_keys if not k.endswith("num_batches_tracked")]:
        raise DataError(f"{path}: damaged; delete it and evaluate again")
    return net.eval()


class InceptionFeatures:
    """The pool features (2,048) and class logits (1,008) of the FID Inception network."""

    weights_sha256 = WEIGHTS.sha256
    class_figures = False  # ImageNet's classes say nothing about a dataset's own: no class coverage

    def __init__(self, train: ImageData | None = None, network: FIDInceptionV3 | None = None):
        self.net = network if network is not None else load_network()
        self._last: tuple[torch.Tensor, np.ndarray, np.ndarray] | None = None

    @torch.no_grad()
    def _run(self, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Both outputs in one pass (the network is the cost), kept for the next call on the same tensor."""
        if self._last is None or self._last[0] is not images:
            parts = [self.net(chunk.float().cpu()) for chunk in images.split(CHUNK)]
            self._last = (images, *(torch.cat(p).double().numpy() for p in zip(*parts)))
        return self._last[1], self._last[2]

    def features(self, images: torch.Tensor) -> np.ndarray:
        return self._run(images)[0]

    def logits(self, images: torch.Tensor) -> np.ndarray:
        return self._run(images)[1]
