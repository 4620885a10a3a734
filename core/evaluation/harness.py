"""``zoo eval``: one metric harness for GANs, autoencoders and VAEs, offline and reproducible.

Every figure is reported beside its floor: the same metric for held-out real images against the training
images, so a reader sees the floor. Sample metrics live in the feature space of a registered extractor
(zoo's own domain classifier by default); likelihood and reconstruction figures come from the model; a
conditional model's samples are also scored per label (:mod:`zoo.evaluation.conditional`, :mod:`zoo.evaluation.cas`).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from zoo.architecture import eval_mode
from zoo.datasets import ImageData
from zoo.errors import DataError
from zoo.datasets.pixels import to_float
from zoo.registry.lookup import lookup
from zoo.samplers.settings import sampler_record
from zoo.evaluation import metrics
from zoo.evaluation.subsets import at_most as _at_most

log = logging.getLogger(__name__)

IMAGE_CHUNK = 500  # held-out images per reconstruct() or importance_weighted_nll() call
MIN_SAMPLES = 10  # FID needs a covariance, precision/recall k=3 neighbours


@dataclass
class EvalResult:
    """What ``zoo eval`` found: the model's figures, the floor (the same figures for held-out real images) and
    how they were made (``info``, with the provenance two results must share to be compared)."""

    model: dict = field(default_factory=dict)
    floor: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    per_label: list | None = None  # conditional models: one entry per label (zoo.evaluation.conditional)
    cas: dict | None = None  # conditional models: the classification accuracy score (zoo.evaluation.cas)

    def to_dict(self) -> dict:
        report = {"model": self.model, "floor": self.floor, "info": self.info}
        if self.per_label is not None:
            report["per_label"] = self.per_label
        if self.cas is not None:
            report["cas"] = self.cas
        return report


def feature_extractor(name: str, train: ImageData, progress=None):
    """The feature space ``name`` for ``train``; ``progress(done, total)`` hears of the training it needs first,
    where its factory takes a ``progress`` argument (zoo's classifier does)."""
    factory = lookup("features", name).value
    if progress is not None and "progress" in inspect.signature(factory).parameters:
        return factory(train, progress=progress)
    return factory(train)


def provenance(extractor, features: str, train: ImageData, heldout: ImageData, n: int, seed: int,
               train_sha256: str | None = None) -> dict:
    """What a figure depends on: two results are comparable only where these agree (see :func:`zoo.evaluation.comparable.mismatch`)."""
    from zoo.version import __version__

    return {"features": features, "features_sha256": getattr(extractor, "weights_sha256", None),
            "data": train.source or train.name.split(":")[0], "data_sha256": train_sha256 or train.sha256(),
            "heldout_sha256": heldout.sha256(), "split": f"{train.part or 'all'}/{heldout.part or 'all'}",
            "n": n, "seed": seed, "zoo": __version__}


def real_features(extractor, features: str, train: ImageData, train_sha256: str) -> np.ndarray:
    """The feature vectors of the training images, cached under ``$ZOO_HOME/features`` per (feature space, its
    weights, the data), so evaluating again, or another model on the same data, does not recompute them. The
    cache is verified on every read (its sha256 and shape, see :mod:`zoo.evaluation.feature_cache`) and computed
    again when it fails. Extractors that do not state their weights' hash (``weights_sha256``) are not cached."""
    weights = getattr(extractor, "weights_sha256", None)
    if not weights:
        return extractor.features(to_float(train.images))
    from zoo.evaluation import feature_cache
    from zoo.store.paths import cache_home

    key = hashlib.sha256(f"{features}\n{weights}\n{train_sha256}".encode()).hexdigest()[:32]
    path = cache_home() / "features" / f"{key}.npy"
    cached = feature_cache.load(path, len(train))
    if cached is not None:
        return cached
    computed = np.ascontiguousarray(extractor.features(to_float(train.images)))
    feature_cache.save(path, computed)
    return computed


def generate(model, n: int, seed: int, sampling=None, progress=None) -> torch.Tensor:
    """``n`` samples in [-1, 1] on the CPU; conditional models get labels 0, 1, 2, ... in turn. ``sampling``: the
    model's checked sampling settings (or overrides of its defaults); ``progress(done, total)`` hears of the
    sampler's steps."""
    z = model.latent_for_sampling(n, seed)
    labels = torch.arange(n, device=z.device) % model.num_classes if model.conditional else None
    return model.sample(n, z=z, labels=labels, sampling=sampling, progress=progress).cpu()


def load_labelled_samples(path, shape: tuple[int, int, int]) -> tuple[torch.Tensor, np.ndarray | None]:
    """(images as floats, their labels or None) from an .npz whose images must match the data's shape; labels
    (``zoo sample`` writes them for conditional models) make the per-label figures."""
    from zoo.datasets.files import load_npz

    samples = load_npz(Path(path))
    if samples.shape != tuple(shape):
        raise DataError(f"{path}: images of shape {samples.shape}; the data has {tuple(shape)}")
    return to_float(samples.images), samples.labels


REAL_LIMIT = 60_000  # real images scored per set; larger (memory-mapped) datasets give a seeded random subset


KID_UNITS = "x1e3, on features scaled to unit RMS over the training images"


def read(extractor, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
    """(feature vectors, class logits or None) of ``images``."""
    return extractor.features(images), extractor.logits(images)


def _sample_figures(extractor, train_features: np.ndarray, images: torch.Tensor, seed: int,
                    matched: int | None = None, seen: tuple | None = None) -> dict:
    """FID (with its bootstrap spread), KID, precision/recall and the class figures of ``images``; with
    ``matched``, also the FID of that many of them (to set beside a floor measured on so many images). ``seen``:
    their (features, logits) when the caller has them."""
    features, logits = seen or read(extractor, images)
    figures = {"n": len(images), "fid": metrics.fid(features, train_features),
               "fid_std": metrics.fid_spread(features, train_features, seed=seed)}
    if matched is not None and matched < len(features):
        pick = np.random.default_rng(seed).choice(len(features), matched, replace=False)
        figures[f"fid_n{matched}"] = metrics.fid(features[pick], train_features)
    # KID's kernel (x.y/d + 1)^3 assumes features of about unit scale (as Inception's are); in a feature space of
    # another scale the cubic term swamps it and values run into the hundreds. One scale for all sets, taken from
    # the training features, keeps every comparison intact; x1e3 is the customary unit.
    scale = float(np.sqrt(np.mean(np.square(train_features)))) or 1.0
    kid, kid_std = metrics.kid(features / scale, train_features / scale, seed=seed)
    figures["kid"], figures["kid_std"] = 1e3 * kid, 1e3 * kid_std
    figures["precision"], figures["recall"] = metrics.precision_recall(train_features, features)
    if logits is not None:
        probabilities = torch.from_numpy(logits).softmax(1).numpy()
        if getattr(extractor, "class_figures", True):
            figures.update(metrics.confidence_diversity(probabilities))
            figures.update(metrics.class_coverage(logits.argmax(1), logits.shape[1]))
        else:  # a foreign label set (ImageNet's): only the Inception Score means anything
            figures["inception_score"], figures["inception_score_std"] = metrics.inception_score(probabilities, seed=seed)
    return figures


def evaluate(train: ImageData, heldout: ImageData, *, model=None, samples: torch.Tensor | None = None,
             n: int = 5000, seed: int = 0, features: str = "classifier", iw_samples: int = 100,
             sampling=None, progress=None, labels: np.ndarray | None = None, training_progress=None) -> EvalResult:
    """Score a model's samples (or given ``samples``) and the held-out floor against ``train``. ``sampling``
    (the checked settings, or overrides of the defaults) is recorded in ``info``; ``progress`` hears of the
    sampler's steps, ``training_progress`` of the feature network's training where it has to be trained first.
    A conditional model's samples, or given ``samples`` with their ``labels``, are also scored per label and by
    the classification accuracy score (``per_label``, ``cas``) where the data has labels."""
    if model is None and samples is None:
        raise ValueError("give a model or samples")
    if model is not None and tuple(model.data_shape) != train.shape:
        raise DataError(f"{model.name} makes images of shape {model.data_shape}; {train.name} has {train.shape}")
    if samples is not None and labels is not None:
        labels = _checked_labels(labels, len(samples), train)
    drawn = (model.num_classes or 0) if model is not None and model.conditional else 0
    if train.labels is not None and drawn > train.num_classes:
        raise DataError(f"{model.name} draws {drawn} classes; {train.name.split(':')[0]} has {train.num_classes}")
    train, heldout = _at_most(train, REAL_LIMIT, seed), _at_most(heldout, REAL_LIMIT, seed)
    extractor = feature_extractor(features, train, training_progress)
    train_sha256 = train.sha256()
    train_features = real_features(extractor, features, train, train_sha256)
    heldout_images = to_float(heldout.images)
    if samples is None:
        samples = generate(model, n, seed, sampling, progress)
        if model.conditional:  # the labels generate() asked for: 0, 1, 2, ... in turn
            labels = np.arange(len(samples)) % model.num_classes
    if len(samples) < MIN_SAMPLES:
        raise DataError(f"{len(samples)} samples are too few to score; give at least {MIN_SAMPLES}")
    report = EvalResult(info={"data": train.name.split(":")[0], "train_images": len(train), "heldout_images": len(heldout),
                          "features": features, "seed": seed, "kid_units": KID_UNITS,
                          "provenance": provenance(extractor, features, train, heldout, len(samples), seed, train_sha256)})
    if model is not None and model.sampling_class is not None:
        settings = model.sampling_settings(sampling)
        report.info["sampling"] = dict(vars(settings))
        if sampler_record(settings) is not None:
            report.info["sampler"] = sampler_record(settings)
    if hasattr(extractor, "accuracy"):
        report.info["classifier_heldout_accuracy"] = round(extractor.accuracy(heldout), 4)
    sample_seen, heldout_seen = read(extractor, samples), read(extractor, heldout_images)
    report.model = _sample_figures(extractor, train_features, samples, seed, matched=len(heldout_images), seen=sample_seen)
    report.floor = _sample_figures(extractor, train_features, heldout_images, seed, seen=heldout_seen)
    if labels is not None and train.labels is not None and heldout.labels is not None:
        _label_figures(report, extractor, samples, labels, train, train_features, heldout, heldout_images,
                       sample_seen, heldout_seen, seed)
    if model is not None:
        report.model.update(_model_figures(model, heldout, iw_samples, seed))
    elif labels is None and train.labels is not None:  # said once the figures stand, not before an error
        log.info("the samples come without labels: scored as unconditional samples, without per-label figures "
                 "(an .npz with 'labels', one class id per image, as zoo sample writes for conditional models)")
    return report


def _checked_labels(labels, count: int, train: ImageData) -> np.ndarray:
    """Labels given with samples: one class id of the data per sample, or a one-line DataError."""
    labels = np.asarray(labels)
    if labels.shape != (count,) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels of shape {labels.shape} and type {labels.dtype} for {count} samples; give one class "
                        "id per sample")
    if train.labels is None:
        return labels.astype(np.int64)
    bad = labels[(labels < 0) | (labels >= train.num_classes)]
    if len(bad):
        raise DataError(f"sample label {int(bad[0])} is not a class of {train.name.split(':')[0]} "
                        f"(0..{train.num_classes - 1})")
    absent = sorted(set(range(train.num_classes)) - set(labels.tolist()))
    if absent:
        log.info(f"no samples of label{'s' if len(absent) > 1 else ''} {', '.join(map(str, absent[:20]))}"
                 f"{', ...' if len(absent) > 20 else ''} (of {train.num_classes}): their per-label figures are '-'")
    return labels.astype(np.int64)


def _label_figures(report: EvalResult, extractor, samples, labels, train, train_features, heldout, heldout_images,
                   sample_seen, heldout_seen, seed: int) -> None:
    """The per-label figures and the CAS of labelled samples, into ``report`` (its tables get their summary)."""
    from zoo.evaluation import cas, conditional

    num_classes = train.num_classes
    logits_fit = sample_seen[1] is not None and sample_seen[1].shape[1] == num_classes
    class_reader = logits_fit and getattr(extractor, "class_figures", True)  # Inception's classes are not the data's
    report.per_label, model, floor = conditional.per_label(
        sample_features=sample_seen[0], sample_labels=labels,
        sample_read=sample_seen[1].argmax(1) if class_reader else None,
        train_features=train_features, train_labels=train.labels, heldout_features=heldout_seen[0],
        heldout_labels=heldout.labels, heldout_read=heldout_seen[1].argmax(1) if class_reader else None,
        num_classes=num_classes, seed=seed)
    report.cas = cas.classification_accuracy_score(samples, labels, train, heldout_images, heldout.labels, num_classes,
                                                   seed, real_key=f"{train.sha256()}\n{heldout.sha256()}")
    model["cas"], floor["cas"] = report.cas["model"], report.cas["real"]
    report.model.update(model)
    report.floor.update(floor)


@torch.no_grad()
def _model_figures(model, heldout: ImageData, iw_samples: int, seed: int) -> dict:
    device = model.device
    x = to_float(heldout.images, device)
    y = None if heldout.labels is None else torch.from_numpy(heldout.labels).to(device)
    figures = {}
    with eval_mode(model):
        if model.can_reconstruct:
            recon = torch.cat([model.reconstruct(chunk).float().clamp(-1, 1) for chunk in x.split(IMAGE_CHUNK)])
            figures["recon_mse"] = float((((recon - x) / 2) ** 2).mean())  # pixels in [0, 1]
        for key, value in model.validation_logs(x, y).items():
            figures[f"heldout_{key}"] = float(value)
        generator = torch.Generator(device).manual_seed(seed)
        nll = [model.importance_weighted_nll(chunk, k=iw_samples, generator=generator) for chunk in x.split(IMAGE_CHUNK)]
        if nll[0] is not None:
            figures[f"iw_nll_k{iw_samples}"] = float(torch.cat(nll).mean())
    return figures
