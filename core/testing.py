"""The checks every architecture must pass, for zoo's plugins and third-party ones alike.

Use them from a plugin's tests (the way timm parametrises over its models)::

    import pytest
    from zoo.testing import ARCHITECTURE_CHECKS

    @pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
    def test_conformance(check, tmp_path):
        check("my-model", tmp_path)

Each check builds tiny batches of random data, so the whole kit runs in seconds on a CPU.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .architecture import Batch
from .checkpoint import load_model, save_checkpoint
from .registry import create_model, get_model

BATCH = 8
NUM_CLASSES = 3


def tiny_model(name: str, shape=None, seed: int = 0, **overrides):
    """Model ``name`` for tests: seeded, optimisers ready, in train mode; ``overrides`` go to its config
    (e.g. ``width=4``), conditional models get NUM_CLASSES classes."""
    spec = get_model(name)
    shape = tuple(shape or spec.data_shapes[0])
    torch.manual_seed(seed)
    model = create_model(name, data_shape=shape, num_classes=NUM_CLASSES if spec.load().conditional else None, **overrides)
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


def check_resume_exact(name: str, tmp_path: Path) -> None:
    """4 steps straight and 2 + 2 with a resume end with identical weights, with every default callback on and
    evaluation every 2 steps: nothing but the training step may consume training randomness."""
    import numpy as np

    from .checkpoint import load_checkpoint
    from .trainer import train

    tmp_path = Path(tmp_path)
    shape = get_model(name).data_shapes[0]
    rng = np.random.default_rng(0)
    data = tmp_path / "resume-data.npz"
    np.savez(data, images=rng.integers(0, 256, (40, *shape), dtype=np.uint8), labels=np.arange(40) % NUM_CLASSES)
    options = dict(data=str(data), batch_size=BATCH, sample_every=2, checkpoint_every=2, log_every=1, eval_every=2,
                   eval_samples=10)
    train(name, out=tmp_path / "straight", steps=4, **options)
    train(name, out=tmp_path / "resumed", steps=2, **options)
    train(resume=tmp_path / "resumed", steps=4)
    a, b = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "resumed")
    differ = sorted(k for k in a.tensors if k.startswith("model.") and not torch.equal(a.tensors[k], b.tensors[k]))
    assert not differ, f"{name}: a resumed run differs from an uninterrupted one in {differ[:3]}"


ARCHITECTURE_CHECKS = (
    check_registered,
    check_builds_for_declared_shapes,
    check_training_step,
    check_sampling,
    check_checkpoint_roundtrip,
    check_resume_exact,
)
