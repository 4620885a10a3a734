"""Where zoo keeps downloads and cached classifiers: ``$ZOO_HOME`` if set, else the user cache folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    home = os.environ.get("ZOO_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("zoo"))
