"""The message catalogue (hadoctor/catalogue): every sample is a real log line that the log parser reads
with the catalogued level and message, that the catalogue identifies, and that the rule it is classified
under matches; the rules, the timeline and fix take their patterns from it; and every ERROR/CRIT/WARN
message is explained by a rule or classified benign (the coverage counts are printed)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from hadoctor import catalogue
from hadoctor.engine import discovery
from hadoctor.parsers.hblog import parse_line
from tests.conftest import REPO
from tests.rules.scenario import check, fired, healthy_cluster

REF = datetime(2026, 11, 30)
COMPLAINTS = ("emerg", "alert", "crit", "error", "warn")


def _parsed(entry):
    return parse_line(entry.sample.encode(), reference=REF)


def _log_rules():
    return {r.code: r for r in discovery.all_rules() if r.is_log_rule}


def test_every_sample_parses_with_its_level_and_matches_its_regex():
    bad = []
    for entry in catalogue.messages():
        rec = _parsed(entry)
        if rec is None or rec.level != entry.level or not re.search(entry.regex, rec.message):
            bad.append((entry.name, rec and rec.level, rec and rec.message))
    assert not bad, f"{len(bad)} bad samples, e.g. {bad[:5]}"


def _test_program_twin(entry, found) -> bool:
    """A test program's message whose text a running component also writes is identified as that one's."""
    from hadoctor.catalogue.families import of_source

    group = of_source(entry.source, entry.name)
    return bool(group and group.benign and found.regex == entry.regex)


def test_each_sample_is_identified_as_its_message_or_an_identical_one():
    bad = []
    twins = []
    for entry in catalogue.messages():
        found = catalogue.identify(_parsed(entry).message)
        if found is not None and found.name != entry.name and _test_program_twin(entry, found):
            twins.append((entry.name, found.name))
        elif found is None or (found.name != entry.name and found.classification != entry.classification):
            bad.append((entry.name, found and found.name))
    assert not bad, bad[:10]
    assert twins == [("glue.out_memory_2", "stonith.out_memory")]


def test_entries_are_well_formed():
    names = Counter(e.name for e in catalogue.messages())
    assert not [n for n, c in names.items() if c > 1]
    for entry in catalogue.messages():
        assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", entry.name), entry.name
        assert entry.level in catalogue.LEVELS, entry.name
        assert set(entry.packages) <= set(catalogue.PACKAGES), (entry.name, entry.packages)
        assert not (entry.rule and entry.benign), entry.name
        assert entry.benign is None or len(entry.benign) >= 15, entry.name
        # searched from every position of a message: a regex must start with fixed text, not a wildcard
        assert not re.match(r"\.|\\S|\[\^|\(\?:\.|\\s", entry.regex), entry.name
        re.compile(entry.regex)


def test_a_rule_named_by_an_entry_exists_and_matches_the_sample():
    rules = _log_rules()
    bad = []
    for entry in catalogue.messages():
        if not entry.rule:
            continue
        rule = rules.get(entry.rule)
        assert rule is not None, f"{entry.name}: no log rule {entry.rule}"
        message = _parsed(entry).message
        if not any(p and re.search(p, message) for p in list(rule.patterns.values()) + list(rule.context.values())):
            bad.append((entry.name, entry.rule))
    assert not bad, f"rules that do not read the message classified under them: {bad}"


def test_the_catch_all_takes_exactly_the_unexplained_messages():
    from hadoctor.engine.discovery import all_rules

    all_rules()  # loads every built-in rule module, log_catchall among them
    import sys

    keyed = sys.modules["hadoctor_builtin_rules.log_catchall"]._unexplained
    for entry in catalogue.messages():
        rec = _parsed(entry)
        key = keyed(rec, None)
        if key is not None and _test_program_twin(entry, catalogue.message(key[1:])):
            continue
        if entry.classification == catalogue.CATCH_ALL and entry.level in COMPLAINTS:
            assert key is not None and catalogue.message(key[1:]).classification == catalogue.CATCH_ALL, entry.name
        else:
            assert key is None, (entry.name, key)


def test_every_complaint_has_exactly_one_classification_a_rule_benign_or_a_family():
    """Nothing is left "without a diagnosis": each ERROR/CRIT/WARN entry has a dedicated rule, a benign
    reason, or a diagnosis family (which LOG090 quotes it with), and only one of them."""
    bad = []
    for entry in catalogue.messages():
        if entry.level not in COMPLAINTS:
            continue
        kinds = [bool(entry.rule), bool(entry.benign), catalogue.family(entry) is not None]
        if sum(kinds) != 1:
            bad.append((entry.name, entry.source, kinds))
    assert not bad, f"{len(bad)} entries, e.g. {bad[:5]}"


def test_every_family_is_used_and_well_formed():
    from hadoctor.catalogue import families

    codes = [f.code for f in families.FAMILIES]
    assert len(codes) == len(set(codes))
    assert {code for _, _, code in families.MEMBERS} == set(codes)
    used = Counter()
    for entry in catalogue.messages():
        if entry.level in COMPLAINTS and not entry.rule:
            group = families.of_source(entry.source, entry.name)
            if group is not None and (group.benign or not entry.benign):
                used[group.code] += 1
    assert set(used) == set(codes), set(codes) - set(used)
    for group in families.FAMILIES:
        assert re.fullmatch(r"[a-z]+(?:-[a-z]+)*", group.code), group.code
        assert len(group.label) <= 40, group.code  # it goes in the one-line finding
        assert len(group.meaning) >= 60 and group.meaning.endswith("."), group.code
        assert group.benign or len(group.fix) >= 60, group.code
    # a benign family's members are benign with its reason, not quoted
    benign = [e for e in catalogue.messages() if e.benign and families.of_source(e.source, e.name)
              and families.of_source(e.source, e.name).code == "test-program"]
    assert benign and all(e.benign == families.by_code("test-program").benign for e in benign)


def test_coverage_every_complaint_is_explained_or_benign(capsys):
    """Every catalogued ERROR/CRIT/WARN message is explained by a dedicated rule, classified benign, or
    quoted by the catch-all with its diagnosis family. Prints the counts for the closing note."""
    rules = set(_log_rules())
    entries = [e for e in catalogue.messages() if e.level in COMPLAINTS]
    classes = Counter()
    for entry in entries:
        cls = entry.classification
        assert cls == "benign" or cls in rules, (entry.name, cls)
        if cls == catalogue.CATCH_ALL:
            classes["family " + catalogue.family(entry).code] += 1
        else:
            classes["benign" if cls == "benign" else "dedicated rule"] += 1
    by_pkg = catalogue.by_package_and_level(catalogue.messages())
    with capsys.disabled():
        print(f"\ncatalogue: {len(catalogue.messages())} messages; ERROR/CRIT/WARN: {len(entries)} = "
              + ", ".join(f"{k} {v}" for k, v in sorted(classes.items(), key=lambda kv: (-kv[1], kv[0]))))
        for (pkg, level), count in sorted(by_pkg.items()):
            print(f"  {pkg:16} {level:6} {count}")
    assert classes["dedicated rule"] >= 60 and classes["benign"] >= 100
    assert sum(classes.values()) == len(entries)
    assert len([k for k in classes if k.startswith("family ")]) == len(catalogue.FAMILIES) - 1  # test programs: benign


def test_rules_read_every_message_of_their_samples_through_the_engine(tmp_path):
    """Each rule with catalogued messages fires on a log made of those messages' samples alone."""
    by_rule = {}
    for entry in catalogue.messages():
        if entry.rule:
            by_rule.setdefault(entry.rule, []).append(entry.sample)
    start = "Nov 25 07:00:00 node01 heartbeat: [11]: info: Configuration validated. Starting heartbeat 3.0.6"
    for code, samples in sorted(by_rule.items()):
        nodes = healthy_cluster({"node01": {"heartbeat.log": "\n".join([start] + samples) + "\n"}})
        report = check(tmp_path / code, nodes, [code])
        assert "node01" in fired(report).get(code, []), f"{code} did not fire on its samples: {samples}"


# --- one vocabulary -------------------------------------------------------------------------------

_REGEX_SYNTAX = re.compile(r"\\[SsdwbB]|\(\?P<|\(\?:|\\\[|\\\(|\\\.|\.\*|\.\+")


def _gates():
    out = set()
    for entry in catalogue.messages():
        try:
            lit = catalogue.gate(entry.name)
        except ValueError:
            continue
        if len(lit.strip()) >= 8:
            out.add(lit.strip())
    return out


def _code_strings(path: Path):
    """String constants of a module that are code: not docstrings, not rule documentation."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skip.add(id(node.value))
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("Doc", "RuleDoc"):
            for sub in ast.walk(node):
                skip.add(id(sub))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def test_no_module_outside_the_catalogue_writes_a_heartbeat_message_regex():
    gates = _gates()
    offenders = []
    for folder in ("hadoctor", "rules"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if "catalogue" in path.parts:
                continue
            for line, text in _code_strings(path):
                if not _REGEX_SYNTAX.search(text):
                    continue
                hit = next((g for g in gates if g in text), None)
                if hit:
                    offenders.append(f"{path.relative_to(REPO)}:{line}: {hit!r}")
    assert not offenders, "message regexes outside hadoctor/catalogue:\n" + "\n".join(offenders)


def test_the_grep_catches_a_copied_regex(tmp_path):
    """The vocabulary test would see a rule that spelled a catalogued message itself."""
    bad = tmp_path / "rule.py"
    bad.write_text('PATTERN = r"Late heartbeat: Node (?P<node>\\S+): interval (?P<ms>\\d+) ms"\n')
    texts = [t for _, t in _code_strings(bad) if _REGEX_SYNTAX.search(t)]
    assert texts and any(g in texts[0] for g in _gates())


@pytest.mark.parametrize("name,kwargs,text,groups", [
    ("hb.link_status", {"status": "dead"}, "Link node02:eth1 dead.", {"node": "node02", "iface": "eth1"}),
    ("hb.status_update", {"status": "up|active|init"}, "Status update for node node02: status active",
     {"node": "node02", "status": "active"}),
])
def test_pattern_narrows_a_group(name, kwargs, text, groups):
    m = re.search(catalogue.pattern(name, **kwargs), text)
    assert m and all(m.group(k) == v for k, v in groups.items())
    assert not re.search(catalogue.pattern(name, **kwargs), text.replace("dead.", "up.").replace("active", "dead"))


def test_an_alternation_keeps_the_first_group_of_a_name():
    rx = re.compile(catalogue.pattern("hb.shutdown_notice", "hb.peer_restart"))
    assert rx.search("Heartbeat restart on node node02") and rx.groupindex.keys() == {"node"}
