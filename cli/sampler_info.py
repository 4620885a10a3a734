"""What ``zoo info`` says of samplers: a registered sampler's page, and the sampling options of a model that
samples through them (its default sampler's options included, the sampler's choices those that serve it)."""

from __future__ import annotations

import json
from dataclasses import replace

import click

from zoo.registry.configs import describe
from zoo.samplers import get_sampler, samplers_for
from zoo.samplers.settings import chooses_sampler

STEPS_SHOWN = (1, 10, 50)


def sampling_fields(spec, model) -> list:
    """The sampling options ``zoo info MODEL`` lists for ``model``, built from ``spec``."""
    if not chooses_sampler(spec.sampling_class):
        return spec.describe_sampling()
    serving = tuple(samplers_for(model.prediction))
    return [replace(f, choices=serving) if f.name == "sampler" else f for f in describe(type(model.default_sampling))]


def echo(name: str, as_json: bool, format_table) -> None:
    """Print sampler ``name``'s page (``format_table(rows, headers)`` lays its options out as zoo's other tables)."""
    spec = get_sampler(name)
    options = spec.describe_options()
    if as_json:
        click.echo(json.dumps({"name": spec.name, "summary": spec.summary, "distribution": spec.distribution,
                               "version": spec.version, "serves": list(spec.serves),
                               "evaluations": {str(n): spec.evaluations(n) for n in STEPS_SHOWN},
                               "options": {f.name: {"type": f.type_name, "default": f.default, "help": f.help}
                                           for f in options}}, indent=2))
        return
    click.echo(f"{spec.name} (a sampler): {spec.summary}")
    click.echo(f"plugin: {spec.plugin} ({spec.distribution} {spec.version})")
    click.echo(f"serves: {', '.join(spec.serves)} (a model predicting one takes --sampler {spec.name} in zoo sample "
               "and zoo eval)")
    click.echo("network evaluations per image: " + ", ".join(f"{n} steps: {spec.evaluations(n)}" for n in STEPS_SHOWN))
    if options:
        click.echo("options (zoo sample / zoo eval --option value, with this sampler):")
        click.echo(format_table([[f"  --{f.name.replace('_', '-')}", f.type_name, repr(f.default), f.help]
                                 for f in options], ["  OPTION", "TYPE", "DEFAULT", "HELP"]))
