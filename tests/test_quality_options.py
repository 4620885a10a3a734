"""The options every GAN and latent-variable model gets for sample quality: differentiable augmentation, the R1
penalty, the fitted latent mixture, and best.safetensors with the mode-collapse alarm."""

import json

import pytest
import torch

import zoo
from zoo import augment
from zoo.architecture import Batch
from zoo.latent_density import LatentMixture
from zoo.registry.lookup import lookup


def impulse(b=64, size=16):
    x = torch.zeros(b, 1, size, size)
    x[:, 0, size // 2, size // 2] = 1.0
    return x


def test_translation_moves_each_image_by_whole_pixels_within_the_ratio():
    torch.manual_seed(0)
    moved = augment.translation(impulse(), ratio=0.125)  # 16 px: up to 2 px each way
    where = moved[:, 0].flatten(1).argmax(1)
    dy, dx = where // 16 - 8, where % 16 - 8
    assert moved.sum(dim=(1, 2, 3)).eq(1).all()  # the impulse stays whole
    assert dy.abs().max() == 2 and dx.abs().max() == 2 and len(set(zip(dy.tolist(), dx.tolist()))) > 10


def test_cutout_zeroes_one_square_per_image():
    torch.manual_seed(0)
    cut = augment.cutout(torch.ones(32, 1, 16, 16), ratio=0.5)
    zeros = (cut == 0).flatten(1).sum(1)
    assert zeros.max() == 9 * 9 and zeros.min() > 0  # a 9x9 square (side 8, centred) clipped at the edges


def test_colour_changes_brightness_and_contrast_per_image():
    torch.manual_seed(0)
    x = torch.rand(8, 3, 8, 8) * 2 - 1
    y = augment.colour(x)
    assert not torch.allclose(y.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)))
    assert len(set((y.std(dim=(1, 2, 3)) / x.std(dim=(1, 2, 3))).round(decimals=3).tolist())) == 8


def test_augmentation_is_differentiable_and_random_per_call():
    x = torch.randn(4, 3, 32, 32, requires_grad=True)
    names = augment.parse("translation, cutout,colour")
    first = augment.augment(x, names)
    first.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert not torch.equal(first, augment.augment(x, names))
    assert augment.parse("none") == () == augment.parse("")


def test_unknown_augmentation_is_one_line_before_training(zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", "dcgan", "--set", "augment=translation,flip", "--out", tmp_path / "run", "--quiet")
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "unknown augmentation 'flip'; choose from translation, cutout, colour" in err
    assert not (tmp_path / "run").exists()


def test_the_discriminator_sees_augmented_images_and_the_step_still_trains():
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", width=8, latent_dim=16, augment="translation,cutout", penalty="r1", gp_weight=1.0)
    model.optimizers = model.configure_optimizers()
    seen = []
    model.discriminator.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    logs = model.training_step(Batch(real), 0)
    assert set(logs) == {"loss_d", "r1", "loss_g"} and all(torch.isfinite(v) for v in logs.values())
    assert not torch.equal(seen[0], real)  # augmented, not the batch itself
    assert (seen[0] == 0).flatten(1).sum(1).min() >= 14 * 14 // 2  # each has its cutout (part may hang outside)


def test_r1_of_a_linear_critic_is_the_squared_weight_norm():
    w = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]])
    critic = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    r1 = lookup("penalties", "r1").value
    assert r1(critic, torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)).item() == pytest.approx(25.0)


def test_r1_penalises_only_at_real_images():
    critic = lambda x: 0.5 * x.flatten(1).pow(2).sum(1)  # noqa: E731  gradient x: R1 = mean ||real||^2
    real = torch.tensor([[[[1.0, 2.0]]], [[[2.0, 0.0]]]])
    r1 = lookup("penalties", "r1").value
    assert r1(critic, real, torch.full_like(real, 100.0)).item() == pytest.approx((5 + 4) / 2)


def test_mixture_is_standard_normal_until_fitted_then_finds_the_clusters():
    mixture = LatentMixture(2, components=4)
    z = mixture.sample(20000, torch.Generator().manual_seed(0))
    assert z.mean(0).abs().max() < 0.03 and (z.std(0) - 1).abs().max() < 0.03
    g = torch.Generator().manual_seed(1)
    codes = torch.cat([torch.randn(3000, 2, generator=g) * 0.2 + torch.tensor([5.0, 0.0]),
                       torch.randn(1000, 2, generator=g) * 0.2 + torch.tensor([-5.0, 2.0])])
    mixture.fit(codes)
    z = mixture.sample(20000, torch.Generator().manual_seed(0))
    right = z[:, 0] > 0
    assert right.float().mean().item() == pytest.approx(0.75, abs=0.02)
    assert torch.allclose(z[right].mean(0), torch.tensor([5.0, 0.0]), atol=0.05)
    assert torch.allclose(z[~right].mean(0), torch.tensor([-5.0, 2.0]), atol=0.05)
    assert torch.allclose(z[right].std(0), torch.tensor([0.2, 0.2]), atol=0.02)


def test_mixture_fit_is_deterministic_and_copes_with_few_codes():
    codes = torch.randn(30, 8)
    a, b = LatentMixture(8, 10), LatentMixture(8, 10)
    a.fit(codes), b.fit(codes)
    assert all(torch.equal(x, y) for x, y in zip(a.buffers(), b.buffers()))
    assert (a.weights > 0).sum() == 3  # 30 codes in 8 dimensions support 3 full-covariance components
    assert torch.isfinite(a.sample(100)).all()


@pytest.mark.parametrize("name", ["autoencoder", "vae"])
def test_latent_models_sample_from_the_mixture_fitted_at_the_end(name):
    torch.manual_seed(0)
    model = zoo.create_model(name, width=8, latent_dim=4)
    images = torch.rand(200, 1, 28, 28) * 2 - 1
    model.on_train_end(images, None)
    assert (model.density.weights > 0).sum() == model.config.density_components == 40  # 200 codes in 4 dims support 40
    assert model.latent_prior == "empirical"
    z = model.sample_latent(5000, torch.Generator().manual_seed(0))
    model.eval()
    with torch.no_grad():
        codes = model.encode(images)[0] if name == "vae" else model.encoder(images)
    assert torch.allclose(z.mean(0), codes.mean(0), atol=0.1 * float(codes.std()))


def test_vae_sampling_prior_keeps_standard_normal_latents():
    model = zoo.create_model("vae", width=8, latent_dim=4, sampling="prior")
    model.on_train_end(torch.rand(50, 1, 28, 28) * 2 - 1, None)
    assert model.latent_prior == "gaussian"
    assert torch.equal(model.sample_latent(3, torch.Generator().manual_seed(0)),
                       torch.randn(3, 4, generator=torch.Generator().manual_seed(0)))


def test_checkpoints_from_before_the_mixture_still_load():
    ae = zoo.create_model("autoencoder", width=8, latent_dim=3)
    old = {k: v for k, v in ae.state_dict().items() if not k.startswith("density.")}
    old["latent_mean"], old["latent_scale_tril"] = torch.tensor([1.0, 2.0, 3.0]), 2 * torch.eye(3)
    ae.load_state_dict(old)
    z = ae.sample_latent(20000, torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, 2.0, 3.0]), atol=0.05)
    assert torch.allclose(z.std(0), torch.full((3,), 2.0), atol=0.05)
    vae = zoo.create_model("vae", width=8, latent_dim=3)
    vae.load_state_dict({k: v for k, v in vae.state_dict().items() if not k.startswith("density.")})
    assert torch.equal(vae.sample_latent(4, torch.Generator().manual_seed(0)),
                       torch.randn(4, 3, generator=torch.Generator().manual_seed(0)))


def test_eval_every_keeps_the_best_checkpoint_by_fid(toy, zoo_cli, tmp_path, tiny_eval_data):
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--data", tiny_eval_data, "--out", out, "--steps", "6", "--batch-size", "8",
                           "--eval-every", "2", "--quiet")
    assert code == 0, err
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    scored = {r["step"]: r["eval/fid"] for r in records if "eval/fid" in r}
    best_step = min(scored, key=scored.get)
    best = zoo.load_checkpoint(out / "best.safetensors")
    assert best.step == best_step and (out / "checkpoint.safetensors").exists()
    code, _, err = zoo_cli("eval", out / "best.safetensors", "-n", "20", "--json")
    assert code == 0, err


def test_the_progress_line_raises_the_mode_collapse_alarm(capsys):
    from types import SimpleNamespace

    from zoo.cli.progress import Progress

    trainer = SimpleNamespace(history=[{"step": 4, "eval/fid": 80.0, "eval/classes_covered": 7,
                                        "eval/min_class_share": 0.004}],
                              model=SimpleNamespace(num_classes=10))
    progress = Progress(interactive=False)
    progress._alarm(trainer, 4)
    assert "step 4: the samples cover 7 of 10 classes (the least common 0.4%): mode collapse" in capsys.readouterr().err
    assert progress.event == "FID 80.0"
    trainer.history[0]["eval/classes_covered"] = 10
    progress._alarm(trainer, 4)
    assert capsys.readouterr().err == ""


def test_lazy_penalty_runs_every_so_many_steps():
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", width=8, latent_dim=16, penalty="r1", gp_weight=0.5, penalty_every=3)
    model.optimizers = model.configure_optimizers()
    calls = []
    model.penalty = lambda critic, real, fake: calls.append(1) or torch.tensor(2.0, requires_grad=True)
    logged = [("r1" in model.training_step(Batch(torch.rand(4, 1, 28, 28) * 2 - 1), step)) for step in range(7)]
    assert logged == [True, False, False, True, False, False, True] and len(calls) == 3


class RecordRates(zoo.Callback):
    def __init__(self):
        self.rates = []

    def on_step_end(self, trainer, step, logs):
        self.rates.append({name: opt.param_groups[0]["lr"] for name, opt in trainer.model.optimizers.items()})


def test_lr_decay_falls_linearly_to_zero_over_the_last_fraction(toy, tmp_path, tiny_npz):
    from zoo import datasets
    from zoo.training.options import TrainConfig
    from zoo.training.trainer import Trainer

    data = datasets.split(datasets.load(str(tiny_npz)), "train")
    model = zoo.create_model(toy, data_shape=data.shape, lr_g=1e-3, lr_d=2e-3)
    rates = RecordRates()
    Trainer(model, data, TrainConfig(steps=8, batch_size=8, lr_decay=0.5, sample_every=0, checkpoint_every=0),
            tmp_path / "run", callbacks=[rates]).fit()
    expected = [1, 1, 1, 1, 1, 0.75, 0.5, 0.25]  # the rate each step used: 4 steps constant, then (8 - step) / 4
    assert [r["generator"] for r in rates.rates] == pytest.approx([1e-3 * f for f in expected])
    assert [r["discriminator"] for r in rates.rates] == pytest.approx([2e-3 * f for f in expected])


def test_a_run_with_lr_decay_resumes_bit_exactly(toy, zoo_cli, tmp_path, tiny_npz):
    from runs import StopAt, same_weights

    options = ["--steps", "6", "--batch-size", "8", "--checkpoint-every", "3", "--lr-decay", "0.7", "--quiet"]
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--out", straight, *options)[0] == 0
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    plan = plan_run(toy, out=broken, data=str(tiny_npz),
                    options={"steps": 6, "batch_size": 8, "checkpoint_every": 3, "lr_decay": 0.7})
    with pytest.raises(KeyboardInterrupt):
        Trainer.from_plan(plan, callbacks=[StopAt(4)]).fit()
    code, _, err = zoo_cli("train", "--resume", broken, "--quiet")
    assert code == 0, err
    assert same_weights(straight, broken)
