"""zoo-core's version, read once from the installed distribution; modules import it from here, never from the
package face (``zoo/__init__.py`` imports them)."""

from importlib.metadata import version

__version__ = version("zoo-core")
