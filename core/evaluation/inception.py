"""``--features inception``: FID, KID and IS in the feature space published papers use, so figures compare with
pytorch-fid's and torch-fidelity's on the same images.

The weights are never bundled. The file pytorch-fid publishes (``pt_inception-2015-12-05-6726825d.pth``,
95,628,359 bytes) is downloaded once when online, or copied by hand into ``$ZOO_HOME/weights/inception``, and
accepted only when its sha256 is the pinned one; only then is it read, with ``torch.load(weights_only=True)``
(tensors only, no pickled code), checked against the network's layout, and converted once to safetensors. Every
later evaluation reads the safetensors file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from safetensors.torch import save as st_save

from zoo.store.atomic import write_bytes
from zoo.datasets import ImageData, download
from zoo.errors import DataError
from zoo.store.paths import cache_home
from zoo.evaluation.inception_net import FIDInceptionV3

WEIGHTS = download.RemoteFile(
    "pt_inception-2015-12-05-6726825d.pth",
    "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
    ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/",),
)
CHUNK = 50


def converted_path() -> Path:
    return cache_home() / "weights" / "inception" / "pt_inception-2015-12-05-6726825d.safetensors"


def convert(source: Path, destination: Path) -> None:
    """The verified .pth -> safetensors, after checking every tensor's name and shape against the network."""
    state = torch.load(source, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    expected = {k: v.shape for k, v in FIDInceptionV3().state_dict().items() if not k.endswith("num_batches_tracked")}
    wrong = sorted(set(expected) ^ set(state)) or [k for k in expected if state[k].shape != expected[k]]
    if wrong:
        raise DataError(f"{source}: not the FID Inception weights ({len(wrong)} tensors differ, e.g. {wrong[0]})")
    write_bytes(destination, st_save({k: v.float().contiguous() for k, v in state.items()},
                                     metadata={"source": WEIGHTS.name, "source_sha256": WEIGHTS.sha256}))


def load_network() -> FIDInceptionV3:
    """The network with the FID weights, fetching and converting them the first time."""
    path = converted_path()
    if not path.exists():
        try:
            source = download.fetch("inception", WEIGHTS, folder=path.parent)
        except DataError:
            raise DataError(f"--features inception needs {WEIGHTS.name} (95.6 MB, sha256 {WEIGHTS.sha256[:12]}...), "
                            f"which could not be downloaded: fetch it from {WEIGHTS.mirrors[0]}{WEIGHTS.name} and "
                            f"copy it into {path.parent}, or set ZOO_DATASET_MIRROR to a folder URL holding it") from None
        print("zoo: converting the Inception weights to safetensors (once)", file=sys.stderr)
        convert(source, path)
    net = FIDInceptionV3()
    state = load_file(str(path))
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
