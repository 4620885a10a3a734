import json
import math

import pytest
import torch
from torch import nn

import zoo
from zoo.architecture import Batch
from zoo.store.checkpoint import load_model, save_checkpoint
from zoo import testing
from zoo.testing import ARCHITECTURE_CHECKS
from zoo_vae.model import bernoulli_log_likelihood, kl_to_standard_normal

NAME = "vae"
TINY = {"width": 4, "latent_dim": 2}


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check(NAME, tmp_path)


def tiny_model(**overrides):
    return testing.tiny_model(NAME, **{**TINY, **overrides})


def images(n=16, seed=0):
    return testing.random_images(n, seed=seed)


def test_registered_by_its_distribution():
    spec = zoo.get_model(NAME)
    assert spec.distribution == "zoo-vae"
    assert all(field.help for field in spec.describe_config())


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_steps_lower_the_loss_on_a_fixed_batch(likelihood):
    model = tiny_model(likelihood=likelihood)
    batch = Batch(images())
    elbos = [float(model.training_step(batch, step)["elbo"]) for step in range(5)]
    assert elbos[-1] > elbos[0]


def test_logged_parts_add_up():
    logs = tiny_model().training_step(Batch(images()), 0)
    assert set(logs) == {"elbo", "recon", "kl"}
    torch.testing.assert_close(logs["elbo"], -logs["recon"] - logs["kl"])


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_samples_and_reconstructions_have_the_data_shape_and_range(likelihood):
    model = tiny_model(likelihood=likelihood).eval()
    x = images(4)
    for out in (model.sample(4, seed=0), model.reconstruct(x)):
        assert out.shape == x.shape
        assert out.min() >= -1 and out.max() <= 1


def test_bernoulli_likelihood_and_kl_by_hand():
    # 4 pixels -1, 1, 0, 1 are targets 0, 1, 1/2, 1; sigmoid(logits) = 1/2, 3/4, 1/4, 1/2.
    images = torch.tensor([[-1.0, 1.0, 0.0, 1.0]])
    logits = torch.tensor([[0.0, math.log(3), -math.log(3), 0.0]])
    expected = math.log(1 / 2) + math.log(3 / 4) + (math.log(1 / 4) + math.log(3 / 4)) / 2 + math.log(1 / 2)
    torch.testing.assert_close(bernoulli_log_likelihood(logits, images), torch.tensor([expected]))
    # KL of N(1, 1) and N(0, 4) from N(0, 1): (1 + 1 - 1 - 0) / 2 + (0 + 4 - 1 - log 4) / 2
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4)]])
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), torch.tensor([0.5 + (3 - math.log(4)) / 2]))


class Constant(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return self.value.expand(len(x), *self.value.shape)


def test_elbo_of_the_model_by_hand():
    # Every pixel 0 (target 1/2) and every logit log 3 (p = 3/4): log p(x|z) = 784 * (log(3/4) + log(1/4)) / 2.
    model = tiny_model().eval()
    model.encoder = Constant(torch.tensor([1.0, 0.0, 0.0, math.log(4)]))  # mu = (1, 0), var = (1, 4)
    model.decoder = Constant(torch.full((1, 28, 28), math.log(3)))
    x = torch.zeros(3, 1, 28, 28)
    expected_ll = 784 * (math.log(3 / 4) + math.log(1 / 4)) / 2
    expected_kl = 0.5 + (3 - math.log(4)) / 2
    log_likelihood, kl = model.elbo_terms(x)
    torch.testing.assert_close(log_likelihood, torch.full((3,), expected_ll))
    torch.testing.assert_close(kl, torch.full((3,), expected_kl))
    assert model.validation_logs(x, None)["elbo"] == pytest.approx(expected_ll - expected_kl)


def test_importance_weighted_nll_is_below_minus_elbo():
    model = tiny_model()
    x = images(4)
    for step in range(50):  # some training, so the decoder depends on z and the bound's gap is clear
        model.training_step(Batch(x), step)
    model.eval()
    torch.manual_seed(1)
    with torch.no_grad():
        draws = [model.elbo_terms(x) for _ in range(500)]
    minus_elbo = torch.stack([kl - log_likelihood for log_likelihood, kl in draws]).mean(0)
    iw_nll = model.importance_weighted_nll(x, k=500, generator=torch.Generator().manual_seed(2))
    assert iw_nll.shape == (4,)
    assert (iw_nll <= minus_elbo).all()
    one_sample = model.importance_weighted_nll(x, k=1, generator=torch.Generator().manual_seed(3))
    assert torch.isfinite(one_sample).all()


def test_kl_warmup_weight():
    model = tiny_model(beta=2.0, kl_warmup_steps=4)
    assert [model.kl_weight(step) for step in range(5)] == [0.5, 1.0, 1.5, 2.0, 2.0]
    assert tiny_model().kl_weight(0) == 1.0


def test_checkpoint_reproduces_reconstructions(tmp_path):
    model = tiny_model()
    model.training_step(Batch(images()), 0)
    model.eval()
    loaded = load_model(save_checkpoint(tmp_path / "vae.safetensors", model))
    x = images(4, seed=1)
    assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))


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
    plain, deep = zoo.create_model("vae", depth=0), zoo.create_model("vae", depth=1)
    assert convs(deep.encoder) == convs(plain.encoder) + 2 and convs(deep.decoder) == convs(plain.decoder) + 2
    assert deep.sample(2, seed=0).shape == (2, 1, 28, 28)


def test_a_checkpoint_from_before_the_depth_option_loads_as_the_shallow_vae_it_was(tmp_path):
    """zoo-vae 0.4 had no depth (its networks were depth 0); 0.5 made 2 the default."""
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    model = zoo.create_model("vae", depth=0)
    path = save_checkpoint(tmp_path / "old.safetensors", model)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    config = json.loads(meta["config"])
    del config["depth"]
    save_file(load_file(str(path)), str(path), metadata={**meta, "config": json.dumps(config)})
    loaded = load_model(path)
    assert loaded.config.depth == 0
    x = images(4, seed=1)
    assert torch.equal(loaded.eval().reconstruct(x), model.eval().reconstruct(x))
