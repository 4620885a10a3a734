"""The checks every architecture passes (:data:`ARCHITECTURE_CHECKS`), and the tiny models and images they use."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from zoo.architecture import Batch
from zoo.errors import ConfigError
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


def straight_and_resumed(name: str, tmp_path: Path, callbacks=(), config: dict | None = None) -> None:
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
    straight_and_resumed(name, tmp_path, config=config)


ARCHITECTURE_CHECKS = (
    check_registered,
    check_builds_for_declared_shapes,
    check_training_step,
    check_sampling,
    check_checkpoint_roundtrip,
    check_sampling_options,
    check_resume_exact,
)
