import math

import pytest
import torch

import zoo
from zoo.testing import ARCHITECTURE_CHECKS, check_resume_exact

SMALL = dict(width=8, multipliers="1,2")


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check("flow-matching", tmp_path)


def test_the_conditional_variant_resumes_exactly(tmp_path):
    check_resume_exact("flow-matching", tmp_path, conditional=True, **SMALL)


def test_registry_finds_it_after_install():
    spec = zoo.get_model("flow-matching")
    assert spec.distribution == "zoo-flow-matching" and "Lipman" in spec.summary
    assert {o.name for o in spec.describe_sampling()} == {"sampler", "steps", "guidance", "ema"}


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64)])
def test_every_declared_shape(shape):
    model = zoo.create_model("flow-matching", data_shape=shape, **SMALL)
    assert model.sample(2, seed=0, sampling={"steps": 2}).shape == (2, *shape)


def _with_velocity(model, velocity):
    model.predict = lambda x, t, labels, settings: velocity(x, t)
    return model


def test_euler_follows_the_straight_path_to_the_one_image_it_knows():
    """With the exact velocity toward a single image, (target - x) / (1 - t), every Euler step count lands on it."""
    target = torch.rand(1, 1, 28, 28) * 2 - 1
    model = _with_velocity(zoo.create_model("flow-matching", **SMALL), lambda x, t: (target - x) / (1 - t))
    for steps in (1, 3, 10):
        assert torch.allclose(model.sample(2, seed=0, sampling={"sampler": "euler", "steps": steps}), target.expand(2, -1, -1, -1), atol=1e-5)


def test_heun_is_second_order():
    """On dx/dt = -x (exact: x0 e^-1), Heun's error falls ~4x when the steps double, Euler's ~2x, and Heun's is
    the smaller at the same network evaluations (its Euler step onto the image keeps it second order: the ratio
    reads 4.6 from 4 to 8 steps, 4.3 from 8 to 16)."""
    model = _with_velocity(zoo.create_model("flow-matching", **SMALL), lambda x, t: -x)
    z = torch.full((1, 1, 28, 28), 0.5)
    exact = 0.5 * math.exp(-1)

    def error(sampler, steps, shift=1.0):  # evenly: the order; the default shift suits trained networks
        settings = model.sampling_settings({"sampler": sampler, "steps": steps, "time_shift": shift})
        return abs(model.generate(z, None, settings)[0, 0, 0, 0].item() - exact)

    assert 3.5 < error("heun", 8) / error("heun", 16) < 4.5
    assert 1.7 < error("euler", 8) / error("euler", 16) < 2.3
    assert error("heun", 8) < error("euler", 15) / 4  # 15 evaluations each
    assert 3.5 < error("heun", 32, 3.0) / error("heun", 64, 3.0) < 4.5  # shifted as by default, later


def test_sampling_uses_the_ema_weights_unless_told_not_to():
    model = zoo.create_model("flow-matching", **SMALL)
    with torch.no_grad():
        for p in model.network.parameters():
            p.add_(0.1)
    assert not torch.equal(model.sample(2, seed=0, sampling={"steps": 2}), model.sample(2, seed=0, sampling={"steps": 2, "ema": False}))
    off = zoo.create_model("flow-matching", ema_decay=0.0, **SMALL)
    assert off.network_ema is None and off.sample(1, seed=0, sampling={"steps": 1}).shape == (1, 1, 28, 28)


def test_guidance_mixes_labelled_and_unlabelled_outputs():
    model = zoo.create_model("flow-matching", conditional=True, num_classes=3, **SMALL)
    with torch.no_grad():
        for p in model.network_ema.parameters():
            p.normal_(0, 0.05)
    x, t, labels = torch.randn(2, 1, 28, 28), torch.full((2,), 0.5), torch.tensor([0, 2])
    net = model.network_ema
    plain, free = net(x, t, labels), net(x, t, torch.full_like(labels, net.null_label))
    assert torch.allclose(net.guided(x, t, labels, 3.0), free + 3.0 * (plain - free), atol=1e-5)
    assert torch.equal(net.guided(x, t, labels, 1.0), plain)


def test_labels_are_hidden_for_the_share_asked():
    model = zoo.create_model("flow-matching", conditional=True, num_classes=10, **SMALL)
    torch.manual_seed(0)
    dropped = model.network.drop_labels(torch.zeros(20_000, dtype=torch.long), 0.1)
    assert abs((dropped == model.network.null_label).float().mean().item() - 0.1) < 0.01
    assert set(dropped.unique().tolist()) == {0, 10}
