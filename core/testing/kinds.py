"""One check for each other kind a plugin registers: callbacks (run through a tiny GAN), losses, penalties,
datasets and feature spaces."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import torch

from zoo.config import option
from zoo.datasets import ImageData
from zoo.gan import GAN
from zoo.gan_config import GANConfig
from zoo.hookspecs import hookimpl
from zoo.networks import ConvDiscriminator, ConvGenerator
from zoo.registry import plugin_host as plugins
from zoo.registry.lookup import lookup
from zoo.testing.architectures import BATCH, NUM_CLASSES, random_images, straight_and_resumed

TEST_GAN = "zoo-testing-gan"


@dataclass
class _TinyConfig(GANConfig):
    latent_dim: int = option(8, "size of z", minimum=1)
    width: int = option(4, "conv width", minimum=1)


class _TinyGAN(GAN):
    """A GAN small enough to train a callback with in a second."""

    def build_generator(self):
        return ConvGenerator(self.config.latent_dim, self.data_shape, self.config.width)

    def build_discriminator(self):
        return ConvDiscriminator(self.data_shape, self.config.width, norm="layer")


class _TestingPlugin:
    @hookimpl
    def register_architectures(self, register):
        register(TEST_GAN, _TinyGAN, config=_TinyConfig, summary="a tiny GAN that zoo.testing trains callbacks with")


@contextlib.contextmanager
def testing_architecture():
    """Register ``zoo-testing-gan`` (a tiny GAN) for the duration of the block."""
    plugin = _TestingPlugin()
    manager = plugins.plugin_manager()
    manager.register(plugin, name="zoo.testing")
    try:
        yield TEST_GAN
    finally:
        manager.unregister(plugin)


def check_callback(name: str, tmp_path: Path, **options) -> None:
    """The callback (with ``options``) runs through a whole run and a resume of a tiny GAN after zoo's own
    callbacks, is recorded with its options, and leaves training bit-exact."""
    from zoo.store.run_folder import RunFolder

    with testing_architecture():
        straight_and_resumed(TEST_GAN, tmp_path, callbacks=[(name, options)])
    record = RunFolder(Path(tmp_path) / "resumed").read_record()
    assert any(c["name"] == name for c in record["callbacks"]), f"callback {name} is missing from the run record"


def check_loss(name: str, tmp_path: Path | None = None) -> None:
    """Finite, differentiable, and pointing the right way: a discriminator that tells real from fake has a lower
    loss than one that swaps them, and at fakes the discriminator catches, the generator's loss falls as their
    scores rise toward "real" (its gradient there is negative): otherwise training would not move fakes toward
    the data. Losses whose generator aims at the boundary (least squares with target 0) pass; only the
    direction at caught fakes is asked for."""
    loss = lookup("losses", name).value
    relativistic = getattr(loss, "uses_real_scores", False)
    high, low = torch.tensor([3.0, 2.0, 4.0], requires_grad=True), torch.tensor([-3.0, -2.0, -4.0], requires_grad=True)

    def generator(fake, real):
        return loss.generator(fake, real) if relativistic else loss.generator(fake)

    values = {"d right": loss.discriminator(high, low), "d wrong": loss.discriminator(low, high),
              "g caught": generator(low, high)}
    for key, value in values.items():
        assert value.dim() == 0 and torch.isfinite(value), f"loss {name}: {key} is {value}"
    assert values["d right"] < values["d wrong"], f"loss {name}: the discriminator is rewarded for being wrong"
    (values["d right"] + values["g caught"]).backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in (high, low)), f"loss {name}: no gradient"
    caught = low.detach().clone().requires_grad_(True)
    (towards,) = torch.autograd.grad(generator(caught, high.detach()), caught)
    assert (towards <= 0).all() and (towards < 0).any(), (
        f"loss {name}: at fakes the discriminator catches (scores {caught.tolist()}), the generator's loss does "
        "not fall as their scores rise toward real, so training would push fakes away from the data")


def check_penalty(name: str, tmp_path: Path | None = None) -> None:
    """``penalty(critic, real, fake)`` is a finite scalar >= 0, the same for the same seed, and differentiable
    into the critic's weights (the discriminator's loss backpropagates through it: ``create_graph=True``). The
    critic maps images to one raw score each, labels already bound for a conditional model."""
    penalty = lookup("penalties", name).value
    torch.manual_seed(0)
    net = ConvDiscriminator((1, 28, 28), 4, norm="layer")
    real, fake = random_images(BATCH, seed=0), random_images(BATCH, seed=1)
    def measured():
        torch.manual_seed(0)
        return penalty(net, real, fake)
    value, again = measured(), measured()
    assert torch.is_tensor(value) and value.dim() == 0, f"penalty {name}: not a scalar tensor"
    assert torch.isfinite(value) and value >= 0, f"penalty {name}: {float(value)} (must be finite and >= 0)"
    assert torch.equal(value.detach(), again.detach()), f"penalty {name}: differs for the same seed"
    cut = f"penalty {name}: no gradient reaches the critic's weights (take torch.autograd.grad with create_graph=True)"
    assert value.requires_grad, cut
    value.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters()), cut


def check_dataset(name: str, tmp_path: Path | None = None) -> None:
    """The loader returns a valid ImageData (uint8, N x C x H x W, labels if any per image), the same twice."""
    loader = lookup("datasets", name).value
    first, second = loader(), loader()
    assert isinstance(first, ImageData), f"dataset {name}: the loader returned {type(first).__name__}, not ImageData"
    assert first.shape[0] in (1, 3), f"dataset {name}: {first.shape[0]} channels (zoo trains on 1 or 3)"
    assert (first.images == second.images).all(), f"dataset {name}: two loads differ"


def check_feature_extractor(name: str, tmp_path: Path | None = None) -> None:
    """Features are (N, D) and finite, logits (N, classes) or None, and both are the same for the same images."""
    import numpy as np

    rng = np.random.default_rng(0)
    train = ImageData(rng.integers(0, 256, (60, 1, 28, 28), dtype=np.uint8), np.arange(60) % NUM_CLASSES, "random")
    extractor = lookup("features", name).value(train)
    images = random_images(10, (1, 28, 28))
    features = np.asarray(extractor.features(images))
    assert features.ndim == 2 and len(features) == 10 and np.isfinite(features).all(), f"features {name}: {features.shape}"
    assert np.array_equal(features, np.asarray(extractor.features(images))), f"features {name}: not deterministic"
    logits = extractor.logits(images)
    assert logits is None or np.asarray(logits).shape == (10, NUM_CLASSES), f"features {name}: logits {np.shape(logits)}"
