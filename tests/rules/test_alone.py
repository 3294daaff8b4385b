"""Every rule gives the same verdict alone as in company (ruff tests each rule alone).

For every scenario (the rule scenario books, examples/, the lab captures in tests/fixtures/lab, the
corpus files dropped into a healthy cluster, and a cluster with suppressions) and every rule:

* ``check --select CODE`` gives exactly that rule's findings of the run with every rule;
* ``check --ignore X`` changes no other rule's findings (every X on the captured clusters, every
  family everywhere).

The engine runs in-process (no subprocess per run); each run loads only the data its rules need, as
``check`` does, so a datum a rule reads without naming it shows up here. A verdict is each finding's node, status, severity, time (now/past), message, suppression and
evidence locations.
"""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from hadoctor.engine import discovery
from hadoctor.engine.runner import Report, data_needed, run
from hadoctor.rulemodel import FAMILIES
from hadoctor.snapshot.loader import load_target
from hadoctor.datums import CORE_DATA
from tests.conftest import FIXTURES, REPO, corpus_files
from tests.rules.scenario import healthy_cluster, write_cluster

TODAY = date(2026, 6, 1)  # suppressions' until= dates are judged against a fixed day
BOOKS = ("tests.rules.test_log_rules", "tests.rules.test_config_rules", "tests.rules.test_node_rules",
         "tests.rules.test_mysql_rules")

SUPPRESSIONS = healthy_cluster({"node01": {"ha.cf": (
    "logfile /var/log/heartbeat.log\nkeepalive 1\ndeadtime 10\nwarntime 5\ninitdead 10\nudpport 694\n"
    "bcast eth0\nucast eth1 10.250.1.3\nauto_failback on\nnode node01\nnode node02\n"
    "# hadoctor: ignore=CFG103 reason='initdead short on purpose'\n"        # used
    "# hadoctor: ignore=CFG201,NET reason='nothing to hide'\n"              # unused: HDR001
    "# hadoctor: ignore=LOG011 reason='old' until=2020-01-01\n"              # expired: HDR002
    "# hadoctor: ignore=CFG101\n")}})                                        # no reason: HDR002


def _cases() -> List[Tuple[str, object]]:
    """(id, a folder path or a nodes dict to write)."""
    cases: List[Tuple[str, object]] = []
    for name in BOOKS:
        for sc in importlib.import_module(name).SCENARIOS:
            cases.append(("book:" + sc["name"], sc["nodes"]))
    for folder in sorted((REPO / "examples").iterdir()) + sorted((FIXTURES / "lab").iterdir()):
        if folder.is_dir():
            cases.append((f"{folder.parent.name}:{folder.name}", folder))
    for kind, file in (("logs", "heartbeat.log"), ("ha.cf", "ha.cf"), ("haresources", "haresources"),
                       ("authkeys", "authkeys")):
        for path in corpus_files(kind):
            cases.append((f"corpus:{kind}/{path.name}", healthy_cluster({"node01": {file: path.read_bytes()}})))
    cases.append(("suppressions", SUPPRESSIONS))
    return cases


CASES = _cases()
CAPTURED = [c for c in CASES if not c[0].startswith(("book:", "corpus:"))]


def _load(tmp_path: Path, where: object) -> str:
    if isinstance(where, Path):
        return str(where)
    # test_node_rules renames "services/x" keys to "services\0x" in place when it runs first
    nodes = {node: {k.replace("\0", "/"): v for k, v in files.items()} for node, files in where.items()}
    return str(write_cluster(tmp_path / "cluster", nodes))


def _verdicts(report: Report) -> Dict[str, list]:
    found: Dict[str, list] = {}
    for f in report.findings:
        found.setdefault(f.code, []).append((f.node or "", f.status, f.severity, f.when, f.message,
                                             f.suppressed or "", tuple((e.node, e.file, e.line) for e in f.evidence)))
    return {code: sorted(v, key=repr) for code, v in found.items()}


_FULL: Dict[str, object] = {}  # target -> its snapshot with every datum (loaded once: a capture decodes slowly)


DERIVATIONS = discovery.all_derivations()


def _run(target: str, rules, select, ignore=()) -> Dict[str, list]:
    chosen = discovery.select_rules(rules, select, list(ignore))
    only = data_needed(chosen, DERIVATIONS)  # what check loads for these rules
    if only is None:
        if target not in _FULL:
            _FULL.clear()
            _FULL[target] = load_target(target)
        cluster = _FULL[target]
    else:
        cluster = load_target(target, only=only | set(CORE_DATA))
    return _verdicts(run(cluster, chosen, today=TODAY, catalogue=rules, derivations=DERIVATIONS))


@pytest.fixture(scope="module")
def catalogue():
    return discovery.all_rules()


@pytest.mark.parametrize("name,where", CASES, ids=[c[0] for c in CASES])
def test_each_rule_alone_gives_its_verdict_in_company(tmp_path, catalogue, name, where):
    cluster = _load(tmp_path, where)
    codes = [r.code for r in catalogue]
    company = _run(cluster, catalogue, codes)  # every rule, opt-in ones included
    assert set(company) == set(codes), f"{name}: rules without a verdict: {sorted(set(codes) - set(company))}"
    for code in codes:
        alone = _run(cluster, catalogue, [code])
        assert alone == {code: company[code]}, f"{name}: {code} alone differs from {code} in company"


@pytest.mark.parametrize("name,where", CASES, ids=[c[0] for c in CASES])
def test_ignoring_a_family_changes_no_other_verdict(tmp_path, catalogue, name, where):
    cluster = _load(tmp_path, where)
    codes = [r.code for r in catalogue]
    company = _run(cluster, catalogue, codes)
    for family in FAMILIES:
        rest = _run(cluster, catalogue, codes, [family])
        assert rest == {c: v for c, v in company.items() if not c.startswith(family)}, f"{name}: --ignore {family}"


@pytest.mark.parametrize("name,where", CAPTURED, ids=[c[0] for c in CAPTURED])
def test_ignoring_any_rule_changes_no_other_verdict(tmp_path, catalogue, name, where):
    cluster = _load(tmp_path, where)
    codes = [r.code for r in catalogue]
    company = _run(cluster, catalogue, codes)
    for code in codes:
        rest = _run(cluster, catalogue, codes, [code])
        assert rest == {c: v for c, v in company.items() if c != code}, f"{name}: --ignore {code}"


def test_the_suppression_case_exercises_both_hdr_rules(tmp_path, catalogue):
    report = run(load_target(_load(tmp_path, SUPPRESSIONS)), catalogue, today=TODAY)
    fails = {(f.code, f.message.split(": ", 1)[1][:20]) for f in report.findings if f.code.startswith("HDR")}
    assert {c for c, _ in fails} == {"HDR001", "HDR002"}, fails
    assert any(f.code == "CFG103" and f.suppressed for f in report.findings)
