"""Package discovery for zoo-core; everything else is in pyproject.toml.

The import package ``zoo`` lives in ``core/`` and ``zoo.cli`` in ``cli/``. setuptools cannot rename a found
package from pyproject.toml alone, so every package under those two folders is found here: a new subpackage
lands in the wheel without anyone listing it.
"""

from setuptools import find_packages, setup


def packages(folder: str, name: str) -> list[str]:
    return [name, *(f"{name}.{sub}" for sub in find_packages(folder))]


setup(packages=packages("core", "zoo") + packages("cli", "zoo.cli"))
