"""hotsos-style scenario tests for rules: inline node files in, expected findings out.

A scenario is a dict::

    {"name": "deadtime too small",
     "nodes": {"node01": {"ha.cf": "...", "haresources": "...", ...}, "node02": {...}},
     "fires": {"CFG101": ["node01"]},     # code -> nodes (None = a cluster-wide finding)
     "quiet": ["CFG102"]}                  # codes that must NOT fail/info

Every rule needs at least one scenario where it fires and one where it stays quiet
(``tests/rules/test_catalogue.py`` checks that). File contents are str (written as UTF-8) or
bytes. ``authkeys.stat`` defaults to "600 root root" when an authkeys is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Optional

from hadoctor.engine import discovery
from hadoctor.engine.runner import Report, run
from hadoctor.snapshot.loader import load_target

BASE_HACF = """\
logfile /var/log/heartbeat.log
keepalive 1
deadtime 10
warntime 5
initdead 30
udpport 694
bcast eth0
ucast eth1 {peer1}
auto_failback on
node node01
node node02
"""

ADDR = {"node01": ("10.250.0.2", "10.250.1.2"), "node02": ("10.250.0.3", "10.250.1.3")}


def ip_a(eth0: str, eth1: Optional[str] = None, extra: Iterable[str] = ()) -> str:
    """`ip a` text in iproute2 6.x's shape (lo, eth0, eth1) with extra 'inet' lines on eth0."""
    lines = [
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000",
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
        "    inet 127.0.0.1/8 scope host lo",
        "       valid_lft forever preferred_lft forever",
        "2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000",
        "    link/ether 6a:1c:2e:00:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0",
        f"    inet {eth0}/24 brd {eth0.rsplit('.', 1)[0]}.255 scope global eth0",
        "       valid_lft forever preferred_lft forever",
    ]
    for extra_line in extra:
        lines += [f"    {extra_line}", "       valid_lft forever preferred_lft forever"]
    if eth1:
        lines += [
            "3: eth1@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000",
            "    link/ether 6a:1c:2e:01:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0",
            f"    inet {eth1}/24 brd {eth1.rsplit('.', 1)[0]}.255 scope global eth1",
            "       valid_lft forever preferred_lft forever",
        ]
    return "\n".join(lines) + "\n"


def healthy_node(name: str, changes: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """A node folder of a healthy two-path cluster; ``changes`` replaces files (None removes one)."""
    peer = "node02" if name == "node01" else "node01"
    files: Dict[str, object] = {
        "ha.cf": BASE_HACF.format(peer1=ADDR[peer][1]),
        "haresources": "node01 IPaddr::10.250.0.4/24/eth0\n",
        "authkeys": "auth 1\n1 sha1 scenario-key-not-secret\n",
        "authkeys.stat": "600 root root\n",
        "ip-a.txt": ip_a(ADDR[name][0], ADDR[name][1],
                         ["inet 10.250.0.4/24 brd 10.250.0.255 scope global secondary eth0"] if name == "node01" else []),
        "uname-n.txt": name + "\n",
        "heartbeat.log": "",
    }
    files.update(changes or {})
    return {k: v for k, v in files.items() if v is not None}


def healthy_cluster(changes: Optional[Dict[str, Dict[str, object]]] = None) -> Dict[str, Dict[str, object]]:
    """Both nodes healthy; ``{"node01": {"ha.cf": ...}}`` replaces files of node01 (None removes one)."""
    changes = changes or {}
    return {name: healthy_node(name, changes.get(name)) for name in ("node01", "node02")}


def scenario_book():
    """A module's ``SCENARIOS`` list and a decorator that registers a scenario with its direct checks::

        SCENARIOS, scenario = scenario_book()

        @scenario("name", nodes, fires={"CFG101": ["node01"]}, quiet=["CFG102"])
        def _check(report): ...
    """
    book: List[dict] = []

    def scenario(name: str, nodes: dict, fires: Optional[dict] = None, quiet: Iterable[str] = ()):
        def register(check):
            book.append({"name": name, "nodes": nodes, "fires": fires or {}, "quiet": list(quiet), "check": check})
            return check
        return register

    return book, scenario


def write_cluster(root: Path, nodes: Dict[str, Dict[str, object]]) -> Path:
    for node, files in nodes.items():
        folder = root / node
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            data = content if isinstance(content, bytes) else str(content).encode("utf-8")
            path = folder / name  # "services/sip.conf" makes the sub-folder
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return root


def check(root: Path, nodes: Dict[str, Dict[str, object]], select: Optional[List[str]] = None) -> Report:
    write_cluster(root, nodes)
    rules = discovery.select_rules(discovery.all_rules(), select or ["ALL"])
    return run(load_target(str(root)), rules)


def fired(report: Report) -> Dict[str, List[Optional[str]]]:
    """code -> nodes for every failing or info finding (unsuppressed)."""
    result: Dict[str, List[Optional[str]]] = {}
    for f in report.findings:
        if f.status in ("fail", "info") and not f.suppressed:
            result.setdefault(f.code, []).append(f.node)
    return result


def assert_scenario(tmp_path: Path, scenario: dict) -> Report:
    report = check(tmp_path, scenario["nodes"], scenario.get("select"))
    got = fired(report)
    for code, nodes in scenario.get("fires", {}).items():
        assert code in got, f"{scenario['name']}: {code} did not fire; fired: {sorted(got)}"
        if nodes is not None:
            assert sorted(got[code], key=str) == sorted(nodes, key=str), (
                f"{scenario['name']}: {code} fired on {got[code]}, expected {nodes}")
    for code in scenario.get("quiet", []):
        assert code not in got, f"{scenario['name']}: {code} fired unexpectedly: " + "; ".join(
            f.message for f in report.findings if f.code == code)
    skipped = [f for f in report.findings if f.status == "skip" and "crashed" in f.message]
    assert not skipped, f"rule crashed: {skipped[0].code}: {skipped[0].message}"
    return report
