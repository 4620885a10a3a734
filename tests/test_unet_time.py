"""The U-Net's time convention as the plugin guide states it: [0, 1] with the embedding's scale of 1000, times
outside defined and distinct, and the map from an EDM-style model's noise levels to times."""

import math

import pytest
import torch

from zoo.errors import ConfigError
from zoo.networks import SIGMA_MAX, SIGMA_MIN, UNet, sigma_of_time, time_embedding, time_of_sigma


def test_the_ends_of_edms_noise_range_are_times_0_and_1_and_log_sigma_is_linear_between():
    t = time_of_sigma(torch.tensor([SIGMA_MIN, math.sqrt(SIGMA_MIN * SIGMA_MAX), SIGMA_MAX]))
    torch.testing.assert_close(t, torch.tensor([0.0, 0.5, 1.0]))
    assert float(time_of_sigma(1.0, sigma_min=0.1, sigma_max=10.0)) == pytest.approx(0.5)


def test_noise_levels_outside_the_range_go_on_beyond_0_and_1_and_come_back():
    sigma = torch.tensor([1e-4, 200.0, 1000.0])
    t = time_of_sigma(sigma)
    assert t[0] < 0 and 1 < t[1] < t[2]  # not clamped: no two noise levels share a time
    torch.testing.assert_close(sigma_of_time(t), sigma, rtol=1e-5, atol=0)


def test_a_range_without_room_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="0 < sigma_min < sigma_max"):
        time_of_sigma(1.0, sigma_min=1.0, sigma_max=0.5)


def test_times_outside_0_1_are_defined_and_kept_apart_by_the_lowest_frequency():
    t = torch.tensor([-2.0, 0.0, 1.0, 3.0, 9.0])
    features = time_embedding(t, 16)
    assert torch.isfinite(features).all()
    lowest = torch.stack([features[:, 7], features[:, 15]], dim=1)  # sin and cos of the lowest frequency
    angles = torch.atan2(lowest[:, 0], lowest[:, 1])
    assert (angles.diff() > 0).all()  # below |t| ~ 10 at dim 16 the lowest frequency has not wrapped round


def test_the_unet_takes_an_edm_style_call():
    net = UNet((1, 8, 8), width=8, multipliers=(1,), attention=False)
    sigma = torch.exp(torch.randn(4, generator=torch.Generator().manual_seed(0)) * 1.2 - 1.2)  # EDM's log-normal
    x = torch.randn(4, 1, 8, 8)
    c_in = 1 / (sigma**2 + 0.5**2).sqrt()
    out = net(c_in[:, None, None, None] * x, time_of_sigma(sigma))
    assert out.shape == x.shape and torch.isfinite(out).all()
