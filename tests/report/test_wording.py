"""Wording that says what it means (issue 11): no class names, no silently cut lists, counts named
for what they count, the history tag explained, permission hints that fit the file."""

from __future__ import annotations

import os
import re

from hadoctor.engine import discovery
from hadoctor.inputs import _permission_hint
from tests.report.test_hostile_output import EXAMPLE, REPO, run_pipe


def test_snapshot_names_what_each_datum_holds_never_a_class():
    _, out, _ = run_pipe("snapshot", REPO / "examples" / "healthy")
    text = out.decode()
    assert "resource script(s) in /etc/ha.d/resource.d and /etc/init.d" in text
    assert "heartbeat packet(s) captured; senders: node01 (10.250.1.11, 36)" in text
    assert not re.search(r"\b(ScriptListing|WireObservation|ServiceConfigs|[A-Z][a-z]+[A-Z]\w+)\b", text)


def test_unknown_rule_lists_its_whole_family_or_says_where_to_look():
    family = sorted(r.code for r in discovery.all_rules() if r.code.startswith("LOG"))
    code, _, err = run_pipe("rule", "LOG999")
    assert code == 2 and f"the {len(family)} LOG codes: " + ", ".join(family) in err.decode()
    code, _, err = run_pipe("rule", "NOPE")
    assert code == 2 and "`hadoctor rules` lists them all" in err.decode() and "CFG, " in err.decode()


def test_summary_counts_results_not_rules_and_explains_history():
    _, out, _ = run_pipe("check", EXAMPLE, "--format", "text")
    text = out.decode()
    m = re.search(r"— (\d+) rules gave (\d+) results \(one per rule and node\): (\d+) passed, (\d+) skipped", text)
    assert m, text[-600:]
    rules, results, passed, skipped = map(int, m.groups())
    assert rules == len([r for r in discovery.all_rules() if not r.opt_in])
    assert results >= passed + skipped + 6 and results > rules  # 6 findings shown; two nodes: more results
    assert "(history: 2026-11-25 09:19:27)" in text
    assert "(history: FIRST – LAST) marks a finding about the past" in text
    _, healthy, _ = run_pipe("check", REPO / "examples" / "healthy")
    assert b"marks a finding about the past" not in healthy  # the legend only when the tag is shown
    _, helptext, _ = run_pipe("check", "--help")
    assert b"(history: FIRST - LAST) is about the past" in helptext


def test_permission_hint_fits_the_file(tmp_path):
    hacf = tmp_path / "ha.cf"
    hacf.write_text("node a\n")
    os.chmod(hacf, 0o640)
    hint = _permission_hint(str(hacf))
    assert hint.startswith("ha.cf is 0640 ") and "authkeys" not in hint and "0600" not in hint
    keys = tmp_path / "authkeys"
    keys.write_text("auth 1\n")
    os.chmod(keys, 0o600)
    hint = _permission_hint(str(keys))
    assert hint.startswith("authkeys is 0600 ") and "root" in hint
    assert "authkeys" not in _permission_hint(str(tmp_path / "missing" / "haresources"))
