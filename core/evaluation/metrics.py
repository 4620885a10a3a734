"""Sample-quality metrics on feature vectors and class probabilities (numpy, float64).

- FID (Heusel et al. 2017): Frechet distance between Gaussians fitted to two feature sets.
- KID (Binkowski et al. 2018): unbiased MMD^2 with the cubic polynomial kernel, mean and std over subsets.
- Precision / recall (Kynkaanniemi et al. 2019): k-NN manifolds of real and generated features, all points.
- Confidence / diversity (the two halves of the Inception Score) and the Inception-Score-style exp(E KL).
- Class coverage: the share of samples per predicted class, a direct mode-collapse alarm.
"""

from __future__ import annotations

import weakref

import numpy as np


def _stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2, root2: np.ndarray | None = None) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2), with Tr (S1 S2)^1/2 from the symmetric S2^1/2 S1 S2^1/2
    (``root2`` = S2^1/2 when the caller has it: one eigendecomposition per distance to a fixed reference)."""
    root2 = _sqrtm_psd(sigma2) if root2 is None else root2
    middle = root2 @ sigma1 @ root2
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt, 0.0))


_last_reference: list = [lambda: None, None]  # (weak ref to features, (mu, sigma, root)): one evaluation scores
# every set against the same training features, so their square root is taken once


def _reference(features: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if _last_reference[0]() is not features:
        mu, sigma = _stats(features)
        _last_reference[:] = [weakref.ref(features), (mu, sigma, _sqrtm_psd(sigma))]
    return _last_reference[1]


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID of ``features_a`` against the reference set ``features_b``."""
    mu, sigma, root = _reference(features_b)
    return frechet_distance(*_stats(features_a), mu, sigma, root)


def _polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


def kid(features_a: np.ndarray, features_b: np.ndarray, subsets: int = 50, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over random subsets of both sets."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    values = [_polynomial_mmd2(a[rng.choice(len(a), size, replace=False)], b[rng.choice(len(b), size, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def fid_spread(features_a: np.ndarray, features_b: np.ndarray, rounds: int = 10, seed: int = 0) -> float:
    """The standard deviation of FID over bootstrap resamples of ``features_a`` (the samples scored), with
    ``features_b`` (the reference) fixed: how much the figure moves from the finite number of samples alone."""
    a = np.asarray(features_a, np.float64)
    rng = np.random.default_rng(seed)
    values = [fid(a[rng.integers(0, len(a), len(a))], features_b) for _ in range(rounds)]
    return float(np.std(values))


BLOCK = 512  # rows of the distance matrix computed at once: memory O(BLOCK x N), any number of points


def _pairwise_sq(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.clip((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T, 0, None)


def _knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance of each point to its k-th nearest other point."""
    return np.concatenate([np.partition(_pairwise_sq(x[i : i + BLOCK], x), k, axis=1)[:, k]  # index 0: the point itself
                           for i in range(0, len(x), BLOCK)])


def _inside(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Share of ``points`` within the radius of at least one centre."""
    hits = [(_pairwise_sq(points[i : i + BLOCK], centres) <= radii[None, :]).any(axis=1) for i in range(0, len(points), BLOCK)]
    return float(np.concatenate(hits).mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Share of fakes inside the real manifold (precision) and of reals inside the fake one (recall), every point
    used (distances in blocks). Sets of k points or fewer use their (size - 1)-th neighbour."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if min(len(real), len(fake)) < 2:
        raise ValueError("precision/recall needs at least 2 points in each set")
    real_radii = _knn_radii(real, min(k, len(real) - 1))
    fake_radii = _knn_radii(fake, min(k, len(fake) - 1))
    return _inside(fake, real, real_radii), _inside(real, fake, fake_radii)


def confidence_diversity(probabilities: np.ndarray) -> dict[str, float]:
    """Mean top-class probability, the effective number of classes exp(H(p(y))), and exp(E KL(p(y|x) || p(y)))."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    marginal = p.mean(axis=0)
    kl = (p * (np.log(p) - np.log(marginal))).sum(axis=1).mean()
    return {
        "confidence": float(p.max(axis=1).mean()),
        "diversity": float(np.exp(-(marginal * np.log(marginal)).sum())),
        "inception_score": float(np.exp(kl)),
    }


def inception_score(probabilities: np.ndarray, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """IS as Salimans et al. and torch-fidelity report it: exp(E KL(p(y|x) || p(y))) in each of ``splits``
    shuffled parts, mean and standard deviation over the parts."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    p = p[np.random.default_rng(seed).permutation(len(p))]
    scores = [np.exp((part * (np.log(part) - np.log(part.mean(axis=0)))).sum(axis=1).mean())
              for part in np.array_split(p, min(splits, len(p)))]
    return float(np.mean(scores)), float(np.std(scores))


def class_coverage(predicted: np.ndarray, num_classes: int, threshold: float = 0.2) -> dict[str, float]:
    """Share of samples per class; a class counts as covered when it gets >= ``threshold`` of a uniform share."""
    shares = np.bincount(np.asarray(predicted), minlength=num_classes)[:num_classes] / max(1, len(predicted))
    return {
        "classes_covered": int((shares >= threshold / num_classes).sum()),
        "min_class_share": float(shares.min()),
        "max_class_share": float(shares.max()),
        "shares": [round(float(s), 4) for s in shares],
    }
