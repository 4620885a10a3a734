"""Install a plugin distribution by hand for a test: a module and a dist-info with its entry point."""

import importlib
import sys
import textwrap


def write_plugin(root, dist, version, module, body, entry_name=None):
    """Lay out an installed distribution by hand: its module and a dist-info with the entry point."""
    sys.modules.pop(module, None)  # an earlier test may have imported a module of the same name
    importlib.invalidate_caches()
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[zoo.plugins]\n{entry_name or module} = {module}\n")
