"""The hooks a zoo plugin may implement, and both pluggy markers of the project ``zoo``.

Every ``register_*`` hook receives a ``register`` callback and calls it once per thing it adds; plugins never
touch zoo's globals. A plugin module stays cheap to import: heavy modules (torch, networks) are named as
``"module:attribute"`` strings or imported inside the objects it registers, so ``zoo --help`` stays fast.
"""

import pluggy

API_VERSION = "1.8"
"""The plugin API's version, MAJOR.MINOR: a minor bump only adds, a major bump breaks plugins. A plugin declares
the version it is written against as ``ZOO_API = "1.1"`` in its entry-point module; it loads on any core with the
same major and at least that minor, and is skipped with a warning elsewhere. 1.0: the first wave; 1.1: penalties,
losses with real scores, callback options, ``option(minimum=, maximum=, choices="kind")``, ``zoo.eval_mode``;
1.2: ``Architecture.memory_format``, ``Callback.every_rank``, ``trainer.world``, dataset registration keywords
``images``, ``shape``, ``classes``, ``files``; 1.3: ``GANConfig.augment`` and ``penalty_every``, the ``r1`` penalty,
``zoo.latent_density``, ``trainer.save_checkpoint(path)``; 1.4: ``Architecture.optimize``, ``Callback.state_dict``/``load_state_dict``,
``trainer.is_due``, ``trainer.heldout_tensors``, ``trainer.base_lrs``, ``GANConfig.penalty_weight`` (``gp_weight``
still accepted), ``zoo.atomic_write``, ``zoo.testing.check_penalty``, the ``slow`` pytest marker; 1.5: sampling options
(``register(..., sampling=...)``, ``Architecture.sampling``, ``sample(sampling=, progress=)``), ``Architecture.progress``,
``Architecture.is_conditional`` (a config's ``conditional`` field), ``zoo.networks.UNet``, ``zoo.denoising``; 1.6:
``depth`` of ``ConvGenerator``, ``ConvDiscriminator`` and ``ConvBody``, ``ConvGenerator(upsample="nearest")``; 1.7:
sampling settings as an argument (``generate(z, labels, settings)``, ``Denoiser.predict(x, t, labels, settings)``,
``Architecture.sampling_class``, ``default_sampling``, ``sampling_settings``; ``Architecture.sampling`` deprecated),
the name given at construction, ``Architecture.set_optimizer_steps`` (``zoo.optimization.steps``), model folders
that keep their sampling settings (``zoo export RUN DIR --steps N``), samplers as a kind (``register_samplers``,
``zoo.samplers``, ``Denoiser.prediction``), ``trainer.stop``, ``zoo.logged``, ``Architecture.all_reduce_mean`` and
``broadcast_from_rank_zero``, ``zoo.networks.time_of_sigma``, checked callback options, ``train_defaults`` checked;
1.8: ``UNet(step_size=True)``, ``Denoiser.step_size_conditioned`` and ``predict(..., step_size=)``, ``depth`` of
``ConvEncoder``, ``option(..., before=)`` with ``zoo.config.as_recorded``, ``zoo.testing.check_sampler`` and
``GaussianData``."""

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")
"""Marker for plugin hook implementations: ``@zoo.hookimpl def register_architectures(register): ...``"""


@hookspec
def register_architectures(register):
    """Add architectures: ``register(name, factory, *, config, summary, data_shapes=..., train_defaults=...,
    sampling=...)``.

    ``factory`` is an :class:`zoo.Architecture` subclass or a ``"module:Class"`` string imported only when the
    model is built; ``config`` is a dataclass whose field defaults are the model's defaults.
    """


@hookspec
def register_losses(register):
    """Add adversarial losses: ``register(name, loss, *, summary)``, ``loss`` a :class:`zoo.losses.AdversarialLoss`.

    A GAN config's ``loss`` names one of these.
    """


@hookspec
def register_penalties(register):
    """Add discriminator penalties: ``register(name, penalty, *, summary)`` with ``penalty(critic, real, fake)``
    returning a scalar; a GAN config's ``penalty`` names one, weighted by ``penalty_weight``."""


@hookspec
def register_datasets(register):
    """Add datasets: ``register(name, loader, *, summary)``; ``loader()`` returns a :class:`zoo.datasets.ImageData`."""


@hookspec
def register_callbacks(register):
    """Add training callbacks: ``register(name, factory, *, summary)``; ``factory()`` returns a Callback.

    Registered callbacks run when named with ``zoo train --callback NAME``.
    """


@hookspec
def register_feature_extractors(register):
    """Add feature spaces for ``zoo eval``: ``register(name, factory, *, summary)``.

    ``factory(train_data)`` returns an object with ``features(images) -> (N, D)`` and ``logits(images) -> (N,
    classes)`` (or None), images being floats in [-1, 1]. zoo registers ``classifier``, a CNN it trains on the
    dataset's labelled training split; a plugin can add Inception features for natural images.
    """


@hookspec
def register_samplers(register):
    """Add samplers for denoisers: ``register(name, sample, *, summary, serves, options=None,
    evaluations=lambda steps: steps)``.

    ``sample(model, z, labels, settings)`` (or a ``"module:function"`` string) draws images from noise ``z``;
    ``serves`` names the predictions it can sample from (``"epsilon"``, ``"v"``, ``"velocity"``: a model's
    ``prediction``); ``options`` is a dataclass declared with ``option()`` whose fields join the model's sampling
    options while the sampler is chosen; ``evaluations(steps)`` is its cost: network evaluations per image.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``zoo`` click group, e.g. ``@cli.command()``."""
