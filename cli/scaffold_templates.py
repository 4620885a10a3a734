"""What ``zoo new-plugin`` writes: string.Template files for each kind of plugin ($name, $module, $dist, $api,
$core, $summary, $kinds), each a small working plugin with tests that run zoo's conformance checks. The text
says what the plugin is (a GAN, a model, a denoiser, a callback), never what its starting code happens to be."""

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "$summary"
requires-python = ">=3.10"
dependencies = ["zoo-core>=$core", "torch>=2.1"]

[project.entry-points."zoo.plugins"]
$name = "$module"

[tool.setuptools]
packages = ["$module"]
'''

README = '''# $dist

$summary for zoo, the plugin-based generative model zoo, as `zoo new-plugin` wrote it: make it yours.

```bash
pip install -e .        # zoo finds it through its entry point: zoo list --kind $kinds
pytest                  # zoo's conformance checks for what it registers
```

Written against zoo plugin API $api (`ZOO_API` in `$module/__init__.py`); the plugin guide is docs/plugins.md
in zoo's repository.
'''

GAN_INIT = '''"""zoo plugin: $name. This module stays light (no torch): zoo imports it on every start."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.gan_config import GANConfig

ZOO_API = "$api"


@dataclass
class Config(GANConfig):
    latent_dim: int = option(64, "size of the noise vector z")
    width: int = option(32, "channels of the first conv layer; deeper layers double it")
    d_norm: str = option("spectral", "normalisation in the discriminator", choices=("batch", "layer", "none", "spectral"))
    loss: str = option("hinge", "adversarial loss (zoo list --kind losses)")


@zoo.hookimpl
def register_architectures(register):
    register("$name", "$module.model:Model", config=Config, summary="$summary",
             data_shapes=[(1, 28, 28), (3, 32, 32)], train_defaults={"steps": 3000, "batch_size": 64})
'''

GAN_MODEL = '''from zoo.gan import GAN
from zoo.networks import ConvDiscriminator, ConvGenerator, dcgan_init_


class Model(GAN):
    """A starting point: DCGAN-style networks with a spectrally normalised discriminator; make it yours."""

    def build_generator(self):
        net = ConvGenerator(self.config.latent_dim, self.data_shape, self.config.width)
        dcgan_init_(net)
        return net

    def build_discriminator(self):
        net = ConvDiscriminator(self.data_shape, self.config.width, norm=self.config.d_norm)
        dcgan_init_(net)
        return net
'''

ARCH_INIT = '''"""zoo plugin: $name. This module stays light (no torch): zoo imports it on every start."""

from dataclasses import dataclass

import zoo
from zoo.config import option

ZOO_API = "$api"


@dataclass
class Config:
    latent_dim: int = option(16, "size of the latent code", minimum=1, maximum=4096)
    hidden: int = option(256, "units of the hidden layer on each side", minimum=1, maximum=65536)
    lr: float = option(1e-3, "learning rate (Adam)", minimum=0.0)


@zoo.hookimpl
def register_architectures(register):
    register("$name", "$module.model:Model", config=Config, summary="$summary",
             data_shapes=[(1, 28, 28), (3, 32, 32)], train_defaults={"steps": 3000, "batch_size": 64})
'''

ARCH_MODEL = '''import math

import torch
from torch import nn

from zoo import Architecture


class Model(Architecture):
    """A starting point: a fully connected VAE (Kingma & Welling 2014); make it yours."""

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        pixels = math.prod(data_shape)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(pixels, config.hidden), nn.ReLU(),
                                     nn.Linear(config.hidden, 2 * config.latent_dim))
        self.decoder = nn.Sequential(nn.Linear(config.latent_dim, config.hidden), nn.ReLU(),
                                     nn.Linear(config.hidden, pixels), nn.Tanh())

    def configure_optimizers(self):
        return {"model": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    def loss(self, images):
        mu, logvar = self.encoder(images).chunk(2, dim=1)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        error = ((self.decoder(z) - images.flatten(1)) ** 2).sum(1) / (2 * 0.1**2)
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
        return (error + kl).mean()

    def training_step(self, batch, step):
        loss = self.loss(batch.images)
        self.optimize("model", loss)  # fp16 scaling, --accumulate, --clip-grad-norm and several processes apply
        return {"loss": loss.detach()}

    def validation_logs(self, images, labels):
        return {"loss": float(self.loss(images))}

    def sample_latent(self, n, generator=None):
        return torch.randn(n, self.config.latent_dim, generator=generator)

    def generate(self, z, labels=None):
        return self.decoder(z).view(len(z), *self.data_shape)

    def reconstruct(self, images, labels=None):
        return self.generate(self.encoder(images).chunk(2, dim=1)[0])
'''

MODEL_TESTS = '''import pytest

from zoo.testing import ARCHITECTURE_CHECKS


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check("$name", tmp_path)
'''

CALLBACK_INIT = '''"""zoo plugin: $name, a training callback (zoo train --callback $name:every=50)."""

import json

import zoo

ZOO_API = "$api"


class Callback(zoo.Callback):
    """A starting point: every ``every`` steps, the step's figures go to a JSON-lines file in the run folder, appended
    each time a checkpoint is written: a resumed run, which trains the steps past its checkpoint again, never
    repeats a line."""

    def __init__(self, filename: str = "$name.jsonl", every: int = 10):
        self.filename, self.every = filename, every
        self.waiting: list[str] = []

    def on_step_end(self, trainer, step, logs):
        if step % self.every == 0:
            self.waiting.append(json.dumps({"step": step, **logs}) + "\\n")

    def on_checkpoint_saved(self, trainer, path):
        if path == trainer.folder.checkpoint:  # not best.safetensors, which may be ahead of it
            self.write(trainer)

    def on_train_end(self, trainer):
        self.write(trainer)

    def write(self, trainer):
        with open(trainer.out_dir / self.filename, "a") as fh:
            fh.write("".join(self.waiting))
        self.waiting = []


@zoo.hookimpl
def register_callbacks(register):
    register("$name", Callback, summary="$summary")
'''

CALLBACK_TESTS = '''import json

from zoo.testing import check_callback


def test_conformance(tmp_path):
    check_callback("$name", tmp_path, every=1)
    lines = (tmp_path / "resumed" / "$name.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4]
'''

DENOISER_INIT = '''"""zoo plugin: $name. This module stays light (no torch): zoo imports it on every start."""

from dataclasses import dataclass

import zoo
from zoo.config import option
from zoo.denoising import DenoiserConfig, GuidedSampling

ZOO_API = "$api"


@dataclass
class Config(DenoiserConfig):
    width: int = option(16)  # the U-Net's options (zoo info $name lists them), a field redeclared to change a default


@dataclass
class Sampling(GuidedSampling):  # chosen when sampling: zoo sample RUN --steps 8 (guidance and ema come with it)
    steps: int = option(16, "sampler steps from noise to image", minimum=1, maximum=1000)


@zoo.hookimpl
def register_architectures(register):
    register("$name", "$module.model:Model", config=Config, sampling=Sampling,
             summary="$summary", data_shapes=[(1, 28, 28), (3, 32, 32)],
             train_defaults={"steps": 3000, "batch_size": 64, "clip_grad_norm": 1.0})
'''

DENOISER_MODEL = '''import torch

from zoo.denoising.model import Denoiser


class Model(Denoiser):
    """A starting point: a rectified flow (Liu et al. 2023) with an Euler sampler; make it yours. The base builds
    ``self.network`` (a U-Net taking images, times in [0, 1] and labels), keeps its EMA and steps the optimiser."""

    def loss(self, images, labels):
        noise, t = torch.randn_like(images), torch.rand(len(images), device=images.device)
        noisy = torch.lerp(noise, images, t[:, None, None, None])  # noise at t = 0, the image at t = 1
        return (self.network(noisy, t, labels) - (images - noise)).square().mean()

    def generate(self, z, labels=None, settings=None):
        x, steps = z, settings.steps
        for i in self.progress(range(steps)):  # zoo sample shows how far it is
            x = x + self.predict(x, i / steps, labels, settings) / steps  # EMA weights and guidance applied
        return x
'''

DENOISER_TESTS = '''import pytest

import zoo
from zoo.testing import ARCHITECTURE_CHECKS, check_resume_exact


@pytest.mark.parametrize("check", ARCHITECTURE_CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, tmp_path):
    check("$name", tmp_path)


def test_the_conditional_variant_resumes_exactly(tmp_path):
    check_resume_exact("$name", tmp_path, conditional=True, width=8)


def test_the_steps_option_sets_the_samplers_steps():
    model = zoo.create_model("$name", width=8)
    heard = []
    model.sample(2, seed=0, sampling={"steps": 3}, progress=lambda done, total: heard.append((done, total)))
    assert heard == [(1, 3), (2, 3), (3, 3)]
'''

KINDS = {
    "gan": ("models", {"$module/__init__.py": GAN_INIT, "$module/model.py": GAN_MODEL, "tests/test_$module.py": MODEL_TESTS}),
    "architecture": ("models", {"$module/__init__.py": ARCH_INIT, "$module/model.py": ARCH_MODEL,
                                "tests/test_$module.py": MODEL_TESTS}),
    "denoiser": ("models", {"$module/__init__.py": DENOISER_INIT, "$module/model.py": DENOISER_MODEL,
                            "tests/test_$module.py": DENOISER_TESTS}),
    "callback": ("callbacks", {"$module/__init__.py": CALLBACK_INIT, "tests/test_$module.py": CALLBACK_TESTS}),
}
SUMMARIES = {"gan": "A GAN", "architecture": "A generative model", "denoiser": "A denoising generative model",
             "callback": "A training callback"}
"""What the summary (zoo list), pyproject and README call the plugin: its kind, whatever its name or code."""
