"""The shape of the code (issue 16): modules stay small and the imports of fieldsync form no cycle.

What counts as an import edge, read with `ast` from the source (nothing is imported):
- every `import fieldsync.x` and `from fieldsync.x import ...`, relative ones resolved, at
  module level AND inside functions: a lazy import that closes a cycle is still a cycle, it only
  moves the failure from import time to the first call;
- `from package import name` is an edge to the submodule `package.name` when there is one,
  otherwise to the package itself;
- imports under `if TYPE_CHECKING:` are not edges (they never run);
- importing `a.b.c` runs the `__init__` of `a` and `a.b` too, but that is not counted as an
  edge to them: a package's `__init__` may import its own modules (create_app registers the
  blueprints) as long as they do not import the package back.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "fieldsync"
MAX_LINES = 450


def _modules() -> dict[str, tuple[Path, bool]]:
    """module name -> (file, is a package's __init__)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(node: ast.AST, package: str, modules: dict) -> list[str]:
    """The fieldsync modules one import statement names."""
    if isinstance(node, ast.Import):
        named = []
        for alias in node.names:
            name = alias.name
            while name and name not in modules:
                name = name.rpartition(".")[0]
            named += [name] if name else []
        return named
    if node.level:
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    if source not in modules:
        return []
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        pending = [ast.parse(path.read_text(encoding="utf-8"))]
        while pending:
            node = pending.pop()
            if isinstance(node, ast.If) and _type_checking(node):
                pending.extend(node.orelse)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[name].update(_imported(node, package, modules))
            pending.extend(ast.iter_child_nodes(node))
        graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start, edges_out in graph.items():
        if start in index:
            continue
        work = [(start, iter(sorted(edges_out)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_module_is_over_450_lines():
    long = {str(path.relative_to(ROOT.parent)): lines for path, _ in _modules().values()
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_imports_of_fieldsync_form_no_cycle():
    graph = import_graph()
    found = cycles(graph)
    shown = [{member: sorted(graph[member] & set(cycle)) for member in cycle} for cycle in found]
    assert shown == []


def test_the_graph_sees_lazy_imports_and_relative_ones():
    # Rules the docstring states, checked on this tree's own modules and on a toy graph.
    graph = import_graph()
    assert "fieldsync.server" in graph["fieldsync.cli"]          # imported inside `serve`
    assert "fieldsync.store.db" in graph["fieldsync.store"]      # relative to the package
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
