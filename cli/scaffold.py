"""``zoo new-plugin NAME``: write an installable plugin package that passes its own tests from the start."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from string import Template

import click

from zoo.errors import ZooError

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

A plugin for zoo, the plugin-based generative model zoo. $summary.

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
    """$summary"""

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
    """$summary, fully connected (start here, then make it yours)."""

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
    """$summary: every ``every`` steps, the step's figures go to a JSON-lines file in the run folder, appended
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

KINDS = {
    "gan": ("models", {"$module/__init__.py": GAN_INIT, "$module/model.py": GAN_MODEL, "tests/test_$module.py": MODEL_TESTS}),
    "architecture": ("models", {"$module/__init__.py": ARCH_INIT, "$module/model.py": ARCH_MODEL,
                                "tests/test_$module.py": MODEL_TESTS}),
    "callback": ("callbacks", {"$module/__init__.py": CALLBACK_INIT, "tests/test_$module.py": CALLBACK_TESTS}),
}
SUMMARIES = {"gan": "A GAN with a spectrally normalised discriminator", "architecture": "A variational autoencoder",
             "callback": "A log of the training figures"}


def _in_use(name: str, listing: str) -> str:
    """What already uses the entry point, distribution, module or registered name a plugin ``name`` would get
    (two entry points of one name cannot both load, a second distribution overwrites the first, two plugins'
    names are ambiguous and one of zoo's own would be replaced), or "" when nothing does."""
    from importlib.metadata import PackageNotFoundError, distribution, entry_points
    from importlib.util import find_spec

    from zoo.registry.lookup import KINDS as REGISTERED, registered, taken
    from zoo.registry.plugin_host import ENTRY_POINT_GROUP

    dist, module = f"zoo-{name}", "zoo_" + name.replace("-", "_")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        owner = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "an installed distribution"
        if ep.name == name or ep.value.split(":")[0].split(".")[0] == module:
            return f"{owner} has the entry point '{ep.name} = {ep.value}'"
    try:
        found = distribution(dist)
        return f"the distribution {found.metadata['Name']} {found.version} is installed"
    except PackageNotFoundError:
        pass
    if find_spec(module) is not None:
        return f"the module {module} is importable"
    if name in taken(listing):
        reg = registered(listing).get(name)
        return f"{reg.source if reg else 'two installed plugins'} register{'s' if reg else ''} the {REGISTERED[listing].name} '{name}'"
    return ""


@click.command("new-plugin")
@click.argument("name")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None, help="Where to write it. [default: ./zoo-NAME]")
@click.option("--kind", type=click.Choice(list(KINDS)), default="gan", show_default=True, help="What the plugin adds.")
def new_plugin(name, folder, kind):
    """Write an installable plugin package NAME: pyproject with the entry point, a torch-free module that
    registers it, a small working model or callback, and tests that run zoo's conformance checks."""
    from zoo import API_VERSION, __version__

    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ZooError(f"plugin name {name!r}: use lower-case letters, digits and dashes, starting with a letter")
    listing, files = KINDS[kind]
    used = _in_use(name, listing)
    if used:
        free = next(f"{name}-{n}" for n in range(2, 1000) if not _in_use(f"{name}-{n}", listing))
        raise ZooError(f"plugin name '{name}' is taken: {used}; choose another name, e.g. '{free}'")
    folder = folder or Path(f"zoo-{name}")
    if folder.exists() and any(folder.iterdir()):
        raise ZooError(f"--dir {folder} exists and is not empty; choose another folder")
    values = {"name": name, "module": "zoo_" + name.replace("-", "_"), "dist": f"zoo-{name}", "api": API_VERSION,
              "core": ".".join(__version__.split(".")[:2]), "summary": SUMMARIES[kind], "kinds": listing}
    files = {"pyproject.toml": PYPROJECT, "README.md": README, **files}
    for path, text in files.items():
        target = folder / Template(path).substitute(values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(text).substitute(values))
    click.echo(f"wrote {values['dist']} ({kind}) in {folder}")
    python, where = shlex.quote(sys.executable), shlex.quote(str(folder))  # the interpreter zoo runs in, not PATH's
    click.echo(f"next: {python} -m pip install -e {where} && {python} -m pytest {where}")
