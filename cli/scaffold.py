"""``zoo new-plugin NAME``: write an installable plugin package that passes its own tests from the start."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from string import Template

import click

from zoo.errors import ZooError

from .scaffold_templates import KINDS, PYPROJECT, README, SUMMARIES


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
    registers it, a small working model (a GAN, any architecture, or a denoiser with its sampler and sampling
    options) or callback, and tests that run zoo's conformance checks."""
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
