"""``zoo data``: the registered datasets (size, shape, classes, whether and where they are cached), and
``zoo data prepare`` to download or decode one ahead of time, e.g. on a cluster's login node before the compute
nodes, which have no internet, train on it."""

from __future__ import annotations

import json

import click


@click.group("data", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def data(ctx, as_json):
    """List the registered datasets; `zoo data prepare NAME` fetches one ahead of time."""
    if ctx.invoked_subcommand is not None:
        return
    from zoo.datasets.catalog import describe_all

    rows = describe_all()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        shape = "x".join(str(s) for s in row["shape"]) if row["shape"] else "?"
        size = f"{row['images']:,}" if row["images"] else "?"
        classes = row["classes"] if row["classes"] is not None else "-"
        where = row["where"] or ("nothing to cache" if row["state"] == "in memory" else "")
        click.echo(f"{row['name']:<14} {size:>7} images  {shape:<8} classes {classes:<4} {row['state']:<10} {where}")
        click.echo(f"{'':<14} {row['summary']}  [{row['distribution']}]")


@data.command("prepare")
@click.argument("name")
@click.option("--image-size", type=click.IntRange(min=0), default=0, help="For an image folder: decode at this size (as zoo train --image-size).")
def prepare(name, image_size):
    """Download (or decode) NAME now and cache it: a registered dataset, an image folder or a file."""
    from zoo import datasets
    from zoo.datasets.catalog import describe
    from zoo.registry.lookup import registered

    loaded = datasets.load(name, image_size=image_size or None)
    row = describe(name) if name in registered("datasets") else None
    where = (row or {}).get("where") or getattr(loaded.images, "path", None) or "memory (nothing to cache)"
    click.echo(f"{name}: {len(loaded):,} images of {'x'.join(map(str, loaded.shape))}"
               f"{f', {loaded.num_classes} classes' if loaded.num_classes else ''}; ready in {where}")
