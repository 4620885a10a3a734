"""The U-Net's optional step-size conditioning (shortcut models): off, the network is the one every existing model
and checkpoint has (same parameters, keys and outputs); on, it is an extra embedding of log2 d added to the
time's, starting at zero, and a denoiser asks for it with ``step_size_conditioned``."""

import pytest
import torch

import zoo
from zoo.denoising import DenoiserConfig, GuidedSampling
from zoo.denoising.model import Denoiser
from zoo.networks.unet import UNet, step_size_embedding

SHAPE = (1, 8, 8)
SMALL = dict(width=8, multipliers=(1, 2), attention=True, num_classes=3)


def built(seed: int = 0, **options) -> UNet:
    torch.manual_seed(seed)
    return UNet(SHAPE, **SMALL, **options)


def perturb(network: UNet) -> UNet:
    with torch.no_grad():
        for p in network.parameters():
            p.add_(0.05 * torch.randn(p.shape))  # drawn in logical order, whatever the layout
    return network


def inputs(n: int = 4):
    generator = torch.Generator().manual_seed(1)
    return torch.randn(n, *SHAPE, generator=generator), torch.rand(n, generator=generator), torch.tensor([0, 1, 2, 0])


def test_off_it_is_the_unet_it_was_and_on_it_only_adds_its_own_layers():
    plain, default, stepped = built(), built(step_size=False), built(step_size=True)
    assert plain.step_size is None and list(plain.state_dict()) == list(default.state_dict())
    added = set(stepped.state_dict()) - set(plain.state_dict())
    assert added and all(key.startswith("step_size.") for key in added)
    shared = stepped.state_dict()
    assert all(torch.equal(value, shared[key]) for key, value in plain.state_dict().items())  # same seed, same init


def test_a_new_step_conditioned_unet_gives_the_plain_ones_outputs_bit_for_bit():
    plain, stepped = built(), built(step_size=True)
    x, t, labels = inputs()
    for d in (1.0, 0.5, 1 / 128):
        assert torch.equal(plain(x, t, labels), stepped(x, t, labels, torch.full((4,), d)))


def test_on_the_output_depends_on_the_step_and_needs_one():
    network = perturb(built(step_size=True))
    x, t, labels = inputs()
    one, half = network(x, t, labels, torch.ones(4)), network(x, t, labels, torch.full((4,), 0.5))
    assert torch.isfinite(one).all() and not torch.allclose(one, half)
    with pytest.raises(ValueError, match="step_size"):
        network(x, t, labels)


def test_guidance_passes_the_step_to_both_halves():
    network = perturb(built(step_size=True))
    x, t, labels = inputs()
    d = torch.tensor([1.0, 0.5, 0.25, 0.125])
    plain, free = network(x, t, labels, d), network(x, t, torch.full_like(labels, network.null_label), d)
    torch.testing.assert_close(network.guided(x, t, labels, 2.0, d), free + 2.0 * (plain - free))


def test_step_sizes_are_embedded_by_log2_so_halvings_are_evenly_spaced():
    d = torch.tensor([1.0, 0.5, 0.25, 0.125])
    features = step_size_embedding(d, 16)
    angles = torch.atan2(features[:, 7], features[:, 15])  # the lowest frequency: sin, cos
    assert features.shape == (4, 16) and torch.allclose(angles.diff(), angles.diff()[:1].expand(3))


class _Stepped(Denoiser):
    prediction = "velocity"
    step_size_conditioned = True


def test_a_denoiser_asks_for_it_and_predict_passes_the_step_through():
    model = _Stepped(DenoiserConfig(width=8, multipliers="1", attention=False))
    assert model.network.step_size is not None and model.network_ema.step_size is not None
    assert zoo.create_model("flow-matching", width=8, multipliers="1", attention=False).network.step_size is None
    perturb(model.network_ema)
    x, settings = torch.randn(2, 1, 28, 28), GuidedSampling()
    one, half = model.predict(x, 0.5, None, settings, step_size=1.0), model.predict(x, 0.5, None, settings, 0.5)
    assert torch.equal(one, model.network_ema(x, torch.full((2,), 0.5), None, torch.ones(2)))
    assert not torch.allclose(one, half)
