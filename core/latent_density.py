"""An ex-post density of latent codes (Ghosh et al. 2020): a Gaussian mixture fitted by EM to the codes of the
training images, sampled instead of a prior the codes do not follow.

An autoencoder has no prior at all, and a VAE's codes leave holes in N(0, I) that decode to blends of digits;
sampling where the training codes actually lie gives sharper, better-formed images. The mixture lives in
buffers of a fixed size (so it is saved in checkpoints with the weights); components with weight 0 are unused.
"""

from __future__ import annotations

import math

import torch
from torch import nn

EM_ITERATIONS = 100
RELATIVE_JITTER = 1e-4  # added to each covariance, times the codes' mean variance: keeps every component proper


class LatentMixture(nn.Module):
    """A mixture of ``components`` full-covariance Gaussians over ``dim``-dimensional codes; N(0, I) until fitted."""

    def __init__(self, dim: int, components: int = 10):
        super().__init__()
        self.register_buffer("weights", torch.zeros(components).index_fill_(0, torch.tensor([0]), 1.0))
        self.register_buffer("means", torch.zeros(components, dim))
        self.register_buffer("scale_trils", torch.eye(dim).repeat(components, 1, 1))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` codes on the CPU (the same numbers on every device for the same generator). With one component
        (as before fitting) they are ``mean + eps @ L.T`` for ``eps = torch.randn(n, dim)``: N(0, I) draws equal
        ``torch.randn``'s."""
        weights, means, trils = self.weights.cpu(), self.means.cpu(), self.scale_trils.cpu()
        eps = torch.randn(n, means.shape[1], generator=generator)
        if int((weights > 0).sum()) == 1:
            only = int(weights.argmax())
            return means[only] + eps @ trils[only].T
        which = torch.multinomial(weights, n, replacement=True, generator=generator)
        return means[which] + (trils[which] @ eps[:, :, None]).squeeze(2)

    @torch.no_grad()
    def fit(self, codes: torch.Tensor, seed: int = 0) -> None:
        """Fit the mixture to ``codes`` (N, dim) by EM, started from k-means++ seeding; deterministic per seed.
        With fewer codes than ``components * (dim + 1)`` it falls back to as many components as they support."""
        x = codes.detach().double().cpu()
        n, dim = x.shape
        k = max(1, min(len(self.weights), n // (dim + 1)))
        jitter = RELATIVE_JITTER * float(x.var(0).mean()) * torch.eye(dim, dtype=x.dtype)
        means = _kmeans_plus_plus(x, k, torch.Generator().manual_seed(seed))
        covariances = (torch.cov(x.T) + jitter).expand(k, dim, dim).clone()
        weights = torch.full((k,), 1.0 / k, dtype=x.dtype)
        for _ in range(EM_ITERATIONS):
            trils = torch.linalg.cholesky(covariances)
            log_r = weights.log() + _log_normal(x, means, trils)  # (n, k)
            r = (log_r - log_r.logsumexp(1, keepdim=True)).exp()
            mass = r.sum(0) + 1e-10
            weights = mass / n
            means = (r.T @ x) / mass[:, None]
            scatters = torch.stack([_scatter(x - means[j], r[:, j]) for j in range(k)])
            covariances = scatters / mass[:, None, None] + jitter
        self.weights.zero_()[:k] = weights.to(self.weights)
        self.means.zero_()[:k] = means.to(self.means)
        self.scale_trils[:k] = torch.linalg.cholesky(covariances).to(self.scale_trils)


def _scatter(centred: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_i w_i c_i c_i^T (dim, dim) of the rows c_i of ``centred`` (n, dim)."""
    return (centred * weights[:, None]).T @ centred


def _log_normal(x: torch.Tensor, means: torch.Tensor, trils: torch.Tensor) -> torch.Tensor:
    """log N(x_i; mean_k, L_k L_k^T) for every row i and component k: (n, k), one component at a time, so memory
    stays that of the codes whatever the number of components."""
    log_det = 2 * trils.diagonal(dim1=1, dim2=2).log().sum(1)
    squared = torch.stack([torch.linalg.solve_triangular(tril, (x - mean).T, upper=False).square().sum(0)
                           for mean, tril in zip(means, trils)], 1)
    return -0.5 * squared - 0.5 * log_det - 0.5 * x.shape[1] * math.log(2 * math.pi)


def _kmeans_plus_plus(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k starting means spread over the codes (Arthur & Vassilvitskii 2007)."""
    chosen = [int(torch.randint(len(x), (1,), generator=generator))]
    distance = ((x - x[chosen[0]]) ** 2).sum(1)
    for _ in range(k - 1):
        chosen.append(int(torch.multinomial(distance / distance.sum(), 1, generator=generator)))
        distance = torch.minimum(distance, ((x - x[chosen[-1]]) ** 2).sum(1))
    return x[chosen].clone()


def load_older_checkpoints(module, state_dict, prefix, *args) -> None:
    """A load_state_dict pre-hook for a model with a ``density`` LatentMixture, so checkpoints written before it
    had one still load: a single Gaussian kept as ``latent_mean``/``latent_scale_tril`` (zoo-autoencoder before
    0.3) becomes the mixture's first component; no density at all (zoo-vae before 0.3) becomes N(0, I)."""
    key = prefix + "density."
    if key + "weights" in state_dict:
        return
    fresh = LatentMixture(module.density.means.shape[1], len(module.density.weights))  # N(0, I)
    weights, means, trils = fresh.weights, fresh.means, fresh.scale_trils
    if prefix + "latent_mean" in state_dict:
        means[0] = state_dict.pop(prefix + "latent_mean")
        trils[0] = state_dict.pop(prefix + "latent_scale_tril")
    state_dict.update({key + "weights": weights, key + "means": means, key + "scale_trils": trils})
