"""``check --format nagios`` against the Nagios plugin API and the Monitoring Plugins guidelines:
the first line ``HADOCTOR STATE - text | perfdata``, perfdata grammar, exit status, output length."""

from __future__ import annotations

import re
import shutil

import pytest

from hadoctor.rulemodel import Evidence, Finding
from hadoctor.report.nagios import MAX_OUTPUT, MAX_STATUS_TEXT, render_nagios
from hadoctor.report.result import ClusterResult
from tests.monitoring.helpers import EXAMPLES, fleet, hadoctor

# Monitoring Plugins guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]; label quoted when it holds
# spaces, never '=' or a single quote; UOM one of s ms us % B KB MB TB c; thresholds are ranges [@][start:][end]
_NUM = r"-?\d+(?:\.\d+)?"
_RANGE = rf"(?:@?(?:(?:{_NUM}|~)?:)?(?:{_NUM})?)"
PERF = re.compile(rf"(?:'[^'=]+'|[^'= ]+)={_NUM}(?:s|ms|us|%|B|KB|MB|TB|c)?"
                  rf"(?:;{_RANGE}(?:;{_RANGE}(?:;(?:{_NUM})?(?:;(?:{_NUM})?)?)?)?)?")
FIRST = re.compile(r"^HADOCTOR (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+) \| (.+)$")
EXIT = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def check_plugin_output(stdout: str, returncode: int) -> dict:
    """Everything the guidelines ask of one plugin run; returns the parsed perfdata."""
    assert stdout.endswith("\n") and len(stdout.encode()) <= MAX_OUTPUT
    first, *rest = stdout.rstrip("\n").split("\n")
    m = FIRST.match(first)
    assert m, first
    assert EXIT[m.group(1)] == returncode
    assert len(m.group(2)) <= len("HADOCTOR CRITICAL - ") + MAX_STATUS_TEXT
    perf = m.group(3).split(" ")
    for item in perf:
        assert PERF.fullmatch(item), item
    assert all("|" not in line for line in rest)  # a second '|' would start more perfdata
    assert all(not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line) for line in rest)
    return {p.split("=")[0]: p.split("=")[1].split(";") for p in perf}


def test_critical_names_the_errors():
    proc = hadoctor("check", EXAMPLES / "split-brain", "--format", "nagios")
    perf = check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 2 and proc.stderr == ""
    first = proc.stdout.splitlines()[0]
    assert first.startswith("HADOCTOR CRITICAL - 3 errors: ")
    assert "XND001 VIP 10.250.7.100 is up on node01, node02" in first
    assert perf["errors"] == ["3", "", "0", "0"] and perf["warnings"][0] == "3"
    assert perf["time"][0].endswith("s")
    assert "[ERROR] XND001" in proc.stdout and "fix: " in proc.stdout


def test_ok_on_a_healthy_cluster():
    proc = hadoctor("check", EXAMPLES / "healthy", "--format", "nagios")
    check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 0 and proc.stdout.startswith("HADOCTOR OK - no finding in ")


def test_warning_only_and_fail_on():
    proc = hadoctor("check", EXAMPLES / "split-brain", "--select", "LOG011", "--format", "nagios")
    check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 1 and proc.stdout.startswith("HADOCTOR WARNING - 2 warnings: LOG011 node01: ")
    proc = hadoctor("check", EXAMPLES / "split-brain", "--select", "LOG011", "--format", "nagios", "--fail-on", "error")
    perf = check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 0 and "2 below --fail-on error" in proc.stdout
    assert perf["warnings"] == ["2", "", "", "0"]  # no warning threshold when warnings do not alert


def test_unknown_when_core_data_is_missing(tmp_path):
    shutil.copytree(EXAMPLES / "healthy", tmp_path / "c")
    (tmp_path / "c" / "node02" / "heartbeat.log").unlink()
    proc = hadoctor("check", tmp_path / "c", "--format", "nagios")
    perf = check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 3 and "incomplete: node02 lacks log" in proc.stdout
    assert perf["incomplete_nodes"][0] == "1"


@pytest.mark.parametrize("args", [["/nonexistent/cluster"], ["--suppressions", "/nonexistent/file", "examples/healthy"]])
def test_unknown_on_input_error(args):
    proc = hadoctor("check", *args, "--format", "nagios")
    check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 3 and proc.stdout.startswith("HADOCTOR UNKNOWN - cannot check: ")
    assert "/nonexistent/" in proc.stdout.splitlines()[0]


def test_timeout_says_unknown_in_time(tmp_path):
    import time

    proc = hadoctor("check", EXAMPLES / "split-brain", "--format", "nagios", "--timeout", "0.001")
    check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 3 and "cannot check: no verdict within --timeout 0.001 s" in proc.stdout
    root = fleet(tmp_path)
    # 80 clusters take about 0.8 s on a fast machine (CI's checked 41 in 0.41 s): a 0.05 s deadline
    # must expire while the workers are busy, on any machine this suite runs on
    for i in range(80):
        shutil.copytree(EXAMPLES / "split-brain", root / f"more-{i:02}")
    t0 = time.monotonic()
    proc = hadoctor("check", root, "--format", "nagios", "--timeout", "0.05", "--jobs", "2")
    assert proc.returncode == 3 and "--timeout 0.05 s" in proc.stdout.splitlines()[0], proc.stdout[:300]
    assert time.monotonic() - t0 < 15  # the workers are terminated, not waited for
    assert hadoctor("check", EXAMPLES / "healthy", "--timeout", "5").returncode == 2


def test_fleet_output_stays_within_limits(tmp_path):
    root = fleet(tmp_path)
    for i in range(30):
        shutil.copytree(EXAMPLES / "split-brain", root / f"more-{i:02}")
    proc = hadoctor("check", root, "--format", "nagios")
    perf = check_plugin_output(proc.stdout, proc.returncode)
    assert proc.returncode == 2
    assert perf["clusters"][0] == "34" and perf["clusters_unchecked"][0] == "1"
    assert "more line(s): run hadoctor check for everything" in proc.stdout
    assert proc.stdout.splitlines()[0].startswith("HADOCTOR CRITICAL - 93 errors: more-00 NET003 node01: ")


def test_text_from_the_input_cannot_forge_output():
    f = Finding("XND001", "t", "error", "fail", "VIP up | errors=0\nHADOCTOR OK - fine\x1b[2J", "node|1",
                [Evidence(node="n", text="line\rwith | bar")], fix="do | this")
    text, state = render_nagios([ClusterResult("c\n1", "c", findings=[f], nodes=["n"])], "warning")
    assert state == 2
    lines = text.split("\n")
    assert lines[0].count("|") == 1 and "HADOCTOR OK" not in lines[0].split(" - ", 1)[0]
    assert all("|" not in line and "\x1b" not in line and "\r" not in line for line in lines[1:])
    assert not any(line.startswith("HADOCTOR") for line in lines[1:])
