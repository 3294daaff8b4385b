"""Scenario tests for the log rules (rules/log_*.py): each rule fires on the right node, with the right
severity, ``when`` and message, and stays quiet on input that is close but not the failure.

Every scenario puts log lines into node01's (or node02's) ``heartbeat.log`` of a healthy two-node
cluster (``tests/rules/scenario.py``). The lines keep the exact shapes heartbeat writes; each
sample says where it comes from:

* "docs/heartbeat/<page>.md#<section>": the project's heartbeat reference (strings verified on heartbeat
  3.0.6);
* "lab <scenario>": a capture of the tests/lab scenario of that name (heartbeat 3.0.6 on Debian
  bookworm, resource-agents 4.12), lines copied verbatim except for times, pids and addresses;
* "corpus logs/NNN": tests/fixtures/corpus/logs (real logs written by other people).

``SCENARIOS`` is the list of scenario dicts (plus a ``check`` callable with the direct checks on
the report), so a catalogue test can see which rules have a firing and a quiet scenario.
"""

from __future__ import annotations

import os
from typing import List, Optional

import pytest

from tests.rules.scenario import assert_scenario, healthy_cluster, scenario_book

# --- log line builders ----------------------------------------------------------------------------

START = "info: Configuration validated. Starting heartbeat 3.0.6"  # docs/heartbeat/ha-cf.md#result-lines


def hb(time: str, text: str, node: str = "node01", pid: int = 2129) -> str:
    """heartbeat 3.0.x logfile layout (docs/heartbeat/logs.md#the-daemon-writing-a-file):
    ``Nov 25 07:34:40 nodea heartbeat: [2129]: WARN: ...``."""
    return f"Nov 25 {time} {node} heartbeat: [{pid}]: {text}"


def ra(time: str, tag: str, text: str) -> str:
    """resource-agents 4.x logfile layout (docs/heartbeat/logs.md#shell-scripts): two spaces, four
    after the colon:
    ``2026/11/25_07:36:14  ResourceManager(default)[6153]:    info: ...``."""
    return f"2026/11/25_{time}  {tag}:    {text}"


def ra39(time: str, tag: str, text: str) -> str:
    """resource-agents 3.9 logfile layout (docs/heartbeat/logs.md#shell-scripts, corpus logs/010):
    ``TAG:<TAB>YYYY/MM/DD_HH:MM:SS msg``."""
    return f"{tag}:\t2026/11/25_{time} {text}"


def log(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def logs(node01="", node02="", changes: Optional[dict] = None) -> dict:
    """A healthy cluster whose nodes' heartbeat.log hold the given text (str or bytes); ``changes``
    replaces other files ({"node01": {"ha.cf": None}})."""
    per_node = {"node01": {"heartbeat.log": node01}, "node02": {"heartbeat.log": node02}}
    for node, files in (changes or {}).items():
        per_node[node].update(files)
    return healthy_cluster(per_node)


# --- report helpers --------------------------------------------------------------------------------

def shown(report, code: str, node: Optional[str] = "node01") -> list:
    return [f for f in report.findings if f.code == code and f.node == node and f.status in ("fail", "info")]


def one(report, code: str, node: Optional[str] = "node01"):
    found = shown(report, code, node)
    assert len(found) == 1, f"{code} on {node}: {[(f.status, f.message) for f in found]}"
    return found[0]


def cites(finding, *texts: str) -> None:
    """The evidence quotes each text, and every log evidence points at heartbeat.log:line."""
    quoted = " | ".join(e.text for e in finding.evidence)
    for text in texts:
        assert text in quoted, f"{finding.code}: {text!r} not in evidence {quoted!r}"
    for e in finding.evidence:
        assert e.file and os.path.basename(e.file) == "heartbeat.log" and e.line, (e.file, e.line)


SCENARIOS, scenario = scenario_book()  # each scenario's function makes the direct checks on the report


# ===================================================================================================
# log_setup: LOG050-LOG052 (corpus logs/008, 011, 007, 026)
# ===================================================================================================

@scenario("LOG050 IPaddr cannot find ifconfig (corpus logs/008, 3.9 layout)",
          logs(log(hb("09:44:00", START),
                   "IPaddr(IPaddr_172.30.105.201)[56914]:\t2018/02/08_09:44:09 ERROR: Setup problem: couldn't find "
                   "command: ifconfig")),
          fires={"LOG050": ["node01"]})
def _log050(report):
    f = one(report, "LOG050")
    assert "ifconfig" in f.message and f.severity == "error"


@scenario("LOG050/LOG051/LOG052 quiet on a normal start", logs(log(hb("09:44:00", START))),
          quiet=["LOG050", "LOG051", "LOG052"])
def _log05x_quiet(report):
    assert not shown(report, "LOG050")


@scenario("LOG051 no haclient group (corpus logs/007)",
          logs(log(hb("02:59:36", "ERROR: Invalid group name [haclient]"), hb("02:59:36", "ERROR: Bad gid list [haclient]"))),
          fires={"LOG051": ["node01"]})
def _log051(report):
    assert "haclient" in one(report, "LOG051").message


@scenario("LOG052 garbled FIFO message (corpus logs/026)",
          logs(log(hb("15:56:15", "WARN: ha_msg_add_nv_depth: line doesn't contain '='"),
                   hb("15:56:15", "ERROR: NV failure (msgfromsteam): [>>>#012]"))),
          fires={"LOG052": ["node01"]})
def _log052(report):
    assert one(report, "LOG052").when == "past"


# ===================================================================================================
# log_resources: LOG001-LOG004
# ===================================================================================================

# lab findif (docs/heartbeat/logs.md#ipaddr-and-findif): IPaddr with a VIP in no configured subnet
FINDIF = [
    ra("07:36:14", "IPaddr(IPaddr_192.0.2.50)[9238]", "ERROR: /usr/libexec/heartbeat/findif failed [rc=1]."),
    ra("07:36:14", "/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_192.0.2.50)[9226]", "ERROR:  Generic error"),
    ra("07:36:14", "ResourceManager(default)[9150]", "ERROR: Return code 1 from /etc/ha.d//resource.d/IPaddr"),
    ra("07:36:14", "ResourceManager(default)[9150]", "CRIT: Giving up resources due to failure of 192.0.2.50"),
]


@scenario("LOG001 IPaddr findif failure; LOG002 leaves it to LOG001",
          logs(log(hb("07:36:10", START), *FINDIF)),
          fires={"LOG001": ["node01"]}, quiet=["LOG002", "LOG004"])
def _log001_findif(report):
    f = one(report, "LOG001")
    assert (f.severity, f.status, f.when) == ("error", "fail", "now")
    assert "findif failed 1 time(s)" in f.message and "gave up 192.0.2.50" in f.message
    cites(f, "/usr/libexec/heartbeat/findif failed [rc=1].", "Giving up resources due to failure of 192.0.2.50")
    assert [e.line for e in f.evidence] == [2, 5]  # heartbeat.log:2 and :5


@scenario("LOG001 IPaddr2 nic given but the route uses another nic",
          # corpus logs/025 (resource-agents #1726) message, in the 4.x logfile layout
          logs(log(hb("07:36:10", START),
                   ra("07:36:14", "IPaddr2(IPaddr2_10.250.0.4)[8758]",
                      "ERROR: Invalid parameter value: nic [eth0] Calculated nic: [enp0s3]"),
                   ra("07:36:14", "ResourceManager(default)[8700]",
                      "ERROR: Return code 2 from /etc/ha.d//resource.d/IPaddr2"),
                   ra("07:36:14", "ResourceManager(default)[8700]",
                      "CRIT: Giving up resources due to failure of IPaddr2::10.250.0.4/24/eth0"))),
          fires={"LOG001": ["node01"]}, quiet=["LOG002"])
def _log001_nic(report):
    f = one(report, "LOG001")
    assert "nic eth0 given, but the route to the VIP uses enp0s3" in f.message
    assert "IPaddr2::10.250.0.4/24/eth0" in f.message


@scenario("LOG001 findif failure before a restart that worked is history",
          logs(log(hb("07:36:10", START), *FINDIF,
                   hb("07:50:00", START, pid=3001),
                   ra("07:50:12", "IPaddr(IPaddr_10.250.0.4)[3100]",
                      "INFO: Using calculated netmask for 10.250.0.4: 255.255.255.0"))),
          fires={"LOG001": ["node01"]})
def _log001_history(report):
    f = one(report, "LOG001")
    assert f.when == "past" and f.severity == "warning"


@scenario("LOG001 quiet: IPaddr2 probe logs '[findif] failed' at INFO, the start succeeds",
          # docs/heartbeat/logs.md#ipaddr-and-findif: findif.sh failures are INFO in probes;
          # success lines from lab failover
          logs(log(hb("07:36:10", START),
                   ra("07:36:12", "IPaddr2(IPaddr2_10.250.0.4)[6191]", "INFO: [findif] failed"),
                   ra("07:36:14", "IPaddr(IPaddr_10.250.0.4)[230]",
                      "INFO: Using calculated netmask for 10.250.0.4: 255.255.255.0"),
                   ra("07:36:14", "/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.250.0.4)[206]",
                      "INFO:  Success"))),
          quiet=["LOG001", "LOG002"])
def _log001_quiet(report):
    assert not shown(report, "LOG001")


# corpus logs/010 (resource-agents 3.9 layout): an init script's start fails
MYSQLD = [
    ra39("07:41:27", "ResourceManager(default)[16525]", "info: Running /etc/init.d/mysqld  start"),
    ra39("07:41:28", "ResourceManager(default)[16525]", "ERROR: Return code 1 from /etc/init.d/mysqld"),
    ra39("07:41:28", "ResourceManager(default)[16525]", "CRIT: Giving up resources due to failure of mysqld"),
    ra39("07:41:28", "ResourceManager(default)[16525]",
         "info: Releasing resource group: node01 IPaddr::10.250.0.4/24/eth0 mysqld"),
]


@scenario("LOG002 a service's start fails and heartbeat gives the group up",
          logs(node02=log(hb("07:41:00", START, node="node02"), *MYSQLD)),
          fires={"LOG002": ["node02"]}, quiet=["LOG001", "LOG004"])
def _log002_fires(report):
    f = one(report, "LOG002", "node02")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message.startswith("start of mysqld failed")
    cites(f, "Return code 1 from /etc/init.d/mysqld", "Giving up resources due to failure of mysqld")
    assert not shown(report, "LOG002", "node01")


@scenario("LOG002 a failed start before the last restart is history",
          logs(log(hb("07:41:00", START), *MYSQLD, hb("08:00:00", START, pid=4000))),
          fires={"LOG002": ["node01"]})
def _log002_history(report):
    f = one(report, "LOG002")
    assert f.when == "past" and f.severity == "warning"


# lab missing-resource-script: the script does not exist (LOG004 names it; LOG002 stays quiet)
MISSING = [
    ra("07:24:41", "ResourceManager(default)[153]", "ERROR: Cannot locate resource script mysql"),
    ra("07:24:41", "ResourceManager(default)[153]", "ERROR: Cannot locate resource script mysql"),
    ra("07:24:41", "ResourceManager(default)[153]", "CRIT: Giving up resources due to failure of mysql"),
    ra("07:24:43", "ResourceManager(default)[153]", "info: Retrying failed stop operation [mysql]"),
    hb("07:24:44", "WARN: Machine reboot narrowly avoided!"),
]


@scenario("LOG004 a haresources script is missing; LOG002 leaves it to LOG004, LOG030 quiet",
          logs(log(hb("07:24:29", START), *MISSING)),
          fires={"LOG004": ["node01"]}, quiet=["LOG002", "LOG030"])
def _log004_fires(report):
    f = one(report, "LOG004")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "cannot locate resource script(s): mysql"
    cites(f, "Cannot locate resource script mysql")


@scenario("LOG004 a script missing before the last restart is history",
          logs(log(hb("07:24:29", START), *MISSING, hb("07:40:00", START, pid=5000))),
          fires={"LOG004": ["node01"]})
def _log004_history(report):
    assert one(report, "LOG004").when == "past"


@scenario("LOG004 quiet: the scripts run (lab failover)",
          logs(log(hb("07:24:29", START),
                   ra("07:24:45", "ResourceManager(default)[117]",
                      "info: Acquiring resource group: node01 IPaddr::10.250.0.4/24/eth0"),
                   ra("07:24:45", "ResourceManager(default)[117]",
                      "info: Running /etc/ha.d//resource.d/IPaddr 10.250.0.4/24/eth0 start"))),
          quiet=["LOG004", "LOG002", "LOG003"])
def _log004_quiet(report):
    pass


@scenario("LOG003 a resource was active before heartbeat started it",
          # docs/heartbeat/haresources.md#non-idle-resources-at-start: written to the console, no prefix
          logs(log("CRITICAL: Resource IPaddr::10.250.0.4/24/eth0 is active, and should not be!",
                   "CRITICAL: Non-idle resources can affect data integrity!",
                   hb("07:30:00", START))),
          fires={"LOG003": ["node01"]})
def _log003_fires(report):
    f = one(report, "LOG003")
    assert f.severity == "error"
    assert f.message == "already active when heartbeat started: IPaddr::10.250.0.4/24/eth0"
    cites(f, "Resource IPaddr::10.250.0.4/24/eth0 is active, and should not be!")


@scenario("LOG003 quiet: the status check finds the resource stopped (lab failover)",
          logs(log(hb("07:30:00", START),
                   ra("07:30:14", "/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.250.0.4)[144]",
                      "INFO:  Resource is stopped"),
                   ra("07:31:14", "/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.250.0.4)[431]",
                      "INFO:  Running OK"))),
          quiet=["LOG003"])
def _log003_quiet(report):
    pass


# ===================================================================================================
# log_cluster: LOG010-LOG013
# ===================================================================================================

def _up(node: str, peer: str, t: str = "07:24:29") -> List[str]:
    # lab failover: the peer is heard at start
    return [hb("07:24:28", START, node=node), hb(t, f"info: Link {peer}:eth0 up.", node=node),
            hb(t, f"info: Status update for node {peer}: status up", node=node),
            hb(t, f"info: Status update for node {peer}: status active", node=node)]


# lab frozen-node, on node02 (the survivor that saw node01 come back), then node02 restarts itself
RETURNING = [
    hb("07:24:53", "CRIT: Cluster node node01 returning after partition.", node="node02"),
    hb("07:24:53", "info: For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain",
       node="node02"),
    hb("07:24:53", "WARN: Deadtime value may be too small.", node="node02"),
    hb("07:24:53", "CRIT: Late heartbeat: Node node01: interval 10550 ms (> deadtime)", node="node02"),
    hb("07:24:53", "ERROR: Both machines own our resources!", node="node02"),
    hb("07:24:53", "ERROR: Both machines own foreign resources!", node="node02"),
]
RESTART_EXEC = [hb("07:24:57", "info: Heartbeat restart triggered.", node="node02"),
                hb("07:24:57", "info: Performing heartbeat restart exec.", node="node02"),
                hb("07:24:59", START, node="node02", pid=700)]


@scenario("LOG010 split brain seen now (both nodes own the resources, no restart yet)",
          # lab partition-one-way, node01: node02 stopped hearing node01 and took the VIP too
          logs(log(*_up("node01", "node02"),
                   hb("07:24:46", "ERROR: Both machines own our resources!"),
                   hb("07:24:46", "ERROR: Both machines own our resources!"))),
          fires={"LOG010": ["node01"]})
def _log010_now(report):
    f = one(report, "LOG010")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "'Both machines own ... resources' logged 2 time(s)"
    cites(f, "Both machines own our resources!")


@scenario("LOG010 after heartbeat's restart exec the split brain is history",
          logs(node02=log(*_up("node02", "node01"),
                          hb("07:24:48", "WARN: node node01: is dead", node="node02"),
                          *RETURNING, *RESTART_EXEC)),
          fires={"LOG010": ["node02"]})
def _log010_restarted(report):
    f = one(report, "LOG010", "node02")
    assert f.when == "past" and f.severity == "warning"
    assert "logged 2 time(s); node01 returned after a partition" in f.message
    cites(f, "Cluster node node01 returning after partition.", "Both machines own foreign resources!")


@scenario("LOG010 resolved when the peer shuts down (lab frozen-node, node01), and 'returning' alone",
          logs(log(*_up("node01", "node02"),
                   hb("07:24:53", "ERROR: Both machines own our resources!"),
                   hb("07:24:53", "ERROR: Both machines own foreign resources!"),
                   hb("07:24:56", "info: Received shutdown notice from 'node02'."),
                   hb("07:24:56", "info: Resources being acquired from node02.")),
               # lab split-brain-healed: heartbeat logged no 'Both machines own' line on this node
               log(*_up("node02", "node01"), RETURNING[0], *RESTART_EXEC)),
          fires={"LOG010": ["node01", "node02"]})
def _log010_resolved(report):
    f = one(report, "LOG010")
    assert f.when == "past" and f.severity == "warning"
    g = one(report, "LOG010", "node02")
    assert g.message == "node01 returned after a partition"  # no "logged 0 time(s)"


@scenario("LOG010 quiet: a normal failback (peer restarts, nobody owns both)",
          # lab failback on node02; 'No one owns' is a different state
          # (docs/heartbeat/logs.md#node-death-and-partition)
          logs(node02=log(*_up("node02", "node01"),
                          hb("07:30:00", "info: Heartbeat restart on node node01", node="node02"),
                          hb("07:30:01", "info: Status update for node node01: status active", node="node02"),
                          hb("07:30:02", "ERROR: No one owns foreign resources!", node="node02"))),
          quiet=["LOG010", "LOG011"])
def _log010_quiet(report):
    pass


# lab failover, node02: node01 lost power
FAILOVER = [
    hb("07:24:45", "WARN: node node01: is dead", node="node02"),
    hb("07:24:45", "WARN: No STONITH device configured.", node="node02"),
    hb("07:24:45", "WARN: Shared disks are not protected.", node="node02"),
    hb("07:24:45", "info: Resources being acquired from node01.", node="node02"),
    hb("07:24:45", "info: Link node01:eth0 dead.", node="node02"),
    ra("07:24:45", "mach_down(default)[92]", "info: Taking over resource group IPaddr::10.250.0.4/24/eth0"),
    ra("07:24:46", "mach_down(default)[92]", "info: mach_down takeover complete for node node01."),
    hb("07:24:46", "info: mach_down takeover complete.", node="node02"),
]


@scenario("LOG011 failover: the peer was heard, then declared dead",
          logs(node02=log(*_up("node02", "node01"), *FAILOVER)),
          fires={"LOG011": ["node02"]})
def _log011_failover(report):
    f = one(report, "LOG011", "node02")
    assert (f.status, f.severity, f.when) == ("fail", "warning", "past")
    assert f.message == "node01 declared dead 1 time(s); took over IPaddr::10.250.0.4/24/eth0"
    cites(f, "node node01: is dead")
    assert not shown(report, "LOG011", "node01")


@scenario("LOG011 peer declared dead at first start before it was ever heard: info only",
          # lab bad-authkeys-mode, node02 (node01 refused to start); corpus logs/016 is the same case
          logs(node02=log(hb("07:24:28", START, node="node02"),
                          hb("07:24:30", "info: Link node02:eth0 up.", node="node02"),
                          hb("07:24:38", "WARN: node node01: is dead", node="node02"),
                          hb("07:24:38", "info: Comm_now_up(): updating status to active", node="node02"),
                          hb("07:24:38", "info: Resources being acquired from node01.", node="node02"),
                          ra("07:24:38", "mach_down(default)[46]",
                             "info: Taking over resource group IPaddr::10.250.0.4/24/eth0"))),
          fires={"LOG011": ["node02"]})
def _log011_first_start(report):
    f = one(report, "LOG011", "node02")
    assert (f.status, f.severity, f.when) == ("info", "info", "past")
    assert "before it was ever heard" in f.message


@scenario("LOG011 an excerpt without status lines: 'Link peer:dev dead.' shows the peer had been heard",
          # corpus logs/015 (heartbeat 2.x, syslog layout): link death first, node death 20 s later
          logs(node02=log(hb("07:06:07", "info: Link node01:eth0 dead.", node="node02"),
                          hb("07:06:27", "WARN: node node01: is dead", node="node02"),
                          hb("07:06:27", "info: Dead node node01 gave up resources.", node="node02"))),
          fires={"LOG011": ["node02"]})
def _log011_link_dead(report):
    f = one(report, "LOG011", "node02")
    assert (f.status, f.severity) == ("fail", "warning")


@scenario("LOG011 a peer that announced its shutdown, then was declared dead (heartbeat 2.x): info",
          # corpus logs/018 (heartbeat 2.0.8, tag-date layout)
          logs(node02=log("heartbeat[29159]: 2026/11/25_07:03:05 info: Received shutdown notice from 'node01'.",
                          "heartbeat[29159]: 2026/11/25_07:03:05 info: Resources being acquired from node01.",
                          "heartbeat[29159]: 2026/11/25_07:03:17 WARN: node node01: is dead",
                          "heartbeat[29159]: 2026/11/25_07:03:17 info: Dead node node01 gave up resources.",
                          "heartbeat[29159]: 2026/11/25_07:03:17 info: Link node01:eth0 dead.")),
          fires={"LOG011": ["node02"]})
def _log011_shutdown(report):
    f = one(report, "LOG011", "node02")
    assert (f.status, f.severity) == ("info", "info") and "announced its shutdown" in f.message


@scenario("LOG011 quiet: graceful stop of the peer and one link dying while the other lives",
          # lab graceful-stop: 3.0.6 logs no 'is dead' after a shutdown notice
          logs(node02=log(*_up("node02", "node01"),
                          hb("07:30:00", "info: Link node01:eth1 dead.", node="node02"),
                          hb("07:31:00", "info: Received shutdown notice from 'node01'.", node="node02"),
                          hb("07:31:00", "info: Resources being acquired from node01.", node="node02"))),
          quiet=["LOG011", "LOG010", "LOG012"])
def _log011_quiet(report):
    pass


@scenario("LOG012 late heartbeats above warntime: the arithmetic names the numbers",
          # docs/heartbeat/logs.md#timing: 'WARN: Late heartbeat: Node nodeb: interval 6000 ms'
          logs(log(hb("07:30:00", START),
                   hb("07:34:40", "WARN: Late heartbeat: Node node02: interval 6000 ms"),
                   hb("07:34:50", "WARN: Late heartbeat: Node node02: interval 7500 ms"))),
          fires={"LOG012": ["node01"]})
def _log012_warn(report):
    f = one(report, "LOG012")
    assert (f.severity, f.when) == ("warning", "past")
    assert f.message == ("2 late heartbeat(s) from node02; longest interval 7.5 s vs warntime 5 s, deadtime 10 s "
                         "(keepalive 1 s): suggest warntime 8 s and deadtime >= 2 x 7.5 s = 15 s, initdead >= 30 s")
    cites(f, "interval 6000 ms", "interval 7500 ms")


@scenario("LOG012 a late heartbeat past deadtime (CRIT) is history, a warning at most",
          # lab frozen-node, docs/heartbeat/logs.md#timing:
          # 'CRIT: Late heartbeat: Node X: interval N ms (> deadtime)'
          logs(log(hb("07:30:00", START),
                   hb("07:31:15", "CRIT: Late heartbeat: Node node02: interval 15020 ms (> deadtime)"))),
          fires={"LOG012": ["node01"]})
def _log012_crit(report):
    f = one(report, "LOG012")
    assert (f.severity, f.when) == ("warning", "past")
    assert "longest interval 15.02 s" in f.message
    assert "deadtime >= 2 x 15.02 s = 31 s, initdead >= 62 s" in f.message  # rounded up to whole seconds


@scenario("LOG012 without ha.cf the finding still names the longest interval",
          logs(log(hb("07:34:40", "WARN: Late heartbeat: Node node02: interval 7500 ms")),
               changes={"node01": {"ha.cf": None}}),
          fires={"LOG012": ["node01"]})
def _log012_no_hacf(report):
    assert one(report, "LOG012").message == "1 late heartbeat(s) from node02; longest 7.5 s"


@scenario("LOG012 quiet: deadtime advice and a dispatch delay, but no late heartbeat",
          logs(log(hb("07:30:00", START),
                   hb("07:31:15", "WARN: Deadtime value may be too small."),
                   hb("07:31:15", "info: See FAQ for information on tuning deadtime."),
                   hb("07:31:15", "info: URL: http://linux-ha.org/wiki/FAQ#Heavy_Load"))),
          quiet=["LOG012"])
def _log012_quiet(report):
    pass


# docs/heartbeat/logs.md#timing: WARN above 375 unacknowledged messages, ERROR above 450
QUEUE = [hb("07:34:40", "WARN: Message hist queue is filling up (376 messages in queue)"),
         hb("07:34:41", "ERROR: Message hist queue is filling up (451 messages in queue)")]


@scenario("LOG013 the peer does not acknowledge our messages (one-way loss)",
          logs(log(hb("07:30:00", START), *QUEUE)),
          fires={"LOG013": ["node01"]})
def _log013_now(report):
    f = one(report, "LOG013")
    assert (f.severity, f.when) == ("warning", "now")
    assert "2 warnings, up to 451 unacknowledged messages" in f.message
    cites(f, "Message hist queue is filling up (376 messages in queue)")


@scenario("LOG013 a queue that filled before the last restart is history",
          logs(log(hb("07:30:00", START), *QUEUE, hb("07:40:00", START, pid=3000))),
          fires={"LOG013": ["node01"]})
def _log013_history(report):
    assert one(report, "LOG013").when == "past"


@scenario("LOG013 quiet: other history-queue bookkeeping lines",
          # corpus logs/033 lines that are not the warning
          logs(log(hb("07:30:00", START),
                   hb("07:35:33", "ERROR: lowseq cannnot be greater than ackseq"),
                   hb("07:35:33", "info: hist->ackseq =74575, old_ackseq=0"),
                   hb("07:35:33", "info: hist->lowseq =74576, hist->hiseq=74824, send_cluster_msg_level=1"))),
          quiet=["LOG013"])
def _log013_quiet(report):
    pass


# ===================================================================================================
# log_auth: LOG020-LOG021
# ===================================================================================================

def dump(t: str, src: str, node: str = "node01") -> List[str]:
    # lab foreign-cluster-same-key / authkeys-mismatch: heartbeat dumps the rejected message
    return [hb(t, "ERROR: MSG: Dumping message with 12 fields", node=node),
            hb(t, "ERROR: MSG[0] : [t=status]", node=node),
            hb(t, "ERROR: MSG[1] : [st=init]", node=node),
            hb(t, "ERROR: MSG[4] : [src=%s]" % src, node=node),
            hb(t, "ERROR: MSG[5] : [(1)srcuuid=0x561b5d3e2570(36 27)]", node=node),
            hb(t, "ERROR: MSG[6] : [seq=1]", node=node)]


def token_mismatch(t: str, src: str, node: str = "node01") -> bytes:
    """lab authkeys-mismatch / foreign-cluster (netstring, another key): the packet is dumped over
    continuation lines that carry raw binary bytes (the uuid), then the fields one per line."""
    head = log(hb(t, "ERROR: authtoken does not match, authtoken=dc83caac3fa096aa378bf05282cb24e7a1be62ef, "
                     "authstr=6af976357dfbd38b83429ffa5afcf3494ccd427e", node=node),
               hb(t, "ERROR: netstring authentication failed, s=###", node=node)).encode()
    packet = (b"11:(0)t=status,10:(0)st=init,13:(0)src=" + src.encode() +
              b",27:(1)srcuuid=q\x84\xc9+\x92\x94C=\x9f\x1d&\xcc\x8f\x938c,8:(0)seq=1,\n"
              b"42:1 dc83caac3fa096aa378bf05282cb24e7a1be62ef,, "
              b"autotoken=1 dc83caac3fa096aa378bf05282cb24e7a1be62ef,\n")
    return head + packet + log(*dump(t, src, node)).encode()


@scenario("LOG020 a foreign cluster with OUR key ('bad node'): names the node, asks to rotate authkeys",
          # corpus logs/028 / lab foreign-cluster-same-key
          logs(log(hb("07:24:28", START),
                   hb("07:24:29", "ERROR: process_status_message: bad node [web01] in message"),
                   *dump("07:24:29", "web01"),
                   hb("07:24:30", "ERROR: process_status_message: bad node [web02] in message"),
                   *dump("07:24:30", "web02"))),
          fires={"LOG020": ["node01"]}, quiet=["LOG021"])
def _log020_same_key(report):
    f = one(report, "LOG020")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message.startswith("packets from nodes outside this cluster: web01, web02")
    assert "they use OUR key" in f.message
    assert "udpport (e.g. 695" in f.fix and "rotate authkeys" in f.fix
    cites(f, "process_status_message: bad node [web01] in message")


@scenario("LOG020 a foreign cluster with another key (netstring: sender only in the dump)",
          logs(token_mismatch("07:24:29", "web01") + log(hb("07:24:40", "info: Link node02:eth0 up.")).encode()),
          fires={"LOG020": ["node01"]}, quiet=["LOG021"])
def _log020_other_key(report):
    f = one(report, "LOG020")
    assert f.message == "packets from nodes outside this cluster: web01"
    assert "rotate" not in f.fix
    cites(f, "authtoken does not match")


@scenario("LOG020 classic packets with an auth index we do not have",
          # docs/heartbeat/logs.md#rejected-packets
          logs(node02=log(hb("07:34:40", "WARN: Invalid authentication type [7] in message!", node="node02"),
                          hb("07:34:40", "WARN: string2msg_ll: node [nodec] failed authentication", node="node02"))),
          fires={"LOG020": ["node02"]}, quiet=["LOG021"])
def _log020_index(report):
    f = one(report, "LOG020", "node02")
    assert "nodec" in f.message and "auth index(es) 7 not in our authkeys" in f.message


@scenario("LOG020 quiet, LOG021 fires: the auth failures come from our own peer",
          # lab authkeys-mismatch (netstring, key differs) on node01; classic failure on node02
          # (docs/heartbeat/logs.md#rejected-packets)
          logs(token_mismatch("07:24:29", "node02") + token_mismatch("07:24:30", "node02"),
               log(hb("07:34:40", "WARN: string2msg_ll: node [NODE01] failed authentication", node="node02"))),
          fires={"LOG021": ["node01", "node02"]}, quiet=["LOG020"])
def _log021_peer(report):
    f = one(report, "LOG021")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "heartbeats from node02 fail authentication here"
    cites(f, "authtoken does not match")
    g = one(report, "LOG021", "node02")
    assert g.message == "heartbeats from node01 fail authentication here"  # names compared case-insensitively


@scenario("LOG021 key mismatch before the last restart is history; LOG021 quiet for a foreign cluster",
          logs(log(hb("07:24:20", START)).encode() + token_mismatch("07:24:29", "node02")
               + log(hb("07:40:00", START, pid=900)).encode(),
               token_mismatch("07:24:29", "web01", node="node02")),
          fires={"LOG021": ["node01"], "LOG020": ["node02"]})
def _log021_history(report):
    f = one(report, "LOG021")
    assert f.when == "past" and f.severity == "warning"
    assert not shown(report, "LOG021", "node02")


# ===================================================================================================
# log_health: LOG030-LOG035
# ===================================================================================================

@scenario("LOG030 emergency shutdown after a missing ucast device",
          # docs/heartbeat/media.md#ucast
          logs(log(hb("07:30:00", START),
                   hb("07:30:01", "ERROR: glib: ucast: error setting option SO_BINDTODEVICE(w) on eth9: "
                                  "No such device"),
                   hb("07:30:01", "ERROR: make_io_childpair: cannot open ucast eth9"),
                   hb("07:30:02", "CRIT: Emergency Shutdown: Master Control process died.", pid=2130),
                   hb("07:30:02", "CRIT: Killing pid 2129 with SIGTERM", pid=2130))),
          fires={"LOG030": ["node01"], "LOG035": ["node01"]})
def _log030_emergency(report):
    f = one(report, "LOG030")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "1 emergency shutdown line(s), 0 forced reboot line(s)"
    cites(f, "Emergency Shutdown: Master Control process died.")
    g = one(report, "LOG035")
    assert g.message == "interface(s) eth9 missing"  # not "eth9:"
    cites(g, "cannot open ucast eth9")


@scenario("LOG030 a stop failure demanding a reboot, then heartbeat started again: history",
          # docs/heartbeat/haresources.md#script-lookup-and-status:
          # 'CRIT: Resource STOP failure. Reboot required!' / 'CRIT: Killing heartbeat ungracefully!'
          logs(log(hb("07:30:00", START),
                   ra("07:35:00", "ResourceManager(default)[3000]", "CRIT: Resource STOP failure. Reboot required!"),
                   ra("07:35:00", "ResourceManager(default)[3000]", "CRIT: Killing heartbeat ungracefully!"),
                   hb("07:40:00", START, pid=100))),
          fires={"LOG030": ["node01"]})
def _log030_history(report):
    f = one(report, "LOG030")
    assert f.when == "past" and f.severity == "warning"
    assert "2 forced reboot line(s)" in f.message


@scenario("LOG030 quiet: an orderly shutdown, and a reboot narrowly avoided",
          # lab graceful-stop and missing-resource-script
          logs(log(hb("07:30:00", START),
                   hb("07:40:00", "info: Heartbeat shutdown in progress. (2129)"),
                   hb("07:40:00", "info: Giving up all HA resources.", pid=2300),
                   hb("07:40:02", "WARN: Machine reboot narrowly avoided!"),
                   hb("07:40:03", "info: node01 Heartbeat shutdown complete."))),
          quiet=["LOG030"])
def _log030_quiet(report):
    pass


@scenario("LOG031 ipfail keeps dying and respawns too fast",
          # docs/heartbeat/logs.md#respawned-clients
          logs(log(hb("07:30:00", START),
                   hb("07:30:01", 'info: Starting child client "/usr/lib/heartbeat/ipfail" (108,113)'),
                   hb("07:30:02", "ERROR: Client /usr/lib/heartbeat/ipfail exited with return code 1."),
                   hb("07:30:02", 'ERROR: Respawning client "/usr/lib/heartbeat/ipfail":'),
                   hb("07:31:00", 'ERROR: Client /usr/lib/heartbeat/ipfail "respawning too fast"'))),
          fires={"LOG031": ["node01"]})
def _log031_respawn(report):
    f = one(report, "LOG031")
    assert (f.severity, f.when) == ("warning", "past")
    assert f.message == "respawned client trouble: /usr/lib/heartbeat/ipfail"
    cites(f, '"respawning too fast"')


@scenario("LOG031 the respawn path does not exist (corpus logs/020: lib vs lib64), and an invalid user",
          logs("heartbeat: udpport setting must precede media statementsheartbeat[2299]: 2026/11/25_11:55:43 "
               "ERROR: Client child command [/usr/lib/heartbeat/ipfail] is not executable\n"
               "heartbeat[2299]: 2026/11/25_11:55:43 ERROR: Heartbeat not started: configuration error.\n"
               "heartbeat[2299]: 2026/11/25_11:55:43 ERROR: Configuration error, heartbeat not started.\n",
               # docs/heartbeat/ha-cf.md#directives (respawn): 'Invalid uid [%s] specified for client child'
               log(hb("07:34:40", "ERROR: Invalid uid [hacluser] specified for client child", node="node02"))),
          fires={"LOG031": ["node01", "node02"], "LOG040": ["node01"]})
def _log031_bad_cmd(report):
    assert "/usr/lib/heartbeat/ipfail" in one(report, "LOG031").message
    cites(one(report, "LOG031"), "Client child command [/usr/lib/heartbeat/ipfail] is not executable")
    assert "invalid user" in one(report, "LOG031", "node02").message
    refused = one(report, "LOG040")
    assert refused.message == ("heartbeat refused its configuration 1 time(s); the last attempt failed, so "
                               "heartbeat is not running on this node")
    assert (refused.status, refused.severity, refused.when) == ("fail", "error", "now")


@scenario("LOG031 quiet: ipfail starts normally (corpus logs/016)",
          logs(log(hb("07:30:00", START),
                   hb("07:30:41", 'info: Starting child client "/usr/lib/heartbeat/ipfail" (108,113)'),
                   hb("07:30:41", 'info: Starting "/usr/lib/heartbeat/ipfail" as uid 108  gid 113 (pid 32247)',
                      pid=32247))),
          quiet=["LOG031"])
def _log031_quiet(report):
    pass


@scenario("LOG032 'send local status' delayed by seconds (lab frozen-node; corpus logs/031)",
          logs(log(hb("07:30:00", START),
                   hb("07:34:53", "WARN: Gmain_timeout_dispatch: Dispatch function for send local status was delayed "
                                  "9480 ms (> 510 ms) before being called (GSource: 0x561217c2c240)"),
                   hb("07:34:53", "info: Gmain_timeout_dispatch: started at 1718026305 should have started at "
                                  "1718025357"),
                   hb("07:34:53", "WARN: Gmain_timeout_dispatch: Dispatch function for update msgfree count was "
                                  "delayed 9800 ms (> 5000 ms) before being called (GSource: 0x561217c2c570)"),
                   hb("07:34:54", "WARN: G_CH_dispatch_int: Dispatch function for read child took too long to "
                                  "execute: 140 ms (> 50 ms) (GSource: 0x9b98448)"))),
          fires={"LOG032": ["node01"]})
def _log032_fires(report):
    f = one(report, "LOG032")
    assert (f.severity, f.when) == ("warning", "past")
    assert f.message == "2 stall(s), worst 9800 ms (send local status, update msgfree count; warntime 5000 ms)"
    cites(f, "send local status was delayed 9480 ms")


@scenario("LOG032 quiet: the routine sub-second 'took too long to execute' lines of healthy nodes",
          # lab healthy/graceful-stop nodes; corpus logs/017 writes '&gt;' for '>'
          logs(log(hb("07:30:00", START),
                   hb("07:30:01", "WARN: G_CH_dispatch_int: Dispatch function for read child took too long to "
                                  "execute: 140 ms (> 50 ms) (GSource: 0x9b98448)"),
                   hb("07:30:02", "WARN: G_SIG_dispatch: Dispatch function for SIGCHLD took too long to execute: "
                                  "40 ms (> 30 ms) (GSource: 0x5598)"),
                   hb("07:30:03", "WARN: G_CH_dispatch_int: Dispatch function for read child took too long to "
                                  "execute: 240 ms (&gt; 50 ms) (GSource: 0x9b98448)"))),
          quiet=["LOG032"])
def _log032_quiet(report):
    pass


@scenario("LOG033 a few lost packets are info; a lot are a warning",
          # corpus logs/004 / lab: 'WARN: 1 lost packet(s) for [master1] [873:875]';
          # docs/heartbeat/logs.md#lost-packets-and-sequence-checks
          logs(log(hb("07:30:00", START),
                   hb("07:33:50", "WARN: 1 lost packet(s) for [node02] [873:875]"),
                   hb("07:33:50", "info: No pkts missing from node02!")),
               log(hb("07:30:00", START, node="node02"),
                   hb("07:33:50", "WARN: 150 lost packet(s) for [node01] [873:1024]", node="node02"),
                   hb("07:33:50", "ERROR: lost a lot of packets!", node="node02"))),
          fires={"LOG033": ["node01", "node02"]})
def _log033(report):
    f = one(report, "LOG033")
    assert (f.status, f.severity, f.when) == ("fail", "info", "past")
    assert f.message == "1 packet(s) lost in 1 gap(s) from node02"
    g = one(report, "LOG033", "node02")
    assert g.severity == "warning" and g.message.startswith("150 packet(s) lost")


@scenario("LOG033 quiet: 'No pkts missing' alone",
          logs(log(hb("07:30:00", START), hb("07:33:50", "info: No pkts missing from node02!"))),
          quiet=["LOG033"])
def _log033_quiet(report):
    pass


@scenario("LOG034 no realtime or memory lock",
          # docs/heartbeat/ha-cf.md#startup-noise
          logs(log(hb("07:29:59", "ERROR: Cannot lock ourselves into memory:  System limits on locked-in memory "
                                  "are too small."),
                   hb("07:30:00", START),
                   hb("07:30:00", "ERROR: Unable to set scheduler parameters.: Operation not permitted"))),
          fires={"LOG034": ["node01"]})
def _log034(report):
    f = one(report, "LOG034")
    assert (f.status, f.severity) == ("info", "info")
    cites(f, "Cannot lock ourselves into memory", "Unable to set scheduler parameters")


@scenario("LOG034 quiet: the other startup noise (lab healthy)",
          logs(log(hb("07:30:00", "WARN: Core dumps could be lost if multiple dumps occur."),
                   hb("07:30:00", "info: Request to set pid 14 to realtime ignored.", pid=14),
                   hb("07:30:00", START))),
          quiet=["LOG034"])
def _log034_quiet(report):
    pass


@scenario("LOG035 bcast on a device that does not exist; LOG045 quiet",
          # docs/heartbeat/media.md#bcast
          logs(log(hb("07:30:01", "ERROR: glib: Get broadcast for interface eth9 failed: No such device"),
                   hb("07:30:01", "ERROR: glib: IP interface [eth9] does not exist"),
                   hb("07:30:01", "ERROR: Illegal bcast [UDP/IP broadcast] in config file [eth9]"),
                   hb("07:30:01", "ERROR: Configuration error, heartbeat not started."))),
          fires={"LOG035": ["node01"], "LOG040": ["node01"]}, quiet=["LOG045"])
def _log035_bcast(report):
    f = one(report, "LOG035")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "interface(s) eth9 missing"
    cites(f, "IP interface [eth9] does not exist", "Illegal bcast [UDP/IP broadcast] in config file [eth9]")


@scenario("LOG035 no working comm channel, fixed by a restart: history",
          # docs/heartbeat/logs.md#communication-failures
          logs(log(hb("07:30:00", START),
                   hb("07:34:40", "ERROR: write_child: No working comm channels to write to."),
                   hb("07:34:40", "ERROR: Is a cable unplugged on eth1 10.250.1.3?"),
                   hb("07:34:41", "ERROR: ucast_write: Unable to send HBcomm packet eth1 10.250.1.3:694 len=212 [-1]: "
                                  "Operation not permitted"),
                   hb("07:50:00", START, pid=3000))),
          fires={"LOG035": ["node01"]})
def _log035_channels(report):
    f = one(report, "LOG035")
    assert f.message == "heartbeat media failed" and f.when == "past" and f.severity == "warning"


@scenario("LOG035 quiet: media started normally",
          # docs/heartbeat/media.md#media-log-lines
          logs(log(hb("07:30:00", START),
                   hb("07:30:00", "info: glib: UDP Broadcast heartbeat started on port 694 (694) interface eth0"),
                   hb("07:30:00", "info: glib: ucast: bound send socket to device: eth1"),
                   hb("07:30:00", "info: glib: ucast: started on port 694 interface eth1 to 10.250.1.3"))),
          quiet=["LOG035", "LOG030"])
def _log035_quiet(report):
    pass


# ===================================================================================================
# log_startup: LOG040-LOG045
# ===================================================================================================

PRELUDE = [hb("07:24:28", "info: Pacemaker support: no", pid=10),  # lab: every start begins so
           hb("07:24:28", "WARN: Core dumps could be lost if multiple dumps occur.", pid=10)]
REFUSED = hb("07:24:28", "ERROR: Configuration error, heartbeat not started.", pid=10)


@scenario("LOG040 refused once, then a start that worked: info, history",
          # lab timing-refused node02: a parse_config failure logs both lines for ONE refusal
          logs(log(*PRELUDE, hb("07:24:28", "ERROR: Heartbeat not started: configuration error.", pid=10), REFUSED,
                   hb("07:30:00", START, pid=40))),
          fires={"LOG040": ["node01"]})
def _log040_history(report):
    f = one(report, "LOG040")
    assert (f.status, f.severity, f.when) == ("info", "info", "past")
    assert f.message == "heartbeat refused its configuration 1 time(s); a later start succeeded"


@scenario("LOG040 quiet: a start with the usual warnings",
          logs(log(*PRELUDE,
                   hb("07:24:28", "WARN: Logging daemon is disabled --enabling logging daemon is recommended"),
                   hb("07:24:28", "info: **************************"), hb("07:24:28", START))),
          quiet=["LOG040", "LOG041", "LOG042", "LOG043", "LOG044", "LOG045"])
def _log040_quiet(report):
    pass


@scenario("LOG041 uname -n is the FQDN while ha.cf says the short name (lab node-name-mismatch)",
          logs(log(*PRELUDE,
                   hb("07:24:28", "ERROR: Current node [node01.lab.example] not in configuration!", pid=10),
                   hb("07:24:28", "info: By default, cluster nodes are named by `uname -n` and must be declared "
                                  "with a 'node' directive in the ha.cf file.", pid=10),
                   hb("07:24:28", "info: See also: http://linux-ha.org/wiki/Ha.cf#node_directive", pid=10),
                   REFUSED)),
          fires={"LOG041": ["node01"], "LOG040": ["node01"]}, quiet=["LOG042"])
def _log041(report):
    f = one(report, "LOG041")
    assert (f.severity, f.when) == ("error", "now")
    assert "current node [node01.lab.example] is not declared in ha.cf" in f.message
    cites(f, "Current node [node01.lab.example] not in configuration!")
    assert one(report, "LOG040").when == "now"


@scenario("LOG041 a name mismatch fixed since is history",
          logs(log(hb("07:24:28", "ERROR: Current node [node01.lab.example] not in configuration!", pid=10),
                   REFUSED, hb("07:30:00", START, pid=40))),
          fires={"LOG041": ["node01"]})
def _log041_history(report):
    f = one(report, "LOG041")
    assert f.when == "past" and f.severity == "warning"


@scenario("LOG041/LOG042 quiet: a node name in another message (a foreign node)",
          logs(log(hb("07:24:28", START),
                   hb("07:24:29", "ERROR: process_status_message: bad node [node03] in message"))),
          quiet=["LOG041", "LOG042"])
def _log041_quiet(report):
    pass


@scenario("LOG042 haresources names an unknown node AFTER 'Configuration validated' (lab)",
          # docs/heartbeat/ha-cf.md#validated-before-haresources
          logs(log(*PRELUDE, hb("07:24:29", "info: **************************", pid=10),
                   hb("07:24:29", START, pid=10),
                   hb("07:24:29", "ERROR: Bad nodename in /etc/ha.d//haresources [node03]", pid=10),
                   hb("07:24:29", "ERROR: Configuration error, heartbeat not started.", pid=10))),
          fires={"LOG042": ["node01"], "LOG040": ["node01"]})
def _log042(report):
    f = one(report, "LOG042")
    assert (f.severity, f.when) == ("error", "now")  # the start line before it does not make it history
    assert f.message == "heartbeat refused haresources: unknown node [node03]"
    cites(f, "Bad nodename in /etc/ha.d//haresources [node03]")


@scenario("LOG042 quiet: the groups are acquired",
          logs(log(hb("07:24:29", START),
                   ra("07:24:41", "ResourceManager(default)[117]",
                      "info: Acquiring resource group: node01 IPaddr::10.250.0.4/24/eth0"))),
          quiet=["LOG042"])
def _log042_quiet(report):
    pass


@scenario("LOG043 authkeys readable by others (lab bad-authkeys-mode) and no auth line (corpus logs/021)",
          logs(log(hb("07:24:28", "info: Pacemaker support: no", pid=10),
                   hb("07:24:28", "ERROR: Bad permissions on keyfile [/etc/ha.d//authkeys], 600 recommended.", pid=10),
                   hb("07:24:28", "ERROR: Authentication configuration error.", pid=10), REFUSED),
               "heartbeat: udpport setting must precede media statementsheartbeat[2464]: 2026/11/25_07:01:59 "
               "ERROR: Missing auth directive in keyfile [/etc/ha.d//authkeys]\n"
               "heartbeat[2464]: 2026/11/25_07:01:59 ERROR: Authentication configuration error.\n"
               "heartbeat[2464]: 2026/11/25_07:01:59 ERROR: Configuration error, heartbeat not started.\n"),
          fires={"LOG043": ["node01", "node02"], "LOG040": ["node01", "node02"]})
def _log043(report):
    f = one(report, "LOG043")
    assert (f.severity, f.when) == ("error", "now")
    cites(f, "Bad permissions on keyfile [/etc/ha.d//authkeys], 600 recommended.")
    cites(one(report, "LOG043", "node02"), "Missing auth directive in keyfile")


@scenario("LOG043 quiet: 'Invalid authentication type' is a packet from elsewhere, not our authkeys",
          logs(log(hb("07:24:28", START), hb("07:34:40", "WARN: Invalid authentication type [7] in message!"))),
          fires={"LOG020": ["node01"]}, quiet=["LOG043", "LOG040"])
def _log043_quiet(report):
    pass


@scenario("LOG044 deadtime not above 2 x keepalive (lab timing-refused) and initdead < deadtime",
          # docs/heartbeat/ha-cf.md#timing-checks
          logs(log(*PRELUDE, hb("07:24:28", "ERROR: Dead time [4000] is too small compared to keeplive [2000]", pid=10),
                   REFUSED),
               log(hb("07:24:28", "ERROR: Initial dead time [5000] is smaller than deadtime [10000]", node="node02"),
                   hb("07:24:28", "ERROR: Configuration error, heartbeat not started.", node="node02"))),
          fires={"LOG044": ["node01", "node02"]})
def _log044(report):
    f = one(report, "LOG044")
    assert (f.severity, f.when) == ("error", "now")
    cites(f, "Dead time [4000] is too small compared to keeplive [2000]")
    cites(one(report, "LOG044", "node02"), "Initial dead time [5000] is smaller than deadtime [10000]")


@scenario("LOG044 quiet: heartbeat only WARNs about a short initdead",
          # docs/heartbeat/ha-cf.md#timing-checks
          logs(log(hb("07:24:28", "WARN: Initial dead time [8000 ms] may be too small!"),
                   hb("07:24:28", "WARN: Initial dead time accounts for slow network startup time"),
                   hb("07:24:28", "WARN: It should be >= deadtime and >= 10 seconds"),
                   hb("07:24:28", START))),
          quiet=["LOG044", "LOG040"])
def _log044_quiet(report):
    pass


@scenario("LOG045 media plugins not found: glued stderr text (corpus logs/006, journal layout)",
          logs("Nov 25 03:15:40 node01 heartbeat[38533]: heartbeat: udpport setting must precede media "
               "statementsNov 25 03:15:40 node01 heartbeat: [38533]: ERROR: Illegal directive [ucast] in "
               "/usr/local/heartbeat/etc/ha.d/ha.cf\n"
               "Nov 25 03:15:40 node01 heartbeat[38533]: Nov 25 03:15:40 node01 heartbeat: [38533]: ERROR: Illegal "
               "directive [ping] in /usr/local/heartbeat/etc/ha.d/ha.cf\n"),
          fires={"LOG045": ["node01"]})
def _log045(report):
    f = one(report, "LOG045")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "illegal directive(s): ucast, ping"


@scenario("LOG045 a typo fixed since is history ('Illegal directive [foo] in ...')",
          # docs/heartbeat/ha-cf.md#parsing-rules
          logs(log(hb("07:24:28", "ERROR: Illegal directive [udpprot] in /etc/ha.d//ha.cf"), REFUSED,
                   hb("07:30:00", START, pid=40))),
          fires={"LOG045": ["node01"], "LOG040": ["node01"]})
def _log045_history(report):
    f = one(report, "LOG045")
    assert f.when == "past" and f.severity == "warning" and "udpprot" in f.message


# LOG045 quiet: see "LOG035 bcast on a device that does not exist" ('Illegal bcast [...]' is a media error)


# ===================================================================================================
# log_paths: LOG036 (a heartbeat path lost), LOG037 (a medium's socket refused)
# ===================================================================================================

def _links(t: str = "07:24:29") -> List[str]:
    """node01 hears node02 on both media (lab healthy: bcast eth0, ucast eth1)."""
    return [hb(t, "info: Link node01:eth0 up."), hb(t, "info: Link node02:eth0 up."),
            hb(t, "info: Link node02:eth1 up.")]


def _no_carrier(ip_a_text: str, iface: str) -> str:
    """`ip a` text with ``iface`` cabled off (what iproute2 shows: NO-CARRIER, state DOWN)."""
    out = []
    for line in ip_a_text.splitlines():
        if f": {iface}@" in line or f": {iface}:" in line:
            line = line.replace("<BROADCAST,MULTICAST,UP,LOWER_UP>", "<NO-CARRIER,BROADCAST,MULTICAST,UP>")
            line = line.replace("state UP", "state DOWN")
        out.append(line)
    return "\n".join(out) + "\n"


def _lost_path_nodes(ip_change: bool) -> dict:
    nodes = logs(log(hb("07:24:28", START), *_links(), hb("07:31:02", "info: Link node02:eth1 dead.")))
    if ip_change:
        nodes["node01"]["ip-a.txt"] = _no_carrier(nodes["node01"]["ip-a.txt"], "eth1")
    return nodes


@scenario("LOG036 lab lost-path: 'Link node02:eth1 dead.' and no 'up' after it; eth1 NO-CARRIER in ip a",
          _lost_path_nodes(ip_change=True), fires={"LOG036": ["node01"]}, quiet=["LOG011", "LOG090"])
def _log036_no_carrier(report):
    f = one(report, "LOG036")
    assert f.when == "now" and f.severity == "warning"
    assert "node02:eth1" in f.message and "node02:eth0" in f.message and "NO-CARRIER" in f.message, f.message
    assert "cable" in f.fix
    cites(f, "Link node02:eth1 dead.")


@scenario("LOG036 the path is dead but eth1 is up with carrier here: the fault is on the peer's side",
          _lost_path_nodes(ip_change=False), fires={"LOG036": ["node01"]})
def _log036_peer_side(report):
    f = one(report, "LOG036")
    assert "peer's side" in f.message, f.message


@scenario("LOG036 quiet: the path came back; the peer died on every path (LOG011 tells that)",
          logs(log(hb("07:24:28", START), *_links(), hb("07:31:02", "info: Link node02:eth1 dead."),
                   hb("07:31:40", "info: Link node02:eth1 up.")),
               log(hb("07:24:28", START, node="node02"), hb("07:24:29", "info: Link node01:eth0 up.", node="node02"),
                   hb("07:24:29", "info: Link node01:eth1 up.", node="node02"),
                   hb("07:31:02", "WARN: node node01: is dead", node="node02"),
                   hb("07:31:02", "info: Link node01:eth0 dead.", node="node02"),
                   hb("07:31:02", "info: Link node01:eth1 dead.", node="node02"))),
          fires={"LOG011": ["node02"]}, quiet=["LOG036"])
def _log036_quiet(report):
    assert not shown(report, "LOG036", "node01") and not shown(report, "LOG036", "node02")


@scenario("LOG037 ucast cannot bind its socket: the kernel's reason is quoted (facts §: ucast.c)",
          logs(log(hb("07:24:28", START),
                   hb("07:24:28", "CRIT: ucast: unable to bind socket. Giving up: Address already in use"))),
          fires={"LOG037": ["node01"]}, quiet=["LOG090"])
def _log037_bind(report):
    f = one(report, "LOG037")
    assert "'Address already in use'" in f.message and "ss -ulpn" in f.fix and f.when == "now"


@scenario("LOG037 SO_REUSEPORT on an old kernel (facts: 3.0.5/3.0.6 ucast)",
          logs(log(hb("07:24:28", START),
                   hb("07:24:28", "CRIT: ucast: error setting option SO_REUSEPORT(w): Protocol not available"))),
          fires={"LOG037": ["node01"]})
def _log037_reuseport(report):
    f = one(report, "LOG037")
    assert "Protocol not available" in f.message and "3.9" in f.fix


@scenario("LOG037 quiet: media opened", logs(log(hb("07:24:28", START), *_links())), quiet=["LOG037", "LOG036"])
def _log037_quiet(report):
    assert not shown(report, "LOG037")


# ===================================================================================================
# log_catchall: LOG090
# ===================================================================================================

@scenario("LOG090 an ERROR hadoctor does not know, and a known one without a rule, are quoted and counted",
          logs(log(hb("07:24:28", START),
                   hb("07:25:00", "ERROR: frobnicator 7 exploded"), hb("07:26:00", "ERROR: frobnicator 9 exploded"),
                   hb("07:27:00", "ERROR: FIFO /var/lib/heartbeat/fifo does not exist"),
                   ra("07:28:00", "ResourceManager(default)[148]", "CRIT: Unable to force reboot."))),
          fires={"LOG090": ["node01"] * 3})  # one finding per distinct message
def _log090_fires(report):
    found = shown(report, "LOG090")
    texts = " | ".join(f.message for f in found)
    unknown = [f for f in found if "unrecognised by hadoctor" in f.message]
    assert len(unknown) == 1 and "logged 2 times" in unknown[0].message and "07:25:00" in unknown[0].message \
        and "07:26:00" in unknown[0].message, texts
    assert "does not know this message" in unknown[0].fix and "catalogued" in unknown[0].fix, unknown[0].fix
    assert "(heartbeat's core, heartbeat.c)" in texts, texts
    assert "(heartbeat's resource manager, ResourceManager.in)" in texts, texts
    assert len(found) == 3 and all(f.when == "now" for f in found), texts


# one member of a few diagnosis families (hadoctor/catalogue/families.py), and a test program's line
FAMILY_LINES = [
    hb("07:24:28", START),
    hb("07:25:00", "CRIT: Can't join multicast group 239.0.0.43 on interface eth1"),  # HBcomm/mcast.c
    hb("07:25:01", "ERROR: api_process_request: msg from non-client"),  # hb_api.c
    "Nov 25 07:26:00 node01 stonith: [4410]: CRIT: external_run_cmd: 'ipmi status' failed with rc 1",
    "Nov 25 07:26:05 node01 lrmd: [2200]: ERROR: on_msg_perform_op: invalid stdout fd [3]",
    hb("07:27:00", "ERROR: echotest: data mismatch. iteration 3"),  # ipctest.c: no cluster runs it
]


def _log090_family_texts(report):
    found = {f.message.rpartition(" (")[2]: f for f in shown(report, "LOG090")}
    medium, ipc = "a heartbeat medium, mcast6.c/mcast.c)", "heartbeat's client IPC, hb_api.c)"
    stonith, lrmd = "a STONITH plugin, rhcs.c/external.c)", "lrmd, CRM mode only, lrmd.c)"
    assert sorted(found) == sorted([medium, ipc, stonith, lrmd]), sorted(found)
    f = found[medium]
    assert f.message == ("CRIT \"Can't join multicast group 239.0.0.43 on interface eth1\" logged once "
                         "2026-11-25 07:25:00 (a heartbeat medium, mcast6.c/mcast.c)"), f.message
    assert "ha.cf" in f.fix and "ss -ulpn" in f.fix and "no dedicated diagnosis" not in f.message
    assert f.severity == "warning" and f.when == "now"
    cites(f, "Can't join multicast group 239.0.0.43 on interface eth1")
    assert "respawn" in found[ipc].fix and "crashed" in found[ipc].fix
    assert "stonith -t" in found[stonith].fix and "credentials" in found[stonith].fix
    assert "haresources cluster never uses" in found[lrmd].fix
    assert not any("echotest" in g.message for g in report.findings)


@scenario("LOG090 with every rule: members of four diagnosis families are quoted with their family, "
          "a test program's line stays quiet",
          logs(log(*FAMILY_LINES)), fires={"LOG090": ["node01"] * 4})
def _log090_families(report):
    _log090_family_texts(report)


def test_log090_alone_names_each_family_and_carries_its_fix(tmp_path):
    from tests.rules.scenario import check

    report = check(tmp_path, logs(log(*FAMILY_LINES)), ["LOG090"])
    assert {f.code for f in report.findings if f.status != "pass"} <= {"LOG090"}
    _log090_family_texts(report)


@scenario("LOG090 quiet: benign warnings, errors a rule explains, another program's error in syslog",
          logs(log(hb("07:24:28", START),
                   hb("07:24:28", "WARN: Logging daemon is disabled --enabling logging daemon is recommended"),
                   hb("07:24:28", "WARN: Core dumps could be lost if multiple dumps occur."),
                   hb("07:24:29", "WARN: G_CH_dispatch_int: Dispatch function for read child took too long to "
                                  "execute: 70 ms (> 50 ms) (GSource: 0x55bf597987e0)"),
                   hb("07:31:02", "WARN: node node02: is dead"),
                   "Nov 25 07:31:03 node01 sshd[812]: error: kex_exchange_identification: Connection closed",
                   hb("07:31:04", "WARN: some warning hadoctor does not know"))),
          fires={"LOG011": ["node01"]}, quiet=["LOG090"])
def _log090_quiet(report):
    assert not shown(report, "LOG090")


# ===================================================================================================
# drbddisk (log_resources LOG005) and the respawned clients ipfail and dopd (log_clients LOG038, LOG039)
# ===================================================================================================

# drbddisk's start fails (DRBD refuses Primary: peer still Primary, or local disk not UpToDate); the lines
# are ResourceManager's (heartbeat/lib/ResourceManager.in doscript/acquireresourcegroup), resource-agents
# 3.9 layout as in corpus logs/009-011 where drbddisk::mysql0 is in the group
DRBD_START = [
    ra39("07:41:27", "ResourceManager(default)[16525]",
         "info: Acquiring resource group: node01 IPaddr::10.250.0.4/24/eth0 drbddisk::r0 Filesystem::/dev/drbd0::/data::ext4"),
    ra39("07:41:27", "ResourceManager(default)[16525]", "info: Running /etc/ha.d/resource.d/drbddisk r0 start"),
    ra39("07:41:33", "ResourceManager(default)[16525]", "ERROR: Return code 1 from /etc/ha.d/resource.d/drbddisk"),
    ra39("07:41:33", "ResourceManager(default)[16525]", "CRIT: Giving up resources due to failure of drbddisk::r0"),
    ra39("07:41:33", "ResourceManager(default)[16525]",
         "info: Releasing resource group: node01 IPaddr::10.250.0.4/24/eth0 drbddisk::r0 Filesystem::/dev/drbd0::/data::ext4"),
]


@scenario("LOG005 drbddisk cannot make r0 Primary; LOG002 leaves it to LOG005",
          logs(log(hb("07:41:00", START), *DRBD_START)),
          fires={"LOG005": ["node01"]}, quiet=["LOG002", "LOG001", "LOG004"])
def _log005_fires(report):
    f = one(report, "LOG005")
    assert (f.severity, f.when) == ("error", "now")
    assert f.message == "drbddisk r0: start (Primary) failed: heartbeat gave the group up (return code 1)"
    cites(f, "Return code 1 from /etc/ha.d/resource.d/drbddisk", "Giving up resources due to failure of drbddisk::r0")


@scenario("LOG005 drbddisk's stop keeps failing (the device is still in use)",
          logs(log(hb("07:41:00", START),
                   ra("07:50:01", "ResourceManager(default)[300]", "info: Running /etc/ha.d/resource.d/drbddisk r0 stop"),
                   ra("07:50:04", "ResourceManager(default)[300]", "ERROR: Return code 1 from /etc/ha.d/resource.d/drbddisk"),
                   ra("07:50:05", "ResourceManager(default)[300]", "info: Retrying failed stop operation [drbddisk::r0]"),
                   ra("07:50:09", "ResourceManager(default)[300]", "info: Retrying failed stop operation [drbddisk::r0]"))),
          fires={"LOG005": ["node01"]}, quiet=["LOG002"])
def _log005_stop(report):
    f = one(report, "LOG005")
    assert f.message == "drbddisk r0: stop (Secondary) failed and was retried 2 time(s) (return code 1)"


@scenario("LOG005 quiet when another script fails (LOG002 names it); drbddisk only ran",
          logs(node02=log(hb("07:41:00", START, node="node02"),
                          ra39("07:41:27", "ResourceManager(default)[16525]",
                               "info: Running /etc/ha.d/resource.d/drbddisk r0 start"), *MYSQLD)),
          fires={"LOG002": ["node02"]}, quiet=["LOG005"])
def _log005_quiet(report):
    assert one(report, "LOG002", "node02").message.startswith("start of mysqld failed")


# ipfail on the node that lost its ping node (corpus logs/015 prodlb02: "Link prodlb01/eth0 now has status
# dead", "We are dead. :<"; contrib/ipfail/ipfail.c LinkStatus/msg_ping_nodes/giveup)
def ipf(time: str, text: str, node: str = "node01") -> str:
    return f"Nov 25 {time} {node} ipfail: [1698]: info: {text}"


IPFAIL_LOSER = [
    ipf("12:06:07", "Link Status update: Link node02/eth0 now has status dead"),
    ipf("12:06:08", "We are dead. :<"),
    ipf("12:06:08", "Asking other side for ping node count."),
    ipf("12:06:09", "Giving up because we were told that we have less ping nodes."),
    ipf("12:06:09", "Delayed giveup in 4 seconds."),
    ipf("12:06:13", "giveup() called (timeout worked)"),
]
IPFAIL_WINNER = [
    ipf("12:06:07", "Link Status update: Link node01/eth0 now has status dead", node="node02"),
    ipf("12:06:08", "Checking remote count of ping nodes.", node="node02"),
    ipf("12:06:09", "Telling other node that we have more visible ping nodes.", node="node02"),
]


@scenario("LOG038 ipfail gives node01's resources to node02 (node01 lost its ping node)",
          logs(log(hb("12:00:00", START), *IPFAIL_LOSER),
               log(hb("12:00:00", START, node="node02"), *IPFAIL_WINNER)),
          fires={"LOG038": ["node01", "node02"]})
def _log038_fires(report):
    f = one(report, "LOG038")
    assert (f.status, f.severity, f.when) == ("fail", "warning", "now")
    assert f.message == "ipfail found fewer visible ping nodes here than on the peer, and gave them up (1 time(s))"
    cites(f, "Giving up because we were told that we have less ping nodes.", "We are dead. :<")
    assert one(report, "LOG038", "node02").status == "info"


@scenario("LOG038 quiet when the ping node counts are balanced",
          logs(log(hb("12:00:00", START), ipf("12:06:07", "Link Status update: Link node02/eth0 now has status dead"),
                   ipf("12:06:08", "Checking remote count of ping nodes."),
                   ipf("12:06:09", "Ping node count is balanced."), ipf("12:06:09", "No giveup timer to abort."))),
          quiet=["LOG038", "LOG039"])
def _log038_quiet(report):
    assert not shown(report, "LOG038")


@scenario("LOG039 ipfail exits at start: auto_failback legacy (contrib/ipfail/ipfail.c main)",
          logs(log(hb("12:00:00", START),
                   "Nov 25 12:00:02 node01 ipfail: [2260]: ERROR: auto_failback set to incompatible legacy option.",
                   "Nov 25 12:00:03 node01 ipfail: [2270]: ERROR: auto_failback set to incompatible legacy option.")),
          fires={"LOG039": ["node01"]}, quiet=["LOG090", "LOG038"])
def _log039_legacy(report):
    f = one(report, "LOG039")
    assert (f.severity, f.when) == ("warning", "now")
    assert f.message == "ipfail exits at start: auto_failback is legacy, ipfail needs on or off (2 time(s))"


@scenario("LOG039 dopd cannot outdate a peer whose drbd.conf name is no heartbeat node; sign-on refused",
          logs(log(hb("12:00:00", START),
                   "Nov 25 12:00:02 node01 /usr/lib/heartbeat/dopd: [2261]: ERROR: Cannot sign on with heartbeat",
                   "Nov 25 12:00:02 node01 /usr/lib/heartbeat/dopd: [2261]: ERROR: REASON: hb_api_signon: Can't "
                   "initiate connection to heartbeat",
                   "Nov 25 12:10:00 node01 /usr/lib/heartbeat/dopd: [2300]: WARN: drbd peer node02.example.com was "
                   "not found")),
          fires={"LOG039": ["node01", "node01"]})
def _log039_dopd(report):
    messages = sorted(f.message for f in shown(report, "LOG039"))
    assert messages == [
        "dopd cannot outdate the DRBD peer node02.example.com: not a heartbeat node of this cluster (1 time(s))",
        "dopd could not sign on to heartbeat (1 time(s)): hb_api_signon: Can't initiate connection to heartbeat"]


# ===================================================================================================

@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_log_scenario(tmp_path, sc):
    report = assert_scenario(tmp_path, sc)
    sc["check"](report)


LOG_CODES = ["LOG001", "LOG002", "LOG003", "LOG004", "LOG005", "LOG010", "LOG011", "LOG012", "LOG013", "LOG020", "LOG021",
             "LOG030", "LOG031", "LOG032", "LOG033", "LOG034", "LOG035", "LOG036", "LOG037", "LOG038", "LOG039",
             "LOG040", "LOG041", "LOG042", "LOG043", "LOG044", "LOG045", "LOG050", "LOG051", "LOG052", "LOG090"]


def _module(origin: str) -> str:
    """'rules.log_auth' or '/.../rules/log_auth.py' -> 'log_auth'."""
    name = os.path.basename(origin)
    return (name[:-3] if name.endswith(".py") else name).rsplit(".", 1)[-1]


def test_every_log_rule_has_a_firing_and_a_quiet_scenario():
    from hadoctor.engine import discovery

    registered = sorted(r.code for r in discovery.all_rules()
                        if r.is_log_rule and _module(r.origin).startswith("log_"))
    assert registered == LOG_CODES, "a log rule was added or removed: add scenarios for it"
    fires = {code for s in SCENARIOS for code in s["fires"]}
    quiet = {code for s in SCENARIOS for code in s["quiet"]}
    assert not set(LOG_CODES) - fires, f"no firing scenario: {sorted(set(LOG_CODES) - fires)}"
    assert not set(LOG_CODES) - quiet, f"no quiet scenario: {sorted(set(LOG_CODES) - quiet)}"


def test_healthy_cluster_with_a_healthy_log_fires_no_log_rule(tmp_path):
    """A whole healthy start (lab healthy shapes) fires nothing."""
    node01 = log(*PRELUDE, hb("07:24:28", START), hb("07:24:28", "info: heartbeat: version 3.0.6", pid=11),
                 hb("07:24:28", "info: glib: UDP Broadcast heartbeat started on port 694 (694) interface eth0", pid=11),
                 *_up("node01", "node02")[1:],
                 hb("07:24:30", "info: Comm_now_up(): updating status to active", pid=11),
                 hb("07:24:30", "info: Local status now set to: 'active'", pid=11),
                 ra("07:24:41", "ResourceManager(default)[117]",
                    "info: Acquiring resource group: node01 IPaddr::10.250.0.4/24/eth0"),
                 ra("07:24:41", "/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.250.0.4)[144]",
                    "INFO:  Resource is stopped"),
                 ra("07:24:41", "ResourceManager(default)[117]",
                    "info: Running /etc/ha.d//resource.d/IPaddr 10.250.0.4/24/eth0 start"),
                 ra("07:24:42", "IPaddr(IPaddr_10.250.0.4)[230]",
                    "INFO: Using calculated netmask for 10.250.0.4: 255.255.255.0"),
                 ra("07:24:42", "/usr/lib/ocf/resource.d//heartbeat/IPaddr(IPaddr_10.250.0.4)[206]", "INFO:  Success"),
                 hb("07:24:42", "info: Local Resource acquisition completed.", pid=51))
    report = assert_scenario(tmp_path, {"name": "healthy log", "nodes": logs(node01),
                                        "quiet": LOG_CODES})
    assert all(f.status == "pass" for f in report.findings if f.code in LOG_CODES)
