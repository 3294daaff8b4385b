"""The import graph of hadoctor/ and rules/ has no cycle, between modules or between packages.

The graph is read from the source with ``ast`` (every ``import``, module level or inside a
function), so a lazy import counts as much as a top-level one: it still ties the two modules.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

REPO = Path(__file__).resolve().parent.parent
TOPS = ("hadoctor", "rules")
Graph = Dict[str, Set[str]]


def modules(root: Path = REPO) -> Dict[str, Path]:
    found = {}
    for top in TOPS:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(tree: ast.AST, package: str, known: Dict[str, Path]) -> List[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import name`` the module mod
            names += [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
    return names


def _owner(name: str, known: Dict[str, Path]) -> str:
    """The module of ours that ``name`` names (its longest known prefix), or ''."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def module_graph(root: Path = REPO) -> Graph:
    known = modules(root)
    graph: Graph = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for imported in _imported(ast.parse(path.read_bytes(), str(path)), package, known):
            target = _owner(imported, known)
            if target and target != name:
                graph[name].add(target)
    return graph


def package_of(module: str) -> str:
    """hadoctor.engine.runner -> hadoctor.engine; hadoctor.rulekit -> hadoctor.rulekit; rules.x -> rules."""
    parts = module.split(".")
    if parts[0] == "hadoctor":
        return ".".join(parts[:2])
    return parts[0]


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {}
    for module, targets in graph.items():
        mine = package_of(module)
        packages.setdefault(mine, set())
        for target in targets:
            if package_of(target) != mine:
                packages[mine].add(package_of(target))
    return packages


def cycles(graph: Graph) -> List[List[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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


def _explain(graph: Graph, component: List[str]) -> str:
    inside = set(component)
    return "; ".join(f"{a} -> {b}" for a in component for b in sorted(graph.get(a, ())) if b in inside)


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_and_relative_imports():
    graph = module_graph()
    assert "hadoctor.engine.discovery" in graph["hadoctor.commands.check"]  # imported inside run()
    assert "hadoctor.rulekit" in graph["hadoctor.engine.runner"]
    assert "hadoctor.parsers.authkeys" in graph["hadoctor.wire.auth"]
    assert package_graph(graph)["hadoctor.commands"] >= {"hadoctor.engine", "hadoctor.snapshot"}


def test_no_import_cycle_between_modules():
    graph = module_graph()
    assert not [_explain(graph, c) for c in cycles(graph)]


def test_no_import_cycle_between_packages():
    graph = module_graph()
    packages = package_graph(graph)
    found = cycles(packages)
    detail = []
    for component in found:
        inside = set(component)
        detail.append([f"{m} -> {t}" for m in sorted(graph) if package_of(m) in inside
                       for t in sorted(graph[m]) if package_of(t) in inside and package_of(t) != package_of(m)])
    assert not detail


def reachable(graph: Graph, start: str) -> Set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_reading_a_bundle_does_not_import_the_collector():
    """check BUNDLE, snapshot BUNDLE, timeline ... read bundles; only bundle create collects."""
    graph = module_graph()
    for reader in ("hadoctor.snapshot.loader", "hadoctor.bundle.archive", "hadoctor.commands.check",
                   "hadoctor.commands.snapshot", "hadoctor.commands.timeline"):
        assert "hadoctor.bundle.collect" not in reachable(graph, reader), reader
    assert "hadoctor.bundle.collect" in reachable(graph, "hadoctor.commands.bundle_create")
