"""zoo.testing's kit, run here on the in-process toy model; every plugin runs it on its own models."""

import pytest

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
