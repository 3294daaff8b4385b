"""Rule discovery has no import side effect: loading twice gives the same rules, from every source."""

from __future__ import annotations

import sys
import textwrap

import pytest

from hadoctor import rulekit
from hadoctor.engine import discovery

PLUGIN = textwrap.dedent('''
    from hadoctor.rulekit import Doc, fail, rule

    @rule("ZZZ901", "plugin rule", severity="warning", needs=("ha_cf",),
          doc=Doc(meaning="m", why="w", fix="f"))
    def plugin_rule(node):
        yield fail("plugin")
''')
DIR_RULE = PLUGIN.replace("ZZZ901", "ZZZ902").replace("plugin_rule", "dir_rule")


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A real installed distribution (a .dist-info on sys.path) declaring a hadoctor.rules entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "hadoctor_test_plugin.py").write_text(PLUGIN)
    info = site / "hadoctor_test_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hadoctor-test-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[hadoctor.rules]\nplugin = hadoctor_test_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("hadoctor_test_plugin", None)


def codes(rules):
    return [r.code for r in rules]


def test_entry_point_rules_survive_a_second_load(plugin):
    first = discovery.all_rules()
    second = discovery.all_rules()
    assert "ZZZ901" in codes(first)
    assert codes(first) == codes(second)
    assert [r.func for r in first] == [r.func for r in second]


def test_an_already_imported_plugin_still_gives_its_rules(plugin):
    import hadoctor_test_plugin  # noqa: F401  (imported before discovery runs)

    assert "ZZZ901" in codes(discovery.all_rules())


def test_rules_dir_and_builtins_twice_are_the_same(tmp_path):
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "mine.py").write_text(DIR_RULE)
    first = discovery.all_rules([str(folder)])
    second = discovery.all_rules([str(folder)])
    assert "ZZZ902" in codes(first) and codes(first) == codes(second)
    assert codes(discovery.all_rules()) == [c for c in codes(first) if c != "ZZZ902"]


def test_a_rule_module_registers_nothing_globally(tmp_path):
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "mine.py").write_text(DIR_RULE)
    before = {name: value for name, value in vars(rulekit).items() if isinstance(value, list)}
    (rule,) = discovery.load_dir(folder, "discoverytest")
    assert rule.code == "ZZZ902" and rule.origin == str(folder / "mine.py")
    after = {name: value for name, value in vars(rulekit).items() if isinstance(value, list)}
    assert before == after
    assert rulekit.rules_of(sys.modules["discoverytest.mine"]) == [rule]
