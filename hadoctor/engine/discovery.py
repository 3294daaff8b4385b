"""Finding rules: the built-in ``rules/`` folder, the ``hadoctor.rules`` entry points, ``--rules-dir``.

Rules are read off the loaded modules (:func:`hadoctor.rulekit.rules_of`), never collected from a
side effect of importing them: every call gives the same rules, however often it runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, Iterable, List, Optional

from hadoctor import rulekit
from hadoctor.rulemodel import Derivation, Rule
from hadoctor.errors import UsageError

ENTRY_POINT_GROUP = "hadoctor.rules"


def builtin_rules_dir() -> Path:
    """Installed wheels carry the rules as ``hadoctor/builtin_rules``; a source tree has ``rules/``."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "builtin_rules"
    return installed if installed.is_dir() else package.parent / "rules"


_LOADED: Dict[str, ModuleType] = {}
BUILTIN_NAMESPACE = "hadoctor_builtin_rules"


def _import_file(path: Path, namespace: str) -> List[Rule]:
    key = str(path.resolve())
    if key in _LOADED:
        return rulekit.rules_of(_LOADED[key])
    name = f"{namespace}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load rule module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken plugin must say which file, not crash the report
        del sys.modules[name]
        raise UsageError(f"rule module {path} failed to load: {type(exc).__name__}: {exc}",
                         "fix the module or remove it from the rules folder") from exc
    rules = rulekit.rules_of(module)
    for r in rules:
        r.origin = str(path)
    for d in rulekit.derivations_of(module):
        d.origin = str(path)
    _LOADED[key] = module
    return rules


def load_dir(folder: Path, namespace: str) -> List[Rule]:
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such rules folder")
    rules: List[Rule] = []
    for path in sorted(folder.glob("*.py")):
        if not path.name.startswith("_"):
            rules.extend(_import_file(path, namespace))
    return rules


def _entry_point_modules() -> List[ModuleType]:
    try:
        from importlib.metadata import entry_points
    except ImportError:  # pragma: no cover
        return []
    eps = entry_points()
    selected: Iterable = eps.select(group=ENTRY_POINT_GROUP) if hasattr(eps, "select") else eps.get(ENTRY_POINT_GROUP, [])
    modules: List[ModuleType] = []
    for ep in selected:
        try:
            loaded = ep.load()
            modules.append(loaded if isinstance(loaded, ModuleType) else importlib.import_module(ep.module))
        except Exception as exc:
            raise UsageError(f"rule plugin {ep.name} ({ep.value}) failed to load: {exc}") from exc
    return modules


def _entry_point_rules() -> List[Rule]:
    return [r for module in _entry_point_modules() for r in rulekit.rules_of(module)]


def all_derivations(extra_dirs: Optional[List[str]] = None) -> Dict[str, Derivation]:
    """Every shared derivation by name, read off the same modules as the rules (loaded once)."""
    all_rules(extra_dirs)
    modules = [_LOADED[str(path.resolve())]
               for folder in [builtin_rules_dir()] + [Path(f) for f in extra_dirs or []]
               for path in sorted(folder.glob("*.py")) if str(path.resolve()) in _LOADED]
    found: Dict[str, Derivation] = {}
    for module in modules + _entry_point_modules():
        for made in rulekit.derivations_of(module):
            other = found.get(made.name)
            if other is not None and other is not made:
                raise UsageError(f"derivation {made.name} is defined twice: {other.origin} and {made.origin}")
            found[made.name] = made
    return found


def all_rules(extra_dirs: Optional[List[str]] = None) -> List[Rule]:
    """Every rule, sorted by code; duplicate codes are an error naming both origins."""
    rules = load_dir(builtin_rules_dir(), BUILTIN_NAMESPACE) + _entry_point_rules()
    for folder in extra_dirs or []:
        rules.extend(load_dir(Path(folder), f"hadoctor_rules_dir_{abs(hash(folder))}"))
    seen: Dict[str, Rule] = {}
    for r in rules:
        other = seen.get(r.code)
        if other is not None and other is not r:
            raise UsageError(f"rule code {r.code} is defined twice: {other.origin} and {r.origin}")
        seen[r.code] = r
    return sorted(seen.values(), key=lambda r: r.code)


def select_rules(rules: List[Rule], select: Optional[List[str]] = None,
                 ignore: Optional[List[str]] = None) -> List[Rule]:
    """ruff-style selection by code or prefix; opt-in rules run only when selected by their full code
    or by a prefix longer than the family."""
    select = [s.upper() for s in (select or [])]
    ignore = [s.upper() for s in (ignore or [])]
    known = {r.code for r in rules}
    for token in select + ignore:
        if token != "ALL" and not any(code.startswith(token) for code in known):
            raise UsageError(f"no rule matches {token!r}", "list the rules with `hadoctor rules`")
    chosen = []
    for r in rules:
        if select:
            matches = [s for s in select if s == "ALL" or r.code.startswith(s)]
            if not matches:
                continue
            if r.opt_in and not any(s == r.code or (s != "ALL" and len(s) > 3) for s in matches):
                continue
        elif r.opt_in:
            continue
        if any(r.code.startswith(i) for i in ignore if i != "ALL") or "ALL" in ignore:
            continue
        chosen.append(r)
    return chosen
