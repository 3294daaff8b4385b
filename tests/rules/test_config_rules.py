"""Scenario tests for the file and timing rules (rules/config_files.py CFG001-CFG004 and
rules/config_timing.py CFG101-CFG106): each fires on the right node with the file:line that is wrong,
and stays quiet on a file that is close but fine.

Heartbeat's own limits are in docs/heartbeat/ha-cf.md#time-values and
docs/heartbeat/ha-cf.md#startup-validation (time syntax, ``deadtime > 2 x keepalive``,
``initdead >= deadtime``, the initdead default, the 10 s warning);
the corpus files are tests/fixtures/corpus/ha.cf/* (EXPECTED.md §7 says which timing defect each shows).
"""

from __future__ import annotations

import os
from typing import List, Optional

import pytest

from tests.conftest import corpus_root
from tests.rules.scenario import ADDR, BASE_HACF, assert_scenario, healthy_cluster, scenario_book

HACF = BASE_HACF.format(peer1=ADDR["node02"][1])  # node01's healthy ha.cf
# line numbers in HACF: 1 logfile, 2 keepalive, 3 deadtime, 4 warntime, 5 initdead, 6 udpport, 7 bcast,
# 8 ucast, 9 auto_failback, 10-11 node; an appended line is line 12


def hacf(**values: Optional[str]) -> str:
    """node01's healthy ha.cf with timing values replaced in place (None drops the line)."""
    text = HACF
    for name, value in values.items():
        old = next(line for line in text.splitlines() if line.startswith(name + " "))
        text = text.replace(old + "\n", "" if value is None else f"{name} {value}\n")
    return text


def node01(**files) -> dict:
    return healthy_cluster({"node01": files})


def shown(report, code: str, node: Optional[str] = "node01") -> list:
    return [f for f in report.findings if f.code == code and f.node == node and f.status in ("fail", "info")]


def one(report, code: str, node: Optional[str] = "node01"):
    found = shown(report, code, node)
    assert len(found) == 1, f"{code} on {node}: {[(f.status, f.message) for f in found]}"
    return found[0]


def where(finding) -> List[tuple]:
    """(file basename, line, text) of each evidence."""
    return [(os.path.basename(e.file or ""), e.line, e.text) for e in finding.evidence]


SCENARIOS, scenario = scenario_book()  # each scenario's function makes the direct checks on the report


# ===================================================================================================
# config_files: CFG001-CFG004
# ===================================================================================================

@scenario("CFG001 a misspelt directive ('Illegal directive [%s] in %s')",
          # docs/heartbeat/ha-cf.md#parsing-rules
          node01(**{"ha.cf": HACF + "udpprot 695\n"}),
          fires={"CFG001": ["node01"]}, quiet=["CFG002", "CFG106"])
def _cfg001_typo(report):
    f = one(report, "CFG001")
    assert (f.severity, f.when) == ("error", "now")
    assert "Illegal directive [udpprot]" in f.message and "did you mean udpport?" in f.message
    assert where(f) == [("ha.cf", 12, "udpprot 695")]
    assert not shown(report, "CFG001", "node02")


@scenario("CFG001 '//' is not a comment for heartbeat (corpus ha.cf/015)",
          node01(**{"ha.cf": HACF.replace("bcast eth0\n", "// heartbeat path 1\nbcast eth0\n")}),
          fires={"CFG001": ["node01"]})
def _cfg001_slashes(report):
    f = one(report, "CFG001")
    assert "Illegal directive [//]" in f.message
    assert where(f) == [("ha.cf", 7, "// heartbeat path 1")]


@scenario("CFG001 quiet: the same typo commented out, a trailing '#' comment, and a bad time value (CFG106's)",
          node01(**{"ha.cf": hacf(deadtime="30s").replace("bcast eth0", "bcast eth0   # path 1")
                    + "# udpprot 695\n"}),
          fires={"CFG106": ["node01"]}, quiet=["CFG001", "CFG002"])
def _cfg001_quiet(report):
    pass


@scenario("CFG002 obsolete 'udp' and 'nice_failback': read, but not as written",
          # docs/heartbeat/ha-cf.md#directives
          node01(**{"ha.cf": HACF.replace("auto_failback on\n", "nice_failback on\n") + "udp eth0\n"}),
          fires={"CFG002": ["node01"]}, quiet=["CFG001"])
def _cfg002(report):
    f = one(report, "CFG002")
    assert (f.severity, f.when) == ("warning", "now")
    assert f.message.startswith("2 line(s): ")
    assert "nice_failback flag is obsolete" in f.message and "directive 'udp' replaced by 'bcast'" in f.message
    assert [(w[0], w[1]) for w in where(f)] == [("ha.cf", 9), ("ha.cf", 12)]


@scenario("CFG002 quiet: the healthy file", healthy_cluster(), quiet=["CFG001", "CFG002", "CFG003", "CFG004"])
def _cfg002_quiet(report):
    for code in ("CFG001", "CFG002", "CFG003", "CFG004"):
        assert [f.status for f in report.findings if f.code == code] == ["pass", "pass"]


@scenario("CFG003 an IPaddr with an invalid address (findif would fail at start)",
          node01(haresources="node01 IPaddr::10.250.0.400/24/eth0\n"),
          fires={"CFG003": ["node01"]}, quiet=["CFG004"])
def _cfg003(report):
    f = one(report, "CFG003")
    assert (f.severity, f.when) == ("error", "now")
    assert "IP address [10.250.0.400] not valid." in f.message
    assert where(f) == [("haresources", 1, "node01 IPaddr::10.250.0.400/24/eth0")]


@scenario("CFG003 quiet, CFG004 fires: an empty field the wrapper squeezes (corpus haresources/022 shape)",
          node01(haresources="node01 IPaddr::10.250.0.4//24/eth0\n"),
          fires={"CFG004": ["node01"]}, quiet=["CFG003"])
def _cfg003_quiet(report):
    f = one(report, "CFG004")
    assert f.severity == "warning" and "empty field" in f.message
    assert where(f)[0][:2] == ("haresources", 1)


@scenario("CFG004 an inline comment: ResourceManager and heartbeat read the line differently",
          # docs/heartbeat/haresources.md#comments-two-readers-disagree
          node01(haresources="node01 IPaddr::10.250.0.4/24/eth0 # the VIP\n"),
          fires={"CFG004": ["node01"]}, quiet=["CFG003"])
def _cfg004(report):
    f = one(report, "CFG004")
    assert (f.severity, f.when) == ("warning", "now")
    assert "inline comment" in f.message
    assert where(f) == [("haresources", 1, "node01 IPaddr::10.250.0.4/24/eth0 # the VIP")]


@scenario("CFG004 quiet: the comment on a line of its own",
          healthy_cluster({n: {"haresources": "# the VIP\nnode01 IPaddr::10.250.0.4/24/eth0\n"}
                           for n in ("node01", "node02")}),
          quiet=["CFG003", "CFG004"])
def _cfg004_quiet(report):
    pass


# ===================================================================================================
# config_timing: CFG101-CFG106
# ===================================================================================================

@scenario("CFG101 deadtime 2 with keepalive 1 (heartbeat: 'Dead time [2000] is too small ...')",
          node01(**{"ha.cf": hacf(deadtime="2", warntime="1.5")}),
          fires={"CFG101": ["node01"]}, quiet=["CFG105", "CFG102", "CFG104"])
def _cfg101(report):
    f = one(report, "CFG101")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "deadtime 2 s is not more than 2 x keepalive 1 s: heartbeat refuses to start"
    assert where(f) == [("ha.cf", 3, "deadtime 2"), ("ha.cf", 2, "keepalive 1")]
    assert (f.evidence[0].observed, f.evidence[0].expected) == ("2 s", "> 2 s")


@scenario("CFG101 with milliseconds: keepalive 500ms, deadtime 1",
          node01(**{"ha.cf": hacf(keepalive="500ms", deadtime="1", warntime="750ms")}),
          fires={"CFG101": ["node01"]})
def _cfg101_ms(report):
    assert "deadtime 1 s is not more than 2 x keepalive 500 ms" in one(report, "CFG101").message


@scenario("CFG101 quiet, CFG105 fires: deadtime 2.5 is just above 2 x keepalive",
          node01(**{"ha.cf": hacf(deadtime="2.5", warntime="2")}),
          fires={"CFG105": ["node01"]}, quiet=["CFG101"])
def _cfg101_quiet(report):
    f = one(report, "CFG105")
    assert f.message.startswith("deadtime 2.5 s with keepalive 1 s: only 2.5 keepalives")


@scenario("CFG102 initdead below deadtime ('Initial dead time [..] is smaller than deadtime'); CFG103 defers",
          node01(**{"ha.cf": hacf(initdead="5")}),
          fires={"CFG102": ["node01"]}, quiet=["CFG103"])
def _cfg102(report):
    f = one(report, "CFG102")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "initdead 5 s < deadtime 10 s: heartbeat refuses to start"
    assert where(f) == [("ha.cf", 5, "initdead 5"), ("ha.cf", 3, "deadtime 10")]


@scenario("CFG102 quiet, CFG103 fires: initdead == deadtime is accepted but short (corpus ha.cf/041)",
          node01(**{"ha.cf": hacf(initdead="10")}),
          fires={"CFG103": ["node01"]}, quiet=["CFG102"])
def _cfg102_quiet(report):
    f = one(report, "CFG103")
    assert f.message == "initdead 10 s is under 2 x deadtime (20 s)"


@scenario("CFG103 initdead 15 with deadtime 10",
          node01(**{"ha.cf": hacf(initdead="15")}),
          fires={"CFG103": ["node01"]}, quiet=["CFG102"])
def _cfg103(report):
    f = one(report, "CFG103")
    assert (f.severity, f.when) == ("warning", "now")
    assert f.message == "initdead 15 s is under 2 x deadtime (20 s)"
    assert where(f) == [("ha.cf", 5, "initdead 15"), ("ha.cf", 3, "deadtime 10")]
    assert f.evidence[0].expected == ">= 20 s"


@scenario("CFG103 initdead 8 is under the 10 s heartbeat warns about",
          # docs/heartbeat/ha-cf.md#timing-checks
          node01(**{"ha.cf": hacf(keepalive="1", deadtime="3", warntime="2", initdead="8")}),
          fires={"CFG103": ["node01"]})
def _cfg103_10s(report):
    f = one(report, "CFG103")
    assert f.message == "initdead 8 s is under 10 s (heartbeat itself warns)"
    assert f.evidence[0].expected == ">= 10 s"


@scenario("CFG103 defaults: deadtime 30 and no initdead give initdead = deadtime",
          # docs/heartbeat/ha-cf.md#initdead-default
          node01(**{"ha.cf": hacf(deadtime="30", warntime="15", initdead=None)}),
          fires={"CFG103": ["node01"]})
def _cfg103_default(report):
    f = one(report, "CFG103")
    assert f.message == "initdead 30 s is under 2 x deadtime (60 s)"
    assert f.evidence[0].line is None and "initdead not set" in f.evidence[0].text


@scenario("CFG103 quiet: initdead 30 / deadtime 10 (the healthy cluster), and node02 at 2 x deadtime exactly",
          healthy_cluster({"node02": {"ha.cf": BASE_HACF.format(peer1=ADDR["node01"][1])
                                      .replace("initdead 30", "initdead 20")}}),
          quiet=["CFG102", "CFG103"])
def _cfg103_quiet(report):
    assert [f.status for f in report.findings if f.code == "CFG103"] == ["pass", "pass"]


@scenario("CFG103 quiet: deadtime 10 and no initdead: heartbeat defaults initdead to 2 x deadtime",
          node01(**{"ha.cf": hacf(initdead=None)}),
          quiet=["CFG102", "CFG103"])
def _cfg103_quiet_default(report):
    pass


@scenario("CFG104 warntime equal to deadtime (corpus ha.cf/028): the warning can never come first",
          node01(**{"ha.cf": hacf(warntime="10")}),
          fires={"CFG104": ["node01"]})
def _cfg104_dead(report):
    f = one(report, "CFG104")
    assert (f.severity, f.when) == ("warning", "now")
    assert f.message == "warntime 10 s is not below deadtime (keepalive 1 s, deadtime 10 s)"
    assert where(f) == [("ha.cf", 4, "warntime 10")]
    assert f.evidence[0].expected == "between 1 s and 10 s"


@scenario("CFG104 warntime equal to keepalive: every heartbeat would be late",
          node01(**{"ha.cf": hacf(warntime="1")}),
          fires={"CFG104": ["node01"]})
def _cfg104_keep(report):
    assert "not above keepalive" in one(report, "CFG104").message


@scenario("CFG104 quiet: warntime 5, and warntime unset (default deadtime/2)",
          healthy_cluster({"node02": {"ha.cf": BASE_HACF.format(peer1=ADDR["node01"][1]).replace("warntime 5\n", "")}}),
          quiet=["CFG104"])
def _cfg104_quiet(report):
    pass


@scenario("CFG105 deadtime 5 with keepalive 2: 2.5 keepalives of slack (corpus ha.cf/003, 004, 008, 019)",
          node01(**{"ha.cf": hacf(keepalive="2", deadtime="5", warntime="4")}),
          fires={"CFG105": ["node01"]}, quiet=["CFG101"])
def _cfg105(report):
    f = one(report, "CFG105")
    assert (f.severity, f.when) == ("warning", "now")
    assert f.message == "deadtime 5 s with keepalive 2 s: only 2.5 keepalives"
    assert where(f) == [("ha.cf", 3, "deadtime 5"), ("ha.cf", 2, "keepalive 2")]


@scenario("CFG105 sub-second timers (corpus ha.cf/024: keepalive 10ms, deadtime 200ms)",
          node01(**{"ha.cf": hacf(keepalive="10ms", deadtime="200ms", warntime="100ms", initdead="10")}),
          fires={"CFG105": ["node01"]}, quiet=["CFG101", "CFG106"])
def _cfg105_ms(report):
    assert one(report, "CFG105").message == "deadtime 200 ms with keepalive 10 ms: under 5 s"


@scenario("CFG105 quiet: deadtime 6 is exactly 3 keepalives of 2 s and not under 5 s; deadtime 2 is CFG101's",
          healthy_cluster({"node01": {"ha.cf": hacf(keepalive="2", deadtime="6", warntime="4", initdead="12")},
                           "node02": {"ha.cf": BASE_HACF.format(peer1=ADDR["node01"][1])
                                      .replace("deadtime 10", "deadtime 2").replace("warntime 5", "warntime 1.5")}}),
          fires={"CFG101": ["node02"]}, quiet=["CFG105"])
def _cfg105_quiet(report):
    pass


@scenario("CFG106 'deadtime 30s': heartbeat aborts without saying which line",
          # docs/heartbeat/ha-cf.md#time-values
          node01(**{"ha.cf": hacf(deadtime="30s")}),
          fires={"CFG106": ["node01"]}, quiet=["CFG001"])
def _cfg106(report):
    f = one(report, "CFG106")
    assert (f.severity, f.when) == ("error", "now")
    assert "deadtime: bad time [30s]" in f.message
    assert where(f) == [("ha.cf", 3, "deadtime 30s")]


@scenario("CFG106 '30 ms' as two tokens and '1m'",
          healthy_cluster({"node01": {"ha.cf": hacf(deadtime="30 ms")},
                           "node02": {"ha.cf": BASE_HACF.format(peer1=ADDR["node01"][1])
                                      .replace("initdead 30", "initdead 1m")}}),
          fires={"CFG106": ["node01", "node02"]})
def _cfg106_more(report):
    assert "write the unit without a space (30ms)" in one(report, "CFG106").message
    f = one(report, "CFG106", "node02")
    assert "initdead: bad time [1m]" in f.message and where(f)[0][:2] == ("ha.cf", 5)


@scenario("CFG106 quiet: 500000us, 5000ms and 10.0 are heartbeat's syntax",
          node01(**{"ha.cf": hacf(keepalive="500000us", warntime="5000ms", deadtime="10.0")}),
          quiet=["CFG106", "CFG001", "CFG101", "CFG104", "CFG105"])
def _cfg106_quiet(report):
    pass


SUPPRESSED_HACF = HACF + "# hadoctor: ignore=CFG201 reason='no such finding here'\n"  # line 12


@scenario("HDR001: a suppression that covers no finding",
          node01(**{"ha.cf": SUPPRESSED_HACF}), fires={"HDR001": ["node01"]}, quiet=["HDR002"])
def _hdr001(report):
    f = one(report, "HDR001")
    assert "ignore=CFG201 matched no finding" in f.message and where(f)[0][:2] == ("ha.cf", 12)


@scenario("HDR001/HDR002 quiet: a valid suppression that covers a finding",
          node01(**{"ha.cf": hacf(initdead="10") + "# hadoctor: ignore=CFG103 reason='short on purpose'\n"}),
          quiet=["HDR001", "HDR002", "CFG103"])
def _hdr_quiet(report):
    assert any(f.code == "CFG103" and f.suppressed for f in report.findings)


@scenario("HDR002: a suppression past its until= date, and one without a reason",
          node01(**{"ha.cf": HACF + "# hadoctor: ignore=CFG103 reason='old' until=2020-01-01\n"
                                    "# hadoctor: ignore=CFG101\n"}),
          fires={"HDR002": ["node01", "node01"]}, quiet=["HDR001"])
def _hdr002(report):
    messages = sorted(f.message for f in shown(report, "HDR002"))
    assert "expired on 2020-01-01" in messages[0] and "needs reason=" in messages[1], messages


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_config_scenario(tmp_path, sc):
    report = assert_scenario(tmp_path, sc)
    sc["check"](report)


CODES = ["CFG001", "CFG002", "CFG003", "CFG004", "CFG101", "CFG102", "CFG103", "CFG104", "CFG105", "CFG106"]


def test_every_config_file_and_timing_rule_has_a_firing_and_a_quiet_scenario():
    from hadoctor.engine import discovery

    def module(origin: str) -> str:  # 'rules.config_files' or '/.../rules/config_files.py'
        name = os.path.basename(origin)
        return (name[:-3] if name.endswith(".py") else name).rsplit(".", 1)[-1]

    mine = sorted(r.code for r in discovery.all_rules() if module(r.origin) in ("config_files", "config_timing"))
    assert mine == CODES, "a rule was added to config_files/config_timing: add scenarios for it"
    fires = {code for s in SCENARIOS for code in s["fires"]}
    quiet = {code for s in SCENARIOS for code in s["quiet"]}
    assert not set(CODES) - fires and not set(CODES) - quiet


# --- corpus ha.cf files (EXPECTED.md §7 and "Invalid lines") ----------------------------------------

CORPUS = [
    # file, code, expected text in the message, ha.cf line numbers the evidence must name
    ("005-asterisk-typo-undport-local10.cf", "CFG001", "Illegal directive [undport]", [4, 9]),
    ("015-zongyu-centos7-ucast-ens33-slashcomments.cf", "CFG001", "Illegal directive [//]", None),
    ("030-poolparty-2008-legacy-udp-directive.cf", "CFG002", "directive 'udp' replaced by 'bcast'", [17]),
    ("003-bwahn-vagrant-bcast-inline-comments.cf", "CFG105", "only 2.5 keepalives", None),
    ("024-ivpusic-ms-units-udpport-after-bcast.cf", "CFG105", "deadtime 200 ms with keepalive 10 ms", None),
    ("025-ljproyecto-udpport-last-initdead4.cf", "CFG103", "initdead 4 s is under 10 s", None),
    ("041-ubuntuforums-uksl-proxy-initdead-eq-deadtime.cf", "CFG103", "initdead 30 s is under 2 x deadtime", None),
    ("028-bluevitality-warntime-equals-deadtime.cf", "CFG104", "warntime 10 s is not below deadtime", [32]),
]


@pytest.mark.parametrize("name,code,text,lines", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_hacf(tmp_path, name, code, text, lines):
    path = corpus_root() / "ha.cf" / name
    assert path.is_file(), f"corpus file {path} not found"
    report = assert_scenario(tmp_path, {"name": name, "nodes": node01(**{"ha.cf": path.read_bytes()}),
                                        "select": ["CFG0", "CFG1"], "fires": {code: ["node01"]}})
    f = one(report, code)
    assert text in f.message, f.message
    if lines is not None:
        assert [e.line for e in f.evidence] == lines


def test_corpus_hacf_initdead_twice_deadtime_is_quiet(tmp_path):
    """ha.cf/023: initdead 20 = 2 x deadtime exactly (EXPECTED.md lists it as fine)."""
    path = corpus_root() / "ha.cf" / "023-gslin-coscup-ucast-initdead20.cf"
    assert path.is_file(), f"corpus file {path} not found"
    assert_scenario(tmp_path, {"name": "023", "nodes": node01(**{"ha.cf": path.read_bytes()}),
                               "select": ["CFG1"], "quiet": ["CFG101", "CFG102", "CFG103", "CFG104", "CFG105"]})
