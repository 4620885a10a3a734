import numpy as np
import pytest
import torch

import zoo
from zoo.architecture import Batch
from zoo.store.checkpoint import save_checkpoint
from zoo.datasets import ImageData
from zoo.testing import ARCHITECTURE_CHECKS
from zoo.training.trainer import TrainConfig, Trainer

NAME = "cgan"
TINY = {"width": 4, "latent_dim": 8, "embed_dim": 4}


def tiny_model(name=NAME, num_classes=3, **overrides):
    return zoo.create_model(name, num_classes=num_classes, **{**TINY, **overrides})


def run_zoo(capsys, *args):
    """The real ``zoo`` entry point in-process: (exit code, stdout, stderr)."""
    from zoo.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def assert_one_line_error(code, err, *words):
    assert code != 0
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check(NAME, tmp_path)


def test_registered_by_its_distribution_as_conditional():
    spec = zoo.get_model(NAME)
    assert spec.distribution == "zoo-cgan"
    assert {(1, 28, 28), (3, 32, 32)} <= set(spec.data_shapes)
    assert spec.load().conditional


def test_a_step_gives_finite_losses():
    torch.manual_seed(0)
    model = tiny_model()
    model.optimizers = model.configure_optimizers()
    logs = model.train().training_step(Batch(torch.rand(8, 1, 28, 28) * 2 - 1, torch.arange(8) % 3), 0)
    assert {"loss_d", "loss_g"} <= set(logs)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in logs.values())


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_both_networks_take_labels(conditioning):
    torch.manual_seed(0)
    model = tiny_model(data_shape=(3, 32, 32), conditioning=conditioning).eval()
    z, labels, other = torch.randn(4, 8), torch.tensor([0, 1, 2, 0]), torch.tensor([1, 2, 0, 1])
    images = model.generator(z, labels)
    assert images.shape == (4, 3, 32, 32)
    assert not torch.equal(images, model.generator(z, other))
    scores = model.discriminator(images, labels)
    assert scores.shape == (4,)
    assert not torch.equal(scores, model.discriminator(images, other))
    assert hasattr(model.discriminator, "projection") == (conditioning == "projection")


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_trained_samples_follow_the_label(conditioning, tmp_path):
    labels = np.repeat([0, 1], 32)
    images = np.broadcast_to(np.where(labels == 1, 255, 0).astype(np.uint8)[:, None, None, None], (64, 1, 28, 28))
    data = ImageData(np.ascontiguousarray(images), labels, "black-or-white", ("black", "white"))
    torch.manual_seed(0)
    model = tiny_model(num_classes=2, conditioning=conditioning, ema_decay=0.0, lr_g=2e-3, lr_d=2e-3)
    Trainer(model, data, TrainConfig(steps=60, batch_size=16, device="cpu"), tmp_path).fit()
    z = model.latent_for_sampling(8, seed=0)
    black = model.sample(8, z=z, labels=torch.zeros(8, dtype=torch.long))
    white = model.sample(8, z=z, labels=torch.ones(8, dtype=torch.long))
    assert white.mean() - black.mean() > 0.3


@pytest.fixture
def cgan_checkpoint(tmp_path):
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "cgan.safetensors", tiny_model(num_classes=10), step=0)


def test_sample_with_label_writes_only_that_label(cgan_checkpoint, tmp_path, capsys):
    out = tmp_path / "sevens.npz"
    code, _, err = run_zoo(capsys, "sample", cgan_checkpoint, "--label", 7, "-n", 6, "--out", out)
    assert code == 0, err
    with np.load(out) as npz:
        assert npz["images"].shape == (6, 28, 28)
        assert npz["labels"].tolist() == [7] * 6


def test_label_out_of_range_is_a_one_line_error(cgan_checkpoint, tmp_path, capsys):
    code, _, err = run_zoo(capsys, "sample", cgan_checkpoint, "--label", 12, "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, "--label 12", "0..9")


def test_label_on_an_unconditional_model_is_a_one_line_error(tmp_path, capsys):
    wgan = save_checkpoint(tmp_path / "wgan.safetensors", zoo.create_model("wgan-gp", width=4, latent_dim=8), step=0)
    code, _, err = run_zoo(capsys, "sample", wgan, "--label", 1, "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, "--label", "conditional")


def test_training_on_unlabelled_data_is_a_one_line_error(tmp_path, capsys):
    np.savez(tmp_path / "unlabelled.npz", images=np.zeros((32, 28, 28), np.uint8))
    code, _, err = run_zoo(capsys, "train", NAME, "--data", tmp_path / "unlabelled.npz", "--steps", 1,
                           "--out", tmp_path / "run", "--quiet")
    assert_one_line_error(code, err, "cgan", "label")
    assert not (tmp_path / "run").exists()
