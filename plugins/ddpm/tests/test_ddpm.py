import pytest
import torch

import zoo
from zoo.testing import ARCHITECTURE_CHECKS, check_resume_exact
from zoo_ddpm.model import signal_levels

SMALL = dict(width=8, multipliers="1,2")


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check("ddpm", tmp_path)


def test_the_conditional_variant_resumes_exactly(tmp_path):
    check_resume_exact("ddpm", tmp_path, conditional=True, **SMALL)


def test_registry_finds_it_after_install():
    spec = zoo.get_model("ddpm")
    assert spec.distribution == "zoo-ddpm" and "Ho et al. 2020" in spec.summary
    assert {o.name for o in spec.describe_sampling()} == {"sampler", "steps", "guidance", "ema"}


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64)])
def test_every_declared_shape(shape):
    model = zoo.create_model("ddpm", data_shape=shape, **SMALL)
    assert model.sample(2, seed=0, sampling={"steps": 2}).shape == (2, *shape)


def test_schedules_fall_from_signal_to_noise():
    for schedule in ("cosine", "linear"):
        levels = signal_levels(schedule, 1000)
        assert levels[0] > 0.999 and levels[-1] < 1e-4 and (levels[1:] < levels[:-1]).all()
    linear = signal_levels("linear", 1000)
    assert torch.isclose(1 - linear[0], torch.tensor(1e-4, dtype=torch.float64))  # beta_1 of Ho et al.


@pytest.mark.parametrize("prediction", ["epsilon", "v"])
def test_the_targets_give_back_the_image_and_the_noise(prediction):
    model = zoo.create_model("ddpm", prediction=prediction, **SMALL)
    image, noise, a = torch.rand(2, 1, 28, 28) * 1.8 - 0.9, torch.randn(2, 1, 28, 28), 0.3
    x = a ** 0.5 * image + (1 - a) ** 0.5 * noise
    output = noise if prediction == "epsilon" else a ** 0.5 * noise - (1 - a) ** 0.5 * image
    got_image, got_noise = model.image_and_noise(x, a, output)
    assert torch.allclose(got_image, image, atol=1e-5) and torch.allclose(got_noise, noise, atol=1e-4)


@pytest.mark.parametrize("prediction", ["epsilon", "v"])
@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_with_a_perfect_denoiser_every_sampler_reaches_the_one_image_it_knows(prediction, sampler):
    """A network that always gives the exact output for one image brings any noise to that image, with fresh
    noise at each step (ddpm) or without (ddim), whatever the number of steps."""
    target = torch.rand(1, 1, 28, 28) * 1.8 - 0.9
    model = zoo.create_model("ddpm", prediction=prediction, **SMALL)
    levels = model.levels.double()

    def perfect(x, t, labels, settings):
        a = levels[round(t * model.config.timesteps) - 1].item()
        noise = (x - a ** 0.5 * target) / (1 - a) ** 0.5
        return noise if prediction == "epsilon" else a ** 0.5 * noise - (1 - a) ** 0.5 * target

    model.predict = perfect
    tolerance = 1e-4 if prediction == "v" else 5e-3  # epsilon divides by sqrt(a_T) ~ 0.005 at the first step
    for steps in (1, 5, 50):
        images = model.sample(3, seed=1, sampling={"sampler": sampler, "steps": steps})
        assert torch.allclose(images, target.expand(3, -1, -1, -1), atol=tolerance), (sampler, steps)


def test_ancestral_sampling_is_seeded_by_the_latents_and_leaves_the_global_rng_alone():
    model = zoo.create_model("ddpm", **SMALL)
    torch.manual_seed(5)
    before = torch.get_rng_state()
    a = model.sample(2, seed=3, sampling={"sampler": "ddpm", "steps": 4})
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a, model.sample(2, seed=3, sampling={"sampler": "ddpm", "steps": 4}))
    assert not torch.equal(a, model.sample(2, seed=3, sampling={"sampler": "ddim", "steps": 4}))


@pytest.mark.parametrize("prediction, weights", [("v", [0.5, 5 / 21]), ("epsilon", [1.0, 0.25])])
def test_min_snr_weighs_the_nearly_clean_levels_as_if_their_snr_were_5(prediction, weights):
    model = zoo.create_model("ddpm", prediction=prediction, loss_weighting="min-snr", **SMALL)
    snr = torch.tensor([1.0, 20.0])
    torch.testing.assert_close(model.min_snr_weights(snr / (1 + snr)), torch.tensor(weights))


def test_min_snr_training_weighs_each_image_by_its_level():
    torch.manual_seed(0)
    uniform, weighted = (zoo.create_model("ddpm", loss_weighting=w, **SMALL) for w in ("uniform", "min-snr"))
    weighted.load_state_dict(uniform.state_dict())
    images = torch.rand(8, 1, 28, 28) * 2 - 1
    torch.manual_seed(1)
    plain = uniform.loss(images, None)
    torch.manual_seed(1)
    assert 0 < weighted.loss(images, None) < plain  # every weight is at most 1 for v


def test_logit_normal_time_sampling_trains_less_at_the_ends_of_the_schedule():
    uniform = zoo.create_model("ddpm", **SMALL)
    logit_normal = zoo.create_model("ddpm", time_sampling="logit-normal", **SMALL)
    torch.manual_seed(0)
    steps = {name: model.training_steps(20_000, "cpu") for name, model in
             (("uniform", uniform), ("logit-normal", logit_normal))}
    for t in steps.values():
        assert t.dtype == torch.int64 and 0 <= int(t.min()) and int(t.max()) < 1000
    ends = {name: float(((t < 100) | (t >= 900)).float().mean()) for name, t in steps.items()}
    assert ends["uniform"] == pytest.approx(0.2, abs=0.02) and ends["logit-normal"] < 0.1
    assert 400 < float(steps["logit-normal"].float().median()) < 600
