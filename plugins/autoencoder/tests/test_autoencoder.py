import pytest
import torch

import zoo
from zoo.architecture import Batch
from zoo.store.checkpoint import load_model, save_checkpoint
from zoo import testing
from zoo.testing import ARCHITECTURE_CHECKS

NAME = "autoencoder"
TINY = {"width": 4, "latent_dim": 4}


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check(NAME, tmp_path)


def tiny_model(**overrides):
    return testing.tiny_model(NAME, **{**TINY, **overrides})


def images(n=16, seed=0):
    return testing.random_images(n, seed=seed)


def test_registered_by_its_distribution():
    spec = zoo.get_model(NAME)
    assert spec.distribution == "zoo-autoencoder"
    assert all(field.help for field in spec.describe_config())


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_steps_lower_the_loss_on_a_fixed_batch(loss):
    model = tiny_model(loss=loss)
    batch = Batch(images())
    losses = [float(model.training_step(batch, step)["loss"]) for step in range(5)]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_samples_and_reconstructions_have_the_data_shape_and_range(loss):
    model = tiny_model(loss=loss).eval()
    x = images(4)
    for out in (model.sample(4, seed=0), model.reconstruct(x)):
        assert out.shape == x.shape
        assert out.min() >= -1 and out.max() <= 1


def test_latent_fit_is_saved_and_reloaded(tmp_path):
    model = tiny_model()
    model.training_step(Batch(images()), 0)
    model.on_train_end(images(64, seed=1), None)
    assert (model.density.weights > 0).sum() > 1
    loaded = load_model(save_checkpoint(tmp_path / "ae.safetensors", model))
    for name, fitted in model.density.named_buffers():
        assert torch.equal(dict(loaded.density.named_buffers())[name], fitted)
    x = images(4, seed=2)
    model.eval()
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))
    assert torch.equal(loaded.sample(4, seed=0), model.sample(4, seed=0))


def test_one_component_fit_is_the_codes_gaussian():
    model = tiny_model(density_components=1).eval()
    x = images(256, seed=3)
    model.fit_latent_density(x)
    with torch.no_grad():
        codes = model.encoder(x).double()
    tril = model.density.scale_trils[0]
    torch.testing.assert_close(model.density.means[0], codes.mean(0).float())
    torch.testing.assert_close(tril @ tril.T, torch.cov(codes.T, correction=0).float(), rtol=1e-3, atol=1e-4)
    drawn = model.sample_latent(20_000, torch.Generator().manual_seed(0))
    torch.testing.assert_close(drawn.mean(0), codes.mean(0).float(), atol=0.05 * codes.std(0).max().item(), rtol=0)


def test_mixture_fit_keeps_the_codes_mean():
    model = tiny_model().eval()
    x = images(256, seed=3)
    model.fit_latent_density(x)
    with torch.no_grad():
        codes = model.encoder(x).double()
    overall = (model.density.weights[:, None] * model.density.means).sum(0)  # EM's fixed point: the data mean
    torch.testing.assert_close(overall, codes.mean(0).float(), rtol=1e-4, atol=1e-5)


def test_reconstruct_on_a_dcgan_checkpoint_is_a_one_line_error(tmp_path, capsys):
    from zoo.cli.main import main

    path = save_checkpoint(tmp_path / "dcgan.safetensors", zoo.create_model("dcgan", width=4, latent_dim=8))
    with pytest.raises(SystemExit) as exit_info:
        main(["reconstruct", str(path), "--out", str(tmp_path / "grid.png")])
    err = capsys.readouterr().err
    assert exit_info.value.code != 0
    assert err.startswith("Error:") and err.count("\n") == 1 and "cannot reconstruct" in err


def test_depth_adds_a_convolution_at_each_resolution_of_both_networks():
    convs = lambda net: sum(isinstance(m, torch.nn.Conv2d) for m in net.modules())
    plain, deep = zoo.create_model("autoencoder"), zoo.create_model("autoencoder", depth=1)
    assert convs(deep.encoder) == convs(plain.encoder) + 2 and convs(deep.decoder) == convs(plain.decoder) + 2
    assert deep.sample(2, seed=0).shape == (2, 1, 28, 28)
