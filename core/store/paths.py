"""Where zoo keeps downloads and cached classifiers: ``$ZOO_HOME`` if set, else the user cache folder."""

from __future__ import annotations

import os
from pathlib import Path

from zoo.errors import ZooError
from zoo.store.atomic import blocking_file


def cache_home() -> Path:
    """The cache folder; a ZooError when it could never be one (a file stands at it or at a folder above it), so
    the message names the setting rather than the first temporary file written under it."""
    home = os.environ.get("ZOO_HOME")
    if home:
        path, what = Path(home).expanduser(), f"ZOO_HOME={home}"
    else:
        import platformdirs

        path, what = Path(platformdirs.user_cache_dir("zoo")), "zoo's cache folder"
    if path.exists() and not path.is_dir():
        raise ZooError(f"{what} is a file, not a folder; point ZOO_HOME at a folder")
    blocked = blocking_file(path)
    if blocked is not None:
        raise ZooError(f"{what} points under a file ({blocked}); point ZOO_HOME at a folder")
    return path
