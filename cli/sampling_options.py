"""A model's own sampling options on the command line: ``zoo sample RUN --steps 10 --guidance 2``.

The options a model declares (``register(..., sampling=...)``) are not known until the model is loaded, so
``zoo sample`` and ``zoo eval`` take the options they do not know themselves as extra arguments and check them
here, against the model, with the types, bounds and help its sampling dataclass gives them."""

from __future__ import annotations

import click

from zoo.errors import ZooError

EXTRA_ARGUMENTS = {"ignore_unknown_options": True, "allow_extra_args": True}
"""The click ``context_settings`` of a command that takes a model's sampling options."""

EPILOG = ("MODEL's own sampling options (e.g. --steps 10 for an iterative sampler) follow the same form; "
          "'zoo info NAME' lists them.")


def parse(arguments: list[str]) -> dict[str, str]:
    """``["--steps", "10", "--sampler=heun"]`` -> ``{"steps": "10", "sampler": "heun"}``; values stay strings."""
    out, rest = {}, list(arguments)
    while rest:
        token = rest.pop(0)
        if not token.startswith("--") or len(token) == 2:
            raise ZooError(f"unexpected argument {token!r}")
        name, sep, value = token[2:].partition("=")
        if not sep:
            if not rest or rest[0].startswith("--"):
                raise ZooError(f"no such option: --{name} (a model's sampling option takes a value: --{name} VALUE)")
            value = rest.pop(0)
        out[name.replace("-", "_")] = value
    return out


def settings(model, ctx: click.Context) -> dict:
    """The model's sampling settings given the extra arguments of ``ctx``, checked; a one-line error if one is
    unknown (naming the model's options) or out of range."""
    given = parse(ctx.args)
    if given and model.sampling is None:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in given)
        raise ZooError(f"no such option: {flags} ({model.name} has no sampling options; 'zoo {ctx.info_name} --help')")
    return {} if model.sampling is None else vars(model.sampling_settings(given))
