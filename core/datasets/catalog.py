"""What ``zoo data`` says of each registered dataset without loading it: size, shape, classes (as registered),
and whether a prepared copy is on this machine, and where.

A dataset registers these as keyword arguments beside its loader: ``images=50_000, shape=(3, 32, 32),
classes=10`` and ``files=callable`` returning the paths its prepared copy consists of (all present: cached).
A dataset without ``files`` (or whose ``files`` returns none) is made in memory by its loader: state "in memory",
nothing to cache.
"""

from __future__ import annotations

import os
from pathlib import Path

from zoo.registry.lookup import lookup, registered


def describe(name: str) -> dict:
    reg = lookup("datasets", name)
    extras = reg.extras
    files = extras.get("files")
    paths = [Path(p) for p in files()] if files else None
    if not paths:
        state, where = "in memory", None
    else:
        state = ("bundled" if extras.get("bundled") else "cached") if all(p.exists() for p in paths) else "not cached"
        where = str(Path(os.path.commonpath([str(p) for p in paths]))) if paths else None
    shape = extras.get("shape")
    return {"name": name, "summary": reg.summary, "distribution": reg.distribution, "images": extras.get("images"),
            "shape": list(shape) if shape else None, "classes": extras.get("classes"), "state": state, "where": where}


def describe_all() -> list[dict]:
    return [describe(name) for name in sorted(registered("datasets"))]
