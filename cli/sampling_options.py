"""A model's own sampling options on the command line: ``zoo sample RUN --steps 10``.

The options a model declares (``register(..., sampling=...)``) are not known until the model is loaded, so
``zoo sample`` and ``zoo eval`` set aside the ``--name value`` pairs they do not know themselves (wherever they
stand on the line) and check them here, against the model, with the types, bounds and help its sampling
dataclass gives them."""

from __future__ import annotations

import click

from zoo.errors import ZooError



class TakesSamplingOptions(click.Command):
    """A command that also takes its model's sampling options: the ``--name value`` and ``--name=value`` pairs
    whose name is none of its own options, kept as strings in ``ctx.meta["sampling"]`` (see :func:`settings`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        known = {name for param in self.get_params(ctx) for name in (*param.opts, *param.secondary_opts)}
        own, extra, rest = [], {}, list(args)
        while rest:
            token = rest.pop(0)
            if token == "--":
                own += [token, *rest]
                break
            name, sep, value = token.partition("=")
            if not token.startswith("--") or len(token) == 2 or name in known:
                own.append(token)
                continue
            if not sep:
                if not rest or rest[0].startswith("--"):
                    raise ZooError(f"no such option: {name} (a model's sampling option takes a value: {name} VALUE)")
                value = rest.pop(0)
            extra[name[2:].replace("-", "_")] = value
        ctx.meta["sampling"] = extra
        return super().parse_args(ctx, own)


EPILOG = ("MODEL's own sampling options (e.g. --steps 10 for an iterative sampler, --sampler NAME for a diffusion "
          "or flow model: 'zoo list --kind samplers') follow the same form; 'zoo info NAME' lists them.")


def settings(model, ctx: click.Context):
    """The model's sampling settings given the extra arguments of ``ctx``, checked once into the model's sampling
    dataclass (None when it has no options); a one-line error if one is unknown (naming the model's options) or
    out of range."""
    given = ctx.meta.get("sampling", {})
    if given and model.sampling_class is None:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in given)
        raise ZooError(f"no such option: {flags} ({model.name} has no sampling options; 'zoo {ctx.info_name} --help')")
    return model.sampling_settings(given)
