"""The rule engine: plugins from --rules-dir and entry points, log-rule frequency and age limits,
skips for missing data, crashing rules, and cross-node rules kept within one cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from hadoctor.engine import discovery, runner
from hadoctor.snapshot.loader import load_target
from tests.rules.scenario import healthy_cluster, write_cluster

LOG_RULE = '''
from datetime import timedelta
from hadoctor.rulekit import Doc, fail, log_rule, rule

@log_rule("ZZZ001", "three late heartbeats within a minute", severity="warning",
          patterns={"late": r"Late heartbeat: Node (?P<node>\\S+)"}, min_hits=3, within=timedelta(seconds=60),
          max_age=timedelta(hours=1),
          doc=Doc(meaning="test rule for the engine's limits", why="tests", fix="none needed here"))
def burst(node, hits):
    yield fail(f"{hits['late'].count} late", hits["late"].evidence(node))

@rule("ZZZ002", "a rule that crashes", severity="error", needs=("ha_cf",),
      doc=Doc(meaning="test rule that raises", why="tests", fix="none needed here"))
def crashes(node):
    raise RuntimeError("boom")
'''


def hadoctor(*args, env=None):
    # HADOCTOR_STRICT=1 (set by the rule tests) would make the crashing test rule raise
    base = {k: v for k, v in os.environ.items() if k != "HADOCTOR_STRICT"}
    return subprocess.run([sys.executable, "-m", "hadoctor", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=dict(base, NO_COLOR="1", **(env or {})))


def late(minute: int, second: int) -> str:
    return f"Nov 25 07:{minute:02d}:{second:02d} node01 heartbeat: [2129]: WARN: Late heartbeat: Node node02: interval 4000 ms\n"


def run_json(tmp_path, log: str, *extra):
    rules = tmp_path / "myrules"
    rules.mkdir(exist_ok=True)
    (rules / "burst.py").write_text(LOG_RULE)
    write_cluster(tmp_path / "c", healthy_cluster({"node01": {"heartbeat.log": log}}))
    proc = hadoctor("check", tmp_path / "c", "--rules-dir", rules, "--select", "ZZZ", "--format", "json", *extra)
    return proc, json.loads(proc.stdout)


def status(doc, code, node="node01"):
    return [f["status"] for f in doc["findings"] if f["code"] == code and f["node"] == node]


def test_min_hits_within_window(tmp_path):
    spread = late(0, 0) + late(2, 0) + late(4, 0) + late(50, 0)  # never 3 within 60 s
    _, doc = run_json(tmp_path, spread)
    assert status(doc, "ZZZ001") == ["pass"]
    burst = late(50, 0) + late(50, 20) + late(50, 40)
    _, doc = run_json(tmp_path, burst)
    assert status(doc, "ZZZ001") == ["fail"]


def test_max_age_ignores_old_hits(tmp_path):
    old_burst = late(0, 0) + late(0, 10) + late(0, 20)
    quiet_end = "Nov 25 09:30:00 node01 heartbeat: [2129]: info: Link node02:eth1 up.\n"
    _, doc = run_json(tmp_path, old_burst + quiet_end)  # the burst is 90 minutes before the log's end
    assert status(doc, "ZZZ001") == ["pass"]
    _, doc = run_json(tmp_path, old_burst)
    assert status(doc, "ZZZ001") == ["fail"]


def test_crashing_rule_is_reported_not_fatal(tmp_path):
    proc, doc = run_json(tmp_path, "")
    assert proc.returncode in (0, 1, 3)
    crashed = [f for f in doc["findings"] if f["code"] == "ZZZ002"]
    assert crashed and all(f["status"] == "skip" and "crashed" in f["message"] for f in crashed)


def _crashing_rule_and_cluster(tmp_path):
    (tmp_path / "myrules").mkdir()
    (tmp_path / "myrules" / "burst.py").write_text(LOG_RULE)
    rules = [r for r in discovery.load_dir(tmp_path / "myrules", "enginetest") if r.code == "ZZZ002"]
    write_cluster(tmp_path / "c", healthy_cluster())
    return rules, load_target(str(tmp_path / "c"))


def test_strictness_is_a_parameter_of_the_run(tmp_path):
    """strict=True: the rule's exception comes out of run(); strict=False: it becomes a skip per node
    that names the exception and asks for a report, and the other rules go on."""
    rules, cluster = _crashing_rule_and_cluster(tmp_path)
    with pytest.raises(RuntimeError, match="boom"):
        runner.run(cluster, rules, strict=True)
    report = runner.run(cluster, rules + discovery.select_rules(discovery.all_rules(), ["CFG101"], []), strict=False)
    crashed = [(f.node, f.status, f.message) for f in report.findings if f.code == "ZZZ002"]
    assert sorted(crashed) == [(n, "skip", "the rule crashed (RuntimeError: boom); please report it")
                               for n in ("node01", "node02")]
    assert {f.status for f in report.findings if f.code == "CFG101"} == {"pass"}


def test_the_suite_runs_strict_and_reads_the_variable_per_run(tmp_path, monkeypatch):
    """The test suite sets HADOCTOR_STRICT=1 for every test (tests/conftest.py), after the runner was
    imported: a rule crashing inside any test's run() fails that test. Unset, the same run reports it."""
    rules, cluster = _crashing_rule_and_cluster(tmp_path)
    assert os.environ.get("HADOCTOR_STRICT") == "1"
    with pytest.raises(RuntimeError, match="boom"):
        runner.run(cluster, rules)
    monkeypatch.delenv("HADOCTOR_STRICT")
    assert [f.status for f in runner.run(cluster, rules).findings] == ["skip", "skip"]


def test_strict_cli_fails_on_a_crashing_rule(tmp_path):
    """Through the command line (how the CLI tests run it): strict, the crash is not a quiet skip."""
    rules = tmp_path / "myrules"
    rules.mkdir()
    (rules / "burst.py").write_text(LOG_RULE)
    write_cluster(tmp_path / "c", healthy_cluster())
    proc = hadoctor("check", tmp_path / "c", "--rules-dir", rules, "--select", "ZZZ002", "--format", "json",
                    env={"HADOCTOR_STRICT": "1"})
    # the exception escapes (a traceback, exit 1 from Python) and no report is written
    assert proc.returncode != 0 and proc.stdout == "", (proc.returncode, proc.stdout[:300])
    assert proc.stderr.rstrip().endswith("RuntimeError: boom"), proc.stderr[-500:]
    quiet = hadoctor("check", tmp_path / "c", "--rules-dir", rules, "--select", "ZZZ002", "--format", "json")
    assert [f["status"] for f in json.loads(quiet.stdout)["findings"]] == ["skip", "skip"]


def test_missing_data_skips_with_reason(tmp_path):
    write_cluster(tmp_path, healthy_cluster({"node02": {"authkeys": None, "authkeys.stat": None}}))
    doc = json.loads(hadoctor("check", tmp_path, "--select", "SEC001,XND004", "--format", "json").stdout)
    skips = {(f["code"], f["node"]): f["message"] for f in doc["findings"] if f["status"] == "skip"}
    assert "authkeys" in skips[("SEC001", "node02")] and "not present" in skips[("SEC001", "node02")]
    assert "needs two nodes with authkeys" in skips[("XND004", None)]


def test_entry_point_plugin(tmp_path):
    """A rule package found through the hadoctor.rules entry-point group of an installed distribution."""
    site = tmp_path / "site"
    (site / "myplugin").mkdir(parents=True)
    (site / "myplugin" / "__init__.py").write_text(LOG_RULE.replace("ZZZ", "YYY"))
    dist = site / "myplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[hadoctor.rules]\nmine = myplugin\n")
    proc = hadoctor("rules", "--format", "json", env={"PYTHONPATH": str(site)})
    codes = [r["code"] for r in json.loads(proc.stdout)["rules"]]
    assert "YYY001" in codes and "CFG101" in codes


def test_broken_rules_dir_is_a_usage_error(tmp_path):
    (tmp_path / "bad.py").write_text("this is not python\n")
    proc = hadoctor("rules", "--rules-dir", tmp_path)
    assert proc.returncode == 2 and "bad.py" in proc.stderr and "Traceback" not in proc.stderr
    dup = tmp_path / "dup"
    dup.mkdir()
    (dup / "again.py").write_text(textwrap.dedent('''
        from hadoctor.rulekit import Doc, rule
        @rule("CFG101", "again", severity="error", needs=(), doc=Doc(meaning="m" * 50, why="w" * 30, fix="f" * 30))
        def again(node):
            return ()
    '''))
    proc = hadoctor("rules", "--rules-dir", dup)
    assert proc.returncode == 2 and "defined twice" in proc.stderr
