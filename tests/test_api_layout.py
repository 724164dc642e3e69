"""The API package keeps to the style guide: no import cycle, no module past ~400 lines,
no view function past ~40, and every view declares its operation."""

import ast
from pathlib import Path

import coprod_study.api

PACKAGE = Path(coprod_study.api.__file__).parent
PREFIX = "coprod_study.api"


def _modules() -> dict[str, ast.Module]:
    return {
        f"{PREFIX}.{path.stem}" if path.stem != "__init__" else PREFIX: ast.parse(path.read_text())
        for path in sorted(PACKAGE.glob("*.py"))
    }


def _imports(tree: ast.Module, modules) -> set[str]:
    """The API modules `tree` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in modules}
    return found


def test_no_import_cycle_inside_the_api_package():
    modules = _modules()
    graph = {name: _imports(tree, modules) - {name} for name, tree in modules.items()}
    # The package itself only makes the blueprint: importing a submodule from it is fine.
    graph = {name: edges - {PREFIX} for name, edges in graph.items()}
    assert graph[f"{PREFIX}.openapi"], "the walk found no imports"
    state: dict[str, str] = {}

    def visit(name, trail):
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                raise AssertionError(" → ".join([*trail, name, other]))
            if other not in state:
                visit(other, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_the_layers_import_only_downwards():
    modules = _modules()
    graph = {name.removeprefix(f"{PREFIX}."): {o.removeprefix(f"{PREFIX}.") for o in
             _imports(tree, modules) - {PREFIX, name}} for name, tree in modules.items()}
    for base in ("support", "spec", "outputs"):
        assert graph[base] == set(), (base, graph[base])
    assert graph["inputs"] <= {"spec", "support"}
    assert graph["auth"] <= {"spec", "support"}
    # The document reads the URL map; it never needs a route module.
    assert graph["openapi"] <= {"inputs", "outputs", "spec", "support"}


def _is_view(node) -> bool:
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "route"
        for d in node.decorator_list
    )


def _declares(node) -> bool:
    return any(
        isinstance(d, ast.Call) and getattr(d.func, "id", None) == "operation"
        for d in node.decorator_list
    )


def test_modules_and_views_are_small_and_every_view_is_declared():
    views = 0
    for path in sorted(PACKAGE.glob("*.py")):
        text = path.read_text()
        assert len(text.splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and _is_view(node):
                views += 1
                assert node.end_lineno - node.lineno + 1 <= 40, (path.name, node.name)
                assert _declares(node), (path.name, node.name)
    assert views >= 25
