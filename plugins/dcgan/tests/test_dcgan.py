import pytest
import torch

import zoo
from zoo.architecture import Batch
from zoo.testing import ARCHITECTURE_CHECKS


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check("dcgan", tmp_path)


def test_registry_finds_it_after_install():
    spec = zoo.get_model("dcgan")
    assert spec.distribution == "zoo-dcgan" and "Radford" in spec.summary


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64)])
def test_networks_adapt_to_the_data_shape(shape):
    model = zoo.create_model("dcgan", data_shape=shape, width=8, latent_dim=16)
    assert model.sample(2, seed=0).shape == (2, *shape)
    assert model.discriminator(torch.zeros(2, *shape)).shape == (2,)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64)])
@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
def test_deeper_networks_and_nearest_upsampling_keep_every_shape(shape, upsample):
    plain = zoo.create_model("dcgan", data_shape=shape, width=8, latent_dim=16, upsample=upsample, depth=0)
    deep = zoo.create_model("dcgan", data_shape=shape, width=8, latent_dim=16, upsample=upsample, depth=2)
    assert deep.sample(2, seed=0).shape == (2, *shape)
    assert deep.discriminator(torch.zeros(2, *shape)).shape == (2,)
    convs = lambda net: sum(isinstance(m, torch.nn.Conv2d) for m in net.modules())  # noqa: E731
    resolutions = len(plain.discriminator.body.net) // 3 + 1  # the first layer has no norm
    assert convs(deep.discriminator) - convs(plain.discriminator) == 2 * resolutions
    assert convs(deep.generator) - convs(plain.generator) == 2 * resolutions
    if upsample == "nearest":
        transposed = [m for m in deep.generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
        assert len(transposed) == 1 and transposed[0].stride == (1, 1)  # only z to the first feature map


def test_non_square_or_odd_sizes_are_refused_clearly():
    with pytest.raises(zoo.DataError, match="square"):
        zoo.create_model("dcgan", data_shape=(1, 28, 32))
    with pytest.raises(zoo.DataError, match="power of two"):
        zoo.create_model("dcgan", data_shape=(1, 17, 17))


def test_one_step_changes_weights_with_finite_losses():
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", width=8, latent_dim=16)
    model.optimizers = model.configure_optimizers()
    before = [p.clone() for p in model.generator.parameters()]
    logs = model.training_step(Batch(torch.rand(8, 1, 28, 28) * 2 - 1), 0)
    assert set(logs) == {"loss_d", "r1", "loss_g"} and all(torch.isfinite(v) for v in logs.values())  # R1 at step 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters()))


@pytest.mark.parametrize("loss", ["hinge", "least-squares", "wasserstein"])
def test_other_registered_losses_work(loss):
    model = zoo.create_model("dcgan", width=8, latent_dim=16, loss=loss)
    model.optimizers = model.configure_optimizers()
    logs = model.training_step(Batch(torch.rand(8, 1, 28, 28) * 2 - 1), 0)
    assert all(torch.isfinite(v) for v in logs.values())


def test_dcgan_init_and_ema():
    model = zoo.create_model("dcgan", width=8, latent_dim=16)
    conv = model.generator.net[0].weight
    assert abs(conv.std().item() - 0.02) < 0.005
    assert model.generator_ema is not None
    off = zoo.create_model("dcgan", width=8, latent_dim=16, ema_decay=0.0)
    assert off.generator_ema is None
