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
