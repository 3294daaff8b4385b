"""The catalogue gate (as hotsos does in CI): every rule has a scenario where it fires and one where it
stays quiet, every rule is documented, and codes are stable in shape."""

from __future__ import annotations

import importlib
import re

from hadoctor.engine import discovery

MODULES = ("tests.rules.test_log_rules", "tests.rules.test_config_rules", "tests.rules.test_node_rules",
           "tests.rules.test_mysql_rules")


def _scenarios():
    for name in MODULES:
        yield from importlib.import_module(name).SCENARIOS


def test_every_rule_fires_and_stays_quiet_somewhere():
    codes = {r.code for r in discovery.all_rules()}
    fires = {code for s in _scenarios() for code in s.get("fires", {})}
    quiet = {code for s in _scenarios() for code in s.get("quiet", [])}
    assert not codes - fires, f"rules without a firing scenario: {sorted(codes - fires)}"
    assert not codes - quiet, f"rules without a quiet scenario: {sorted(codes - quiet)}"


def test_rules_are_documented():
    for r in discovery.all_rules():
        assert re.fullmatch(r"[A-Z]{3}\d{3}", r.code)
        assert r.family in ("CFG", "LOG", "NET", "XND", "PKG", "SEC", "SVC", "MYS", "HDR")
        assert len(r.title) > 10 and len(r.doc.meaning) > 40 and len(r.doc.why) > 20 and len(r.doc.fix) > 20, r.code


def test_log_patterns_compile_and_are_not_anchored():
    import re as _re

    for r in discovery.all_rules():
        for name, pattern in list(r.patterns.items()) + list(r.context.items()):
            assert not pattern.startswith("^"), (r.code, name)
            _re.compile(pattern)
