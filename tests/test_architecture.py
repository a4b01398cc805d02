"""The package's shape: no import cycle, one-way layers, no module over 500 lines, no private names
imported across modules. Read from the source (ast), so a violation fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mi_tutorial"
MAX_LINES = 500
#: Lower layers never import higher ones (the book's chapters sit above all of them).
LAYERS = ("maths", "training", "runs", "paper", "report", "app")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) for every import inside the package, lazy ones too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("mi_tutorial"):
                out.append((target, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("mi_tutorial")]
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, names in _imports(name, path):
            for imported in names or [""]:
                full = f"{target}.{imported}" if imported else target
                dep = full if full in modules else target
                if dep in modules and dep != name:
                    graph[name].add(dep)
    return graph


def _layer(module: str) -> str:
    part = module.split(".")[1] if "." in module else ""
    if part in ("training", "runs", "paper", "report"):
        return part
    if part in ("cli", "pipeline", "site_pdf", "__main__"):
        return "app"
    return "maths"


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_layers_depend_one_way():
    bad = [
        f"{module} ({_layer(module)}) imports {dep} ({_layer(dep)})"
        for module, deps in _graph().items()
        for dep in deps
        if LAYERS.index(_layer(dep)) > LAYERS.index(_layer(module))
    ]
    assert not bad, "\n".join(bad)


def test_no_module_is_over_the_size_limit():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_no_private_name_is_imported_from_another_module():
    bad = [
        f"{name} imports {imported} from {target}"
        for name, path in _modules().items()
        for target, names in _imports(name, path)
        for imported in names
        if imported.startswith("_")
        and not imported.startswith("__")
        and target != name
        and imported != "_validation"
    ]
    assert not bad, "\n".join(bad)


def test_the_cycle_check_can_fail(tmp_path):
    """A planted a -> b -> a cycle is reported (the check is not vacuous)."""
    pkg = tmp_path / "mi_tutorial"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("from . import a\nx = 1\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, pkg
    try:
        try:
            test_no_import_cycle()
        except AssertionError as err:
            assert "mi_tutorial.a -> mi_tutorial.b -> mi_tutorial.a" in str(err)
        else:
            raise AssertionError("the planted cycle was not found")
    finally:
        PACKAGE = saved
