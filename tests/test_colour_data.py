"""Colour data beyond MNIST: CIFAR-10 from a local mirror, and image folders decoded at 32x32 and 64x64, through
every command of every architecture."""

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.store.checkpoint import load_checkpoint
from test_datasets import cifar_mirror  # noqa: F401 -- the fixture


def test_zoo_data_lists_and_prepares_cifar10_then_trains_on_it(cifar_mirror, zoo_cli, tmp_path):  # noqa: F811
    code, out, _ = zoo_cli("data")
    assert code == 0 and "cifar10" in out and "not cached" in out.split("cifar100")[0]
    code, out, err = zoo_cli("data", "prepare", "cifar10")
    assert code == 0, err
    assert "cifar10: 100 images of 3x32x32, 10 classes; ready in" in out
    code, out, _ = zoo_cli("data", "--json")
    row = next(r for r in __import__("json").loads(out) if r["name"] == "cifar10")
    assert row["state"] == "cached" and row["shape"] == [3, 32, 32]
    code, out, err = zoo_cli("train", "dcgan", "--data", "cifar10", "--steps", "200", "--batch-size", "16", "--quiet",
                             "--set", "width=8", "--set", "latent_dim=8", "--out", tmp_path / "run",
                             "--sample-every", "100", "--checkpoint-every", "100")
    assert code == 0, err
    checkpoint = load_checkpoint(tmp_path / "run")
    assert checkpoint.step == 200 and checkpoint.meta["dataset"] == "cifar10"
    code, out, err = zoo_cli("sample", tmp_path / "run", "-n", "16", "--out", tmp_path / "s.png")
    assert code == 0, err and Image.open(tmp_path / "s.png").mode == "RGB"


def photo_folder(root, count=48, size=(48, 40)):
    """Two classes of random colour photos, not square and not a power of two (as face crops come)."""
    rng = np.random.default_rng(0)
    for i in range(count):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB").save(folder / f"{i}.png")
    return root


def test_image_size_crops_the_centre_square_and_resizes_deterministically(tmp_path):
    from zoo import datasets
    from zoo.datasets.pictures import centre_square

    folder = photo_folder(tmp_path / "photos", count=2)
    data = datasets.load(str(folder), image_size=16)
    assert data.shape == (3, 16, 16)
    picture = Image.open(sorted((folder / "b").iterdir())[0])
    expected = np.asarray(picture.crop((4, 0, 44, 40)).resize((16, 16), Image.Resampling.LANCZOS))
    assert np.array_equal(np.asarray(data.images)[1].transpose(1, 2, 0), expected)
    assert np.array_equal(np.asarray(centre_square(picture, 16)), expected)


def test_image_size_is_refused_for_data_that_is_not_a_folder(zoo_cli, tiny_npz, tmp_path):
    code, _, err = zoo_cli("train", "dcgan", "--data", tiny_npz, "--image-size", "32", "--out", tmp_path / "r")
    assert code == 1 and "--image-size applies to image folders" in err and not (tmp_path / "r").exists()


ARCHITECTURES = ["autoencoder", "vae", "dcgan", "wgan-gp", "cgan"]
SMALL = {"dcgan": ["width=8", "latent_dim=8"], "wgan-gp": ["width=8"], "cgan": ["width=8"]}


@pytest.mark.parametrize("side", [32, 64])
@pytest.mark.parametrize("model", ARCHITECTURES)
def test_every_architecture_trains_samples_reconstructs_and_evaluates_colour_folders(model, side, zoo_cli, tmp_path):
    if model not in zoo.list_models():
        pytest.skip(f"{model} is not installed")
    folder = photo_folder(tmp_path / "photos")
    sets = [arg for pair in SMALL.get(model, []) for arg in ("--set", pair)]
    run = tmp_path / "run"
    code, _, err = zoo_cli("train", model, "--data", folder, "--image-size", side, "--steps", "3", "--batch-size", "8",
                           "--quiet", "--out", run, *sets)
    assert code == 0, err
    assert load_checkpoint(run).json("data_shape") == [3, side, side]
    code, _, err = zoo_cli("sample", run, "-n", "4", "--out", tmp_path / "s.npz")
    assert code == 0, err
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 3, side, side)
    if model in ("autoencoder", "vae"):
        code, _, err = zoo_cli("reconstruct", run, "-n", "4", "--out", tmp_path / "r.png")
        assert code == 0, err
    code, out, err = zoo_cli("eval", run, "-n", "10", "--json")
    assert code == 0, err
    assert '"fid"' in out


def test_zoo_data_prepare_decodes_a_folder_once_at_the_size_asked(zoo_cli, tmp_path):
    folder = photo_folder(tmp_path / "photos", count=4)
    code, out, err = zoo_cli("data", "prepare", folder, "--image-size", "16")
    assert code == 0, err
    assert "4 images of 3x16x16, 2 classes; ready in" in out and "datasets/folders/photos-" in out
