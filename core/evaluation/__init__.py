"""``zoo eval``: one metric harness for GANs, autoencoders and VAEs, offline and reproducible.

Every figure is reported beside its baseline: the same metric for held-out real images against the training
images, so a reader sees the floor. Sample metrics live in the feature space of a registered extractor
(zoo's own domain classifier by default); likelihood and reconstruction figures come from the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..datasets import ImageData
from ..errors import DataError, ZooError
from . import metrics

SAMPLE_CHUNK = 500
MAX_MANIFOLD_POINTS = 2000  # precision/recall is quadratic in memory; a random subset of this size is used


@dataclass
class Report:
    model: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"model": self.model, "baseline": self.baseline, "info": self.info}


def feature_extractor(name: str, train: ImageData):
    from ..collect import collect

    registered = collect("register_feature_extractors", "feature extractor").entries
    if name not in registered:
        raise ZooError(f"unknown feature extractor '{name}'; registered: {', '.join(sorted(registered))}")
    return registered[name].value(train)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).float().div(127.5).sub(1)


def generate(model, n: int, seed: int) -> torch.Tensor:
    """``n`` samples in [-1, 1] on the CPU; conditional models get labels 0, 1, 2, ... in turn."""
    z = model.latent_for_sampling(n, seed)
    labels = torch.arange(n, device=z.device) % model.num_classes if model.conditional else None
    chunks = []
    for start in range(0, n, SAMPLE_CHUNK):
        part = None if labels is None else labels[start : start + SAMPLE_CHUNK]
        chunks.append(model.sample(len(z[start : start + SAMPLE_CHUNK]), z=z[start : start + SAMPLE_CHUNK], labels=part).cpu())
    return torch.cat(chunks)


def load_samples(path, shape: tuple[int, int, int]) -> torch.Tensor:
    """uint8 images from an .npz (``images``: N x H x W or N x C x H x W) that must match the data's shape."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            images = npz["images"] if "images" in npz.files else None
    except Exception as exc:
        raise DataError(f"{path}: not a readable .npz ({type(exc).__name__})") from None
    if images is None or len(images) == 0:
        raise DataError(f"{path}: no images (expected a non-empty 'images' array)")
    if images.ndim == 3:
        images = images[:, None]
    if images.dtype != np.uint8 or tuple(images.shape[1:]) != tuple(shape):
        raise DataError(f"{path}: images are {images.dtype} {tuple(images.shape[1:])}; the data needs uint8 {tuple(shape)}")
    return to_tensor(images)


def _sample_figures(extractor, train_features: np.ndarray, images: torch.Tensor, seed: int) -> dict:
    features = extractor.features(images)
    figures = {"n": len(images), "fid": metrics.fid(features, train_features)}
    figures["kid"], figures["kid_std"] = metrics.kid(features, train_features, seed=seed)
    rng = np.random.default_rng(seed)
    pick = lambda x: x[rng.choice(len(x), min(len(x), MAX_MANIFOLD_POINTS), replace=False)]  # noqa: E731
    figures["precision"], figures["recall"] = metrics.precision_recall(pick(train_features), pick(features))
    logits = extractor.logits(images)
    if logits is not None:
        probabilities = torch.from_numpy(logits).softmax(1).numpy()
        figures.update(metrics.confidence_diversity(probabilities))
        figures.update(metrics.class_coverage(logits.argmax(1), logits.shape[1]))
    return figures


def evaluate(train: ImageData, heldout: ImageData, *, model=None, samples: torch.Tensor | None = None,
             n: int = 5000, seed: int = 0, features: str = "classifier", iw_samples: int = 100) -> Report:
    """Score a model's samples (or given ``samples``) and the held-out baseline against ``train``."""
    if model is None and samples is None:
        raise ValueError("give a model or samples")
    if model is not None and tuple(model.data_shape) != train.shape:
        raise DataError(f"{model.name} makes images of shape {model.data_shape}; {train.name} has {train.shape}")
    extractor = feature_extractor(features, train)
    train_images = to_tensor(train.images)
    train_features = extractor.features(train_images)
    heldout_images = to_tensor(heldout.images)
    if samples is None:
        samples = generate(model, n, seed)
    report = Report(info={"data": train.name.split(":")[0], "train_images": len(train), "heldout_images": len(heldout),
                          "features": features, "seed": seed})
    if hasattr(extractor, "accuracy"):
        report.info["classifier_heldout_accuracy"] = round(extractor.accuracy(heldout), 4)
    report.model = _sample_figures(extractor, train_features, samples, seed)
    report.baseline = _sample_figures(extractor, train_features, heldout_images, seed)
    if model is not None:
        report.model.update(_model_figures(model, heldout, iw_samples, seed))
    return report


@torch.no_grad()
def _model_figures(model, heldout: ImageData, iw_samples: int, seed: int) -> dict:
    device = model.device
    x = to_tensor(heldout.images).to(device)
    y = None if heldout.labels is None else torch.from_numpy(heldout.labels).to(device)
    figures = {}
    was_training = model.training
    model.eval()
    try:
        if model.can_reconstruct:
            recon = torch.cat([model.reconstruct(chunk).float().clamp(-1, 1) for chunk in x.split(SAMPLE_CHUNK)])
            figures["recon_mse"] = float((((recon - x) / 2) ** 2).mean())  # pixels in [0, 1]
        for key, value in model.validation_logs(x, y).items():
            figures[f"heldout_{key}"] = float(value)
        generator = torch.Generator(device).manual_seed(seed)
        nll = [model.importance_weighted_nll(chunk, k=iw_samples, generator=generator) for chunk in x.split(SAMPLE_CHUNK)]
        if nll[0] is not None:
            figures[f"iw_nll_k{iw_samples}"] = float(torch.cat(nll).mean())
    finally:
        model.train(was_training)
    return figures
