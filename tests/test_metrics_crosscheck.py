"""zoo's FID, KID and precision/recall against maintained implementations on the same feature arrays:
torchmetrics (FID, KID) and prdc (precision/recall of Kynkaanniemi et al., as Naeem et al. publish it)."""

import numpy as np
import torch
from prdc import compute_prdc
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import poly_mmd

from zoo.evaluation import metrics


class GivenFeatures(torch.nn.Module):
    """A 'feature extractor' that returns its input: the features are given."""

    def __init__(self, dimensions):
        super().__init__()
        self.num_features = dimensions

    def forward(self, x):
        return x


def feature_sets(seed=0, real=700, fake=600, dimensions=16):  # more points than one distance block (512)
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(real, dimensions))
    b = rng.normal(size=(fake, dimensions)) @ np.diag(np.linspace(0.5, 1.5, dimensions)) + 0.3
    return a, b


def test_fid_agrees_with_torchmetrics():
    real, fake = feature_sets()
    reference = FrechetInceptionDistance(feature=GivenFeatures(real.shape[1]))
    reference.update(torch.from_numpy(real), real=True)
    reference.update(torch.from_numpy(fake), real=False)
    assert abs(metrics.fid(fake, real) - float(reference.compute())) < 1e-6 * max(1.0, metrics.fid(fake, real))


def test_kid_agrees_with_torchmetrics_on_the_whole_sets():
    real, fake = feature_sets(1, real=600, fake=600)  # torchmetrics' estimator takes sets of one size
    ours, spread = metrics.kid(fake, real, subsets=1, subset_size=10**6)
    theirs = float(poly_mmd(torch.from_numpy(real), torch.from_numpy(fake)))
    assert abs(ours - theirs) < 1e-9 and spread == 0.0


def test_precision_and_recall_agree_with_prdc_using_every_point(capsys):
    real, fake = feature_sets(2)
    for k in (3, 5):
        theirs = compute_prdc(real, fake, nearest_k=k)
        ours = metrics.precision_recall(real, fake, k=k)
        assert ours == (float(theirs["precision"]), float(theirs["recall"]))
    assert 0.05 < ours[0] < 0.95 and 0.05 < ours[1] < 0.95  # neither trivially 0 nor 1


def test_fid_spread_shrinks_with_more_samples():
    real, _ = feature_sets(3, real=2000)
    few, many = (np.random.default_rng(4).normal(size=(n, 16)) for n in (100, 1600))
    assert metrics.fid_spread(many, real) < metrics.fid_spread(few, real)
    assert metrics.fid_spread(few, real, seed=1) > 0
