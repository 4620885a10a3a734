"""zoo.testing's kit, run here on the in-process toy model; every plugin runs it on its own models."""

import pytest

import zoo
from zoo.testing import ARCHITECTURE_CHECKS


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_toy_model_conforms(check, toy, tmp_path):
    check(toy, tmp_path)


def test_the_kit_catches_a_model_whose_step_changes_nothing(register_plugin, tmp_path):
    import zoo
    from toy import ToyConfig
    from zoo.testing import check_training_step

    class Lazy:
        @zoo.hookimpl
        def register_architectures(self, register):
            register("lazy", "toy_model:LazyGAN", config=ToyConfig, summary="never learns")

    register_plugin(Lazy(), "lazy")
    with pytest.raises(AssertionError, match="changed no weights"):
        check_training_step("lazy", tmp_path)


@pytest.mark.parametrize("name", ["metrics", "validation", "samples", "checkpoints", "evaluation", "loss-plot", "report"])
def test_zoo_callbacks_pass_the_callback_check(name, tmp_path):
    from zoo.testing import check_callback

    check_callback(name, tmp_path)


@pytest.mark.parametrize("name", ["non-saturating", "wasserstein", "hinge", "least-squares", "ragan", "rahinge"])
def test_zoo_losses_pass_the_loss_check(name):
    from zoo.testing import check_loss

    check_loss(name)


def test_a_loss_with_the_wrong_sign_fails_the_check(register_plugin):
    from zoo.losses import Hinge
    from zoo.testing import check_loss

    class Backwards(Hinge):
        def discriminator(self, real, fake):
            return super().discriminator(fake, real)

    class Plugin:
        @zoo.hookimpl
        def register_losses(self, register):
            register("backwards", Backwards(), summary="a sign error")

    register_plugin(Plugin(), "backwards")
    with pytest.raises(AssertionError, match="rewarded for being wrong"):
        check_loss("backwards")


def test_the_bundled_dataset_and_features_pass_their_checks(tmp_path):
    from zoo.testing import check_dataset, check_feature_extractor

    check_dataset("mnist")
    check_feature_extractor("classifier", tmp_path)


def _register_loss(register_plugin, name, loss):
    class Plugin:
        @zoo.hookimpl
        def register_losses(self, register):
            register(name, loss, summary=name)

    register_plugin(Plugin(), name)


def test_the_symmetric_least_squares_variant_passes_and_a_generator_pushed_away_fails(register_plugin):
    """LSGAN with the -1/1/0 coding (Mao et al. 2017: the generator aims at 0, the boundary) is a published loss
    whose generator still moves caught fakes toward real; a generator loss that rises with its scores does not."""
    from zoo.losses import AdversarialLoss
    from zoo.testing import check_loss

    class SymmetricLeastSquares(AdversarialLoss):
        def discriminator(self, real, fake):
            return 0.5 * (((real - 1) ** 2).mean() + ((fake + 1) ** 2).mean())

        def generator(self, fake):
            return 0.5 * (fake**2).mean()

    class PushedAway(SymmetricLeastSquares):
        def generator(self, fake):
            return fake.mean()

    _register_loss(register_plugin, "ls-symmetric", SymmetricLeastSquares())
    _register_loss(register_plugin, "pushed-away", PushedAway())
    check_loss("ls-symmetric")
    with pytest.raises(AssertionError, match="push fakes away from the data"):
        check_loss("pushed-away")


@pytest.mark.parametrize("name", ["gradient-penalty", "r1"])
def test_zoo_penalties_pass_the_penalty_check(name):
    from zoo.testing import check_penalty

    check_penalty(name)


def test_a_penalty_that_cuts_the_graph_fails_the_check(register_plugin):
    import torch

    from zoo.testing import check_penalty

    def detached_r1(critic, real, fake):
        real = real.detach().requires_grad_(True)
        (grads,) = torch.autograd.grad(critic(real).sum(), real)  # no create_graph: the critic learns nothing
        return grads.flatten(1).pow(2).sum(1).mean()

    class Plugin:
        @zoo.hookimpl
        def register_penalties(self, register):
            register("detached-r1", detached_r1, summary="R1 without create_graph")

    register_plugin(Plugin(), "detached")
    with pytest.raises(AssertionError, match="create_graph=True"):
        check_penalty("detached-r1")


def test_a_plugin_suite_can_mark_tests_slow_without_declaring_the_marker(tmp_path):
    """zoo-core's pytest plugin declares ``slow``: a plugin's suite with --strict-markers and no configuration."""
    import subprocess
    import sys

    (tmp_path / "test_marked.py").write_text("import pytest\n\n@pytest.mark.slow\ndef test_slow():\n    pass\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "--strict-markers", "-m", "not slow",
                             "-p", "no:cacheprovider", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 5 and "1 deselected" in result.stdout, result.stdout + result.stderr
