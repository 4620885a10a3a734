"""Docstrings and guides that say what is there: each package's docstring names each of its modules, and the plugin
guide's list of public modules holds every zoo module the first-party plugins import."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CORE = ROOT / "core"
PACKAGES = sorted(p.parent for p in CORE.glob("*/__init__.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_a_package_docstring_names_each_of_its_modules(package):
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    modules = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
    assert [m for m in modules if not re.search(rf"\b{m}\b", doc)] == [], doc


def test_the_plugin_guide_lists_every_module_the_plugins_import():
    imported = set()
    for path in (ROOT / "plugins").glob("*/zoo_*/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zoo."):
                imported.add(node.module)
    guide = (ROOT / "docs" / "plugins.md").read_text()
    public = guide[:guide.index("Anything else in zoo may change")]
    assert imported and sorted(m for m in imported if f"`{m}`" not in public) == []
