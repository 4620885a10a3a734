from unittest import mock

import pytest
import torch
from torch import nn

import zoo
from zoo.architecture import Batch
from zoo.store.checkpoint import load_model, save_checkpoint
from zoo.testing import ARCHITECTURE_CHECKS

NAME = "wgan-gp"
TINY = {"width": 4, "latent_dim": 8}


def tiny_model(**overrides):
    model = zoo.create_model(NAME, **{**TINY, **overrides})
    model.optimizers = model.configure_optimizers()
    return model.train()


def batch(n=8, seed=0):
    return Batch(torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1)


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check(NAME, tmp_path)


def test_registered_by_its_distribution():
    spec = zoo.get_model(NAME)
    assert spec.distribution == "zoo-wgan-gp"
    assert {(1, 28, 28), (3, 32, 32)} <= set(spec.data_shapes)


def test_defaults_keep_the_papers_loss_penalty_and_betas_with_the_measured_rates():
    config = zoo.get_model(NAME).default_config
    assert (config.loss, config.penalty_weight, config.beta1, config.beta2) == ("wasserstein", 10.0, 0.0, 0.9)
    assert (config.n_critic, config.lr_g, config.lr_d) == (2, 2e-4, 2e-4)  # docs/quality.md: what five minutes want


def test_a_step_logs_finite_wasserstein_estimate_and_penalty():
    torch.manual_seed(0)
    logs = tiny_model(n_critic=1).training_step(batch(), 0)
    assert {"loss_d", "loss_g", "wasserstein", "gradient-penalty"} <= set(logs)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in logs.values())


def test_n_critic_critic_updates_per_generator_update():
    torch.manual_seed(0)
    model = tiny_model(n_critic=5)
    opt_g, opt_d = model.optimizers["generator"], model.optimizers["discriminator"]
    with mock.patch.object(opt_g, "step", wraps=opt_g.step) as g_step, \
            mock.patch.object(opt_d, "step", wraps=opt_d.step) as d_step:
        generator_logged = ["loss_g" in model.training_step(batch(seed=s), s) for s in range(10)]
    assert (d_step.call_count, g_step.call_count) == (10, 2)
    assert generator_logged == [False] * 4 + [True] + [False] * 4 + [True]


@pytest.mark.parametrize("depth", [0, 1])
@pytest.mark.parametrize("norm", ["layer", "none"])
def test_critic_has_no_batch_norm(norm, depth):
    critic = tiny_model(critic_norm=norm, depth=depth).discriminator
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())
    convs = sum(isinstance(m, nn.Conv2d) for m in critic.modules())
    assert convs == 3 + 2 * depth  # two strided convolutions and the head, and depth more at each of 2 resolutions


def test_checkpoint_keeps_config_and_samples(tmp_path):
    torch.manual_seed(0)
    model = tiny_model(critic_norm="none", n_critic=2)
    for step in range(2):
        model.training_step(batch(seed=step), step)
    loaded = load_model(save_checkpoint(tmp_path / "w.safetensors", model, step=2))
    assert (loaded.config.critic_norm, loaded.config.n_critic) == ("none", 2)
    assert torch.equal(model.sample(4, seed=1), loaded.sample(4, seed=1))
    assert not torch.equal(loaded.sample(4, seed=1), loaded.sample(4, seed=2))
