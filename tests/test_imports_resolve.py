"""Every ``from hadoctor... import name`` in the code, module level or inside a function, names
something that exists. Imports inside functions (kept there for start-up time) run only when their
code path runs, so a module split or a rename elsewhere breaks them silently until then: this test
finds that at once, for every one of them."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports():
    for folder in ("hadoctor", "rules"):
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                        and node.module.split(".")[0] == "hadoctor":
                    for alias in node.names:
                        yield f"{path.relative_to(REPO)}:{node.lineno}", node.module, alias.name
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.split(".")[0] == "hadoctor":
                            yield f"{path.relative_to(REPO)}:{node.lineno}", alias.name, None


IMPORTS = list(_imports())


def test_the_walk_finds_function_level_imports():
    assert any(where.startswith("hadoctor/drill/observer.py") and name == "open_arp_socket"
               for where, _, name in IMPORTS)


def test_every_import_resolves():
    broken = []
    for where, module, name in IMPORTS:
        try:
            mod = importlib.import_module(module)
            if name not in (None, "*") and not hasattr(mod, name):
                importlib.import_module(f"{module}.{name}")   # a submodule: `from hadoctor.x import y`
        except ImportError as err:
            broken.append(f"{where}: from {module} import {name}: {err}")
    assert not broken, "\n".join(broken)
