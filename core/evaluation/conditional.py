"""Per-label figures of a conditional model: does it draw the class it is asked for?

For each label L, beside the same figure for the held-out real images of L (the floor):

- **agreement**: the share of the samples drawn for L that the feature network reads as L. Its floor is the
  share of held-out real images of L it reads as L: a model drawing exactly the data's images of L lands there,
  not at 100 %, because the feature network misreads some real images too. The floor comes with its binomial
  standard error and 95 % Wilson interval (it rests on the few held-out images of one label), and a label is
  ``short`` when its agreement is below its floor by more than two standard errors of the difference (the floor
  Agresti-Coull adjusted, so a floor of 50/50 still has an error);
- **intra-class FID**: the FID of the samples of L against the training images of L (``fid``), of as many of
  them as there are held-out images of L (``fid_matched``: FID is biased by the sample count), and of the
  held-out images of L (``fid_floor``).

Numpy only: the harness hands in feature vectors, predicted classes and labels.
"""

from __future__ import annotations

import math

import numpy as np

from zoo.evaluation import metrics

Z95 = 1.959964  # the normal quantile of a two-sided 95 % interval
MIN_FID_IMAGES = 2  # a covariance needs two points


def wilson(right: int, count: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``right / count`` (0..1 for no trials)."""
    if count == 0:
        return 0.0, 1.0
    p = right / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return max(0.0, centre - half), min(1.0, centre + half)


def short(agreement: float, n: int, right: int, count: int) -> bool:
    """Is ``agreement`` (of ``n`` samples) below the floor ``right / count`` by more than two standard errors of
    the difference? The floor is Agresti-Coull adjusted ((right + 2) / (count + 4))."""
    real = (right + 2) / (count + 4)
    error = math.sqrt(real * (1 - real) / (count + 4) + agreement * (1 - agreement) / max(n, 1))
    return agreement < real - 2 * error


def _fid(features: np.ndarray, reference: np.ndarray) -> float | None:
    if min(len(features), len(reference)) < MIN_FID_IMAGES:
        return None
    return metrics.fid(features, reference)


def _label(label: int, sample_features, sample_labels, sample_read, train_features, train_labels,
           heldout_features, heldout_labels, heldout_read, rng) -> dict:
    mine, real, held = sample_labels == label, train_labels == label, heldout_labels == label
    n, count = int(mine.sum()), int(held.sum())
    entry: dict = {"label": label, "n": n}
    if sample_read is not None:
        right = int((heldout_read[held] == label).sum())
        agreement = float((sample_read[mine] == label).mean()) if n else None
        floor = right / count if count else None
        low, high = wilson(right, count)
        entry.update(agreement=agreement, floor=floor, floor_n=count, floor_right=right,
                     floor_se=None if floor is None else math.sqrt(floor * (1 - floor) / count),
                     floor_low=low if count else None, floor_high=high if count else None,
                     short=None if agreement is None or not count else short(agreement, n, right, count))
    reference = train_features[real]  # one array for the three: its square root is taken once (metrics.fid)
    entry["fid"] = _fid(sample_features[mine], reference)
    matched = sample_features[mine]
    if count < len(matched):
        matched = matched[np.sort(rng.choice(len(matched), count, replace=False))]
    entry["fid_matched"] = _fid(matched, reference)
    entry["fid_floor"] = _fid(heldout_features[held], reference)
    return entry


def _mean(entries: list[dict], key: str) -> float | None:
    values = [e[key] for e in entries if e.get(key) is not None]
    return float(np.mean(values)) if values else None


def per_label(*, sample_features: np.ndarray, sample_labels: np.ndarray, sample_read: np.ndarray | None,
              train_features: np.ndarray, train_labels: np.ndarray, heldout_features: np.ndarray,
              heldout_labels: np.ndarray, heldout_read: np.ndarray | None, num_classes: int,
              seed: int = 0) -> tuple[list[dict], dict, dict]:
    """(one entry per label, the model's summary figures, the floor's). ``*_read`` are the classes the feature
    network reads (None when its classes are not the data's, e.g. Inception's: then no agreement)."""
    rng = np.random.default_rng(seed)
    entries = [_label(label, sample_features, sample_labels, sample_read, train_features, train_labels,
                      heldout_features, heldout_labels, heldout_read, rng) for label in range(num_classes)]
    model, floor = {}, {}
    if sample_read is not None:
        model["label_agreement"], floor["label_agreement"] = _mean(entries, "agreement"), _mean(entries, "floor")
        model["labels_short"] = sum(bool(e["short"]) for e in entries)
    model["intra_fid"], floor["intra_fid"] = _mean(entries, "fid"), _mean(entries, "fid_floor")
    model["intra_fid_matched"] = _mean(entries, "fid_matched")
    return entries, model, floor
