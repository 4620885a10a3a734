"""Adversarial losses and the gradient penalty against hand-computed values."""

import math

import pytest
import torch

import zoo
from zoo import losses
from zoo.registry.lookup import lookup
from zoo.penalty import gradient_penalty

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def softplus(x):
    return math.log1p(math.exp(x))


@pytest.mark.parametrize("name, d, g", [
    ("non-saturating",
     (softplus(-2) + softplus(1)) / 2 + (softplus(0.5) + softplus(-3)) / 2,
     (softplus(-0.5) + softplus(3)) / 2),
    ("wasserstein", (0.5 - 3) / 2 - (2 - 1) / 2, -(0.5 - 3) / 2),
    ("hinge", (0 + 2) / 2 + (1.5 + 0) / 2, -(0.5 - 3) / 2),
    ("least-squares", 0.5 * ((1 + 4) / 2) + 0.5 * ((0.25 + 9) / 2), 0.5 * ((0.25 + 16) / 2)),
])
def test_loss_values(name, d, g):
    loss = lookup("losses", name).value
    assert loss.discriminator(REAL, FAKE).item() == pytest.approx(d, rel=1e-6)
    assert loss.generator(FAKE).item() == pytest.approx(g, rel=1e-6)


def test_unknown_loss_lists_registered_ones():
    with pytest.raises(zoo.UnknownNameError, match="unknown loss 'l1'; registered: hinge, least-squares, non-saturating, ragan, rahinge, wasserstein$"):
        lookup("losses", "l1")


def test_a_penalty_is_not_a_loss_and_is_refused_before_anything_is_built(toy, zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", toy, "--set", "loss=gradient-penalty", "--out", tmp_path / "run", "--quiet")
    assert code == 1 and err.count("\n") == 1
    assert "bad value 'gradient-penalty' for toy-gan config key 'loss'; choose one of: hinge, " in err
    assert not (tmp_path / "run").exists()
    assert lookup("penalties", "gradient-penalty").value is gradient_penalty


def test_penalty_of_a_linear_critic_is_known_in_closed_form():
    # D(x) = <w, x> has gradient w everywhere, so the penalty is (||w|| - 1)^2 whatever the interpolates.
    w = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]])
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((5.0 - 1.0) ** 2)


def test_penalty_uses_one_mix_per_example_and_a_per_example_norm():
    # D(x) = 0.5 ||x||^2 per example has gradient x, so each example's norm is ||a*r + (1-a)*f||.
    critic = lambda x: 0.5 * x.flatten(1).pow(2).sum(1)  # noqa: E731
    real = torch.tensor([[[[1.0, 1.0]]], [[[2.0, 0.0]]]])
    fake = torch.zeros_like(real)
    alpha = torch.tensor([0.5, 1.0])
    norms = [math.sqrt(0.5**2 + 0.5**2), 2.0]
    expected = sum((n - 1) ** 2 for n in norms) / 2
    assert gradient_penalty(critic, real, fake, alpha=alpha).item() == pytest.approx(expected, rel=1e-6)


def test_penalty_is_differentiable_for_the_critic():
    net = torch.nn.Linear(4, 1)
    gp = gradient_penalty(lambda x: net(x.flatten(1)).flatten(), torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2))
    gp.backward()
    assert net.weight.grad is not None and net.weight.grad.abs().sum() > 0


def test_relativistic_losses_against_hand_computed_values():
    sp = softplus
    # REAL scores average 0.5, FAKE scores -1.25
    ragan, rahinge = lookup("losses", "ragan").value, lookup("losses", "rahinge").value
    assert ragan.uses_real_scores and rahinge.uses_real_scores
    assert ragan.discriminator(REAL, FAKE).item() == pytest.approx((sp(-3.25) + sp(-0.25)) / 2 + (sp(0.0) + sp(-3.5)) / 2, rel=1e-6)
    assert ragan.generator(FAKE, REAL).item() == pytest.approx((sp(0.0) + sp(3.5)) / 2 + (sp(3.25) + sp(0.25)) / 2, rel=1e-6)
    assert rahinge.discriminator(REAL, FAKE).item() == pytest.approx((0 + 0.75) / 2 + (1 + 0) / 2)
    assert rahinge.generator(FAKE, REAL).item() == pytest.approx((1 + 4.5) / 2 + (4.25 + 1.25) / 2)


class RecordingRelativistic(losses.AdversarialLoss):
    """A third-party relativistic loss: it sees the real scores in the generator's objective."""

    uses_real_scores = True

    def __init__(self):
        self.seen_real = []

    def discriminator(self, real, fake):
        return torch.nn.functional.softplus(fake - real).mean()

    def generator(self, fake, real=None):
        self.seen_real.append(real)
        return torch.nn.functional.softplus(real.mean() - fake).mean()


class OldStyle(losses.AdversarialLoss):
    """A loss written against the first contract: generator(fake) only."""

    def discriminator(self, real, fake):
        return fake.mean() - real.mean()

    def generator(self, fake):
        return -fake.mean()


@pytest.mark.parametrize("model", ["dcgan", "cgan"])
def test_plugin_losses_old_and_relativistic_train_with_the_stock_gans(register_plugin, model):
    from zoo.architecture import Batch
    from zoo.testing import random_images, tiny_model

    relativistic, old = RecordingRelativistic(), OldStyle()

    class LossPlugin:
        @zoo.hookimpl
        def register_losses(self, register):
            register("my-ragan", relativistic, summary="test relativistic loss")
            register("old-style", old, summary="test loss of the first contract")

    register_plugin(LossPlugin(), "loss-plugin")
    for name in ("my-ragan", "old-style"):
        net = tiny_model(model, width=4, latent_dim=8, loss=name)
        labels = torch.arange(8) % 3 if net.conditional else None
        for step in range(2):
            logs = net.training_step(Batch(random_images(8, net.data_shape, step), labels), step)
            assert all(torch.isfinite(torch.as_tensor(v)) for v in logs.values())
    assert len(relativistic.seen_real) == 2 and relativistic.seen_real[0].shape == (8,)


def test_spectral_norm_is_a_config_away():
    from torch.nn.utils import parametrize

    from zoo.architecture import Batch
    from zoo.testing import random_images, tiny_model

    net = tiny_model("dcgan", width=4, latent_dim=8, d_norm="spectral", loss="hinge")
    convs = [m for m in net.discriminator.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(parametrize.is_parametrized(m, "weight") for m in convs)
    for step in range(30):  # power iteration converges while training
        net.training_step(Batch(random_images(8, net.data_shape, step)), step)
    top = torch.linalg.matrix_norm(convs[-1].weight.detach().flatten(1), ord=2).item()
    assert top == pytest.approx(1.0, abs=0.05)
    with pytest.raises(zoo.ConfigError, match="choose one of: batch, layer, none, spectral"):
        zoo.create_model("dcgan", d_norm="weight")
