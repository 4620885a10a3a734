"""The checks every plugin must pass, for zoo's own and third-party ones alike.

Architectures: use the kit from a plugin's tests (the way timm parametrises over its models)::

    import pytest
    from zoo.testing import ARCHITECTURE_CHECKS

    @pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
    def test_conformance(check, tmp_path):
        check("my-model", tmp_path)

The other kinds have one check each: :func:`check_callback`, :func:`check_loss`, :func:`check_penalty`,
:func:`check_dataset` and :func:`check_feature_extractor`. Everything runs on tiny random data, in seconds on a CPU.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import torch

from zoo.architecture import Batch
from zoo.config import option
from zoo.datasets import ImageData
from zoo.errors import ConfigError
from zoo.gan import GAN
from zoo.gan_config import GANConfig
from zoo.hookspecs import hookimpl
from zoo.networks import ConvDiscriminator, ConvGenerator
from zoo.registry import plugin_host as plugins
from zoo.registry.lookup import lookup
from zoo.registry.models import create_model, get_model
from zoo.store.checkpoint import load_checkpoint, load_model, save_checkpoint

BATCH = 8
NUM_CLASSES = 3


def tiny_model(name: str, shape=None, seed: int = 0, **overrides):
    """Model ``name`` for tests: seeded, optimisers ready, in train mode; ``overrides`` go to its config
    (e.g. ``width=4``), conditional models get NUM_CLASSES classes."""
    spec = get_model(name)
    shape = tuple(shape or spec.data_shapes[0])
    torch.manual_seed(seed)
    model = create_model(name, data_shape=shape, num_classes=NUM_CLASSES if spec.is_conditional(**overrides) else None,
                         **overrides)
    model.optimizers = model.configure_optimizers()
    return model.train()


def random_images(n: int = BATCH, shape=(1, 28, 28), seed: int = 0) -> torch.Tensor:
    """``n`` uniform random images in [-1, 1]."""
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _batch(model, seed: int = 0) -> Batch:
    labels = torch.randint(0, NUM_CLASSES, (BATCH,), generator=torch.Generator().manual_seed(seed + 1)) if model.conditional else None
    return Batch(random_images(BATCH, model.data_shape, seed), labels)


def check_registered(name: str, tmp_path: Path | None = None) -> None:
    """The registry knows the model, with a summary, a distribution and a default config."""
    spec = get_model(name)
    assert spec.summary, f"{name}: no one-line summary"
    assert spec.distribution, f"{name}: no distribution"
    assert spec.describe_config(), f"{name}: config has no fields"
    assert spec.data_shapes, f"{name}: declares no data shapes"


def check_builds_for_declared_shapes(name: str, tmp_path: Path | None = None) -> None:
    """It builds, and samples images of the right shape, for every data shape it declares."""
    for shape in get_model(name).data_shapes:
        model = tiny_model(name, shape)
        images = model.sample(2, seed=0)
        assert tuple(images.shape) == (2, *shape), f"{name} for {shape}: sampled {tuple(images.shape)}"


def check_training_step(name: str, tmp_path: Path | None = None, max_steps: int = 10) -> None:
    """Steps give finite figures, and every network with trainable weights changes within ``max_steps`` steps
    (models that alternate, like WGAN-GP's 5 critic steps per generator step, need several)."""
    torch.manual_seed(0)
    model = tiny_model(name)
    trainable = {net: m for net, m in model.networks.items() if any(p.requires_grad for p in m.parameters())}
    assert trainable, f"{name}: no network has trainable weights"
    before = {net: [p.detach().clone() for p in m.parameters()] for net, m in trainable.items()}
    model.train()
    unchanged = set(trainable)
    for step in range(max_steps):
        logs = model.training_step(_batch(model, step), step)
        assert logs, f"{name}: training_step returned no figures"
        for key, value in logs.items():
            assert torch.isfinite(torch.as_tensor(value)).all(), f"{name}: '{key}' is not finite at step {step}"
        unchanged = {net for net in unchanged
                     if all(torch.equal(a, b) for a, b in zip(before[net], trainable[net].parameters()))}
        if not unchanged:
            return
    raise AssertionError(f"{name}: {max_steps} training steps changed no weights of {', '.join(sorted(unchanged))}")


def check_sampling(name: str, tmp_path: Path | None = None) -> None:
    """Samples have the data's shape, lie in [-1, 1], and are the same for the same seed."""
    model = tiny_model(name)
    a, b = model.sample(4, seed=7), model.sample(4, seed=7)
    c = model.sample(4, seed=8)
    assert tuple(a.shape) == (4, *model.data_shape)
    assert a.min() >= -1 and a.max() <= 1, f"{name}: samples outside [-1, 1]"
    assert torch.equal(a, b), f"{name}: the same seed gave different samples"
    assert not torch.equal(a, c), f"{name}: different seeds gave the same samples"


def check_checkpoint_roundtrip(name: str, tmp_path: Path) -> None:
    """save -> load gives a model that draws identical samples."""
    torch.manual_seed(0)
    model = tiny_model(name)
    model.train()
    model.training_step(_batch(model), 0)
    path = save_checkpoint(Path(tmp_path) / f"{name}.safetensors", model, step=1, optimizers=model.optimizers)
    loaded = load_model(path)
    assert torch.equal(model.sample(4, seed=3), loaded.sample(4, seed=3)), f"{name}: samples differ after reload"
    if model.can_reconstruct:
        x = _batch(model).images
        model.eval()
        assert torch.equal(model.reconstruct(x), loaded.reconstruct(x)), f"{name}: reconstructions differ after reload"


def check_sampling_options(name: str, tmp_path: Path | None = None) -> None:
    """Sampling options have help, the defaults given explicitly draw the same images, unknown ones fail."""
    model, options = tiny_model(name), get_model(name).describe_sampling()
    assert all(o.help for o in options), f"{name}: a sampling option has no help"
    explicit = model.sample(2, seed=1, sampling={o.name: str(o.default) for o in options})
    assert torch.equal(model.sample(2, seed=1), explicit), f"{name}: the defaults given explicitly draw other images"
    with contextlib.suppress(ConfigError):
        raise AssertionError(f"{name}: accepted an unknown sampling option {model.sample(2, sampling={'no_such': 1})}")


def _random_dataset(folder: Path, shape) -> Path:
    import numpy as np

    rng = np.random.default_rng(0)
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = Path(folder) / f"random-{'x'.join(map(str, shape))}.npz"
    np.savez(path, images=rng.integers(0, 256, (40, *shape), dtype=np.uint8), labels=np.arange(40) % NUM_CLASSES)
    return path


def _straight_and_resumed(name: str, tmp_path: Path, callbacks=(), config: dict | None = None) -> None:
    """Train ``name`` (with ``config``) 4 steps straight and 2 + 2 with a resume, every default callback on
    (evaluation every 2 steps), and assert both end with identical weights."""
    from zoo.training.trainer import train

    tmp_path = Path(tmp_path)
    options = dict(data=str(_random_dataset(tmp_path, get_model(name).data_shapes[0])), batch_size=BATCH, config=config,
                   sample_every=2, checkpoint_every=2, log_every=1, eval_every=2, eval_samples=10, callbacks=callbacks)
    train(name, out=tmp_path / "straight", steps=4, **options)
    train(name, out=tmp_path / "resumed", steps=2, **options)
    train(resume=tmp_path / "resumed", steps=4)
    a, b = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "resumed")
    differ = sorted(k for k in a.tensors if k.startswith("model.") and not torch.equal(a.tensors[k], b.tensors[k]))
    assert not differ, f"{name}: a resumed run differs from an uninterrupted one in {differ[:3]}"


def check_resume_exact(name: str, tmp_path: Path, **config) -> None:
    """4 steps straight and 2 + 2 with a resume end with identical weights, with every default callback on and
    evaluation every 2 steps: nothing but the training step may consume training randomness. ``config`` sets
    the model's config keys (a variant: ``conditional=True``)."""
    _straight_and_resumed(name, tmp_path, config=config)


ARCHITECTURE_CHECKS = (
    check_registered,
    check_builds_for_declared_shapes,
    check_training_step,
    check_sampling,
    check_checkpoint_roundtrip,
    check_sampling_options,
    check_resume_exact,
)


# --- the other kinds a plugin can register ---------------------------------------------------------------------
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
        _straight_and_resumed(TEST_GAN, tmp_path, callbacks=[(name, options)])
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
