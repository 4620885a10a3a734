"""No room of core imports a room that imports it back. A room is a sub-package (core/training/ -> zoo.training)
or a top-level module (core/config.py -> zoo.config); every import counts, lazy (in-function) ones included, and
the package face (``zoo/__init__.py``), ``__main__`` and the alias table ``moved`` stand outside the rooms."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core"
OUTSIDE = {"__init__", "__main__", "moved"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in CORE.rglob("*.py"):
        parts = ["zoo", *path.relative_to(CORE).with_suffix("").parts]
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(module: str, path: Path, node: ast.AST, modules: dict[str, Path]) -> set[str]:
    """The modules of core that one import statement names (the deepest that exists, for a name in a module)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def _room(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def room_imports() -> dict[tuple[str, str], list[str]]:
    """(room, room it imports) -> where (file:line), for every import between two rooms."""
    modules, edges = _modules(), {}
    for module, path in modules.items():
        here = _room(module)
        if here in OUTSIDE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(module, path, node, modules):
                    there = _room(target)
                    if there != here and there not in OUTSIDE:
                        edges.setdefault((here, there), []).append(f"{path.relative_to(CORE.parent)}:{node.lineno}")
    return edges


def test_the_walk_sees_lazy_imports():
    edges = room_imports()
    assert ("training", "store") in edges  # at module level
    assert any(where.startswith("core/training/default_callbacks.py") for where in edges[("training", "outputs")]), \
        "default_callbacks imports zoo.outputs inside its methods only"


def test_no_two_rooms_import_each_other():
    edges = room_imports()
    pairs = sorted({tuple(sorted(pair)) for pair in edges if pair[::-1] in edges})
    assert not pairs, "rooms that import each other:\n" + "\n".join(
        f"  {a} <-> {b}: {edges[(a, b)][0]} / {edges[(b, a)][0]}" for a, b in pairs)


def test_what_left_a_room_still_imports_from_where_it_was(recwarn):
    """The modules that moved between rooms keep their old paths, and ``to_float`` still comes from
    zoo.outputs.images, its home before the pixel convention moved down (each with a DeprecationWarning)."""
    import importlib

    from zoo.datasets.pixels import to_float
    from zoo.outputs import figures
    from zoo.sharing import export

    assert importlib.import_module("zoo.store.export").export_model is export.export_model
    assert importlib.import_module("zoo.evaluation.figures").table_rows is figures.table_rows
    assert importlib.import_module("zoo.outputs.images").to_float is to_float
    assert importlib.import_module("zoo.images").to_float is to_float
