"""The checks every plugin must pass, for zoo's own and third-party ones alike.

Architectures: use the kit from a plugin's tests (the way timm parametrises over its models)::

    import pytest
    from zoo.testing import ARCHITECTURE_CHECKS

    @pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
    def test_conformance(check, tmp_path):
        check("my-model", tmp_path)

The other kinds have one check each: :func:`check_callback`, :func:`check_loss`, :func:`check_penalty`,
:func:`check_dataset`, :func:`check_feature_extractor` and :func:`check_sampler`. Everything runs on tiny random
data, in seconds on a CPU. The architectures' checks and the tiny models they build live in
:mod:`zoo.testing.architectures`, the other kinds' in :mod:`zoo.testing.kinds`, and the sampler check with its
exact stand-in denoiser in :mod:`zoo.testing.samplers`.
"""

from zoo.testing.architectures import (
    ARCHITECTURE_CHECKS, BATCH, NUM_CLASSES, check_builds_for_declared_shapes, check_checkpoint_roundtrip,
    check_registered, check_resume_exact, check_sampling, check_sampling_options, check_training_step, random_images,
    tiny_model,
)
from zoo.testing.kinds import (
    TEST_GAN, check_callback, check_dataset, check_feature_extractor, check_loss, check_penalty, testing_architecture,
)
from zoo.testing.samplers import GaussianData, check_sampler

__all__ = [
    "ARCHITECTURE_CHECKS", "BATCH", "NUM_CLASSES", "TEST_GAN", "GaussianData", "check_builds_for_declared_shapes",
    "check_callback", "check_checkpoint_roundtrip", "check_dataset", "check_feature_extractor", "check_loss",
    "check_penalty", "check_registered", "check_resume_exact", "check_sampler", "check_sampling",
    "check_sampling_options", "check_training_step", "random_images", "testing_architecture", "tiny_model",
]
