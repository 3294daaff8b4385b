"""Scenario tests (positive and negative) for the media, naming, resource, authkeys, network, cross-node,
package and service rules. Inputs are small node folders in the shapes real nodes produce (ip a of
iproute2 6.x, dpkg-query -W, rpm -qa, iptables-save, nft list ruleset, systemctl list-unit-files)."""

from __future__ import annotations

import pytest

from tests.rules.scenario import ADDR, BASE_HACF, assert_scenario, healthy_cluster, ip_a

HACF_ONE_PATH = "keepalive 1\ndeadtime 10\nwarntime 5\ninitdead 30\nbcast eth0\nauto_failback on\nnode node01\nnode node02\n"
HACF_UDPPORT_LATE = ("keepalive 1\ndeadtime 10\nwarntime 5\ninitdead 30\nbcast eth0\nudpport 695\nucast eth1 {}\n"
                     "auto_failback on\nnode node01\nnode node02\n")
BOTH = ("node01", "node02")


def hacf(peer_of: str, **replace) -> str:
    text = BASE_HACF.format(peer1=ADDR["node02" if peer_of == "node01" else "node01"][1])
    for old, new in replace.items():
        text = text.replace(old.replace("_", " "), new)
    return text


def both(files):
    return {n: dict(files) for n in BOTH}


def per_node(func):
    return {n: func(n) for n in BOTH}


def _peer(n: str) -> str:
    return "node02" if n == "node01" else "node01"


def _log(node: str, lines) -> str:
    """heartbeat 3.0.6 logfile lines (docs/heartbeat/logs.md#the-daemon-writing-a-file)."""
    return "".join(f"Nov 25 {t} {node} heartbeat: [2129]: {lvl}: {msg}\n" for t, lvl, msg in lines)


def _listen(senders, foreign) -> str:
    """A `hadoctor probe listen --format json` report (schema hadoctor-listen/1)."""
    import json

    return json.dumps({"schema": "hadoctor-listen/1", "summary": {
        "packets": sum(sum(r.values()) for _, _, r in senders),
        "senders": [{"node": n, "address": a, "packets": sum(r.values()), "auth_results": r} for n, a, r in senders],
        "foreign": foreign}})


SCENARIOS = [
    # --- media -------------------------------------------------------------------------------------
    {"name": "one path only", "nodes": healthy_cluster(both({"ha.cf": HACF_ONE_PATH})),
     "fires": {"CFG201": list(BOTH)}},
    {"name": "two paths", "nodes": healthy_cluster(), "quiet": ["CFG201", "CFG202", "CFG203", "CFG204", "CFG205",
                                                                  "CFG206", "CFG301", "CFG302", "CFG303", "CFG304",
                                                                  "CFG305", "SEC001", "SEC002", "SEC003", "NET001",
                                                                  "NET002", "NET003", "NET004", "NET005", "XND001", "XND009",
                                                                  "XND003", "XND004", "XND005", "XND006", "XND007",
                                                                  "PKG001"]},
    {"name": "udpport after bcast", "nodes": healthy_cluster(per_node(
        lambda n: {"ha.cf": HACF_UDPPORT_LATE.format(ADDR["node02" if n == "node01" else "node01"][1])})),
     "fires": {"CFG202": list(BOTH)}},
    {"name": "no media", "nodes": healthy_cluster(both({"ha.cf": "keepalive 1\ndeadtime 10\nnode node01\nnode node02\n"})),
     "fires": {"CFG203": list(BOTH)}, "quiet": ["CFG201"]},
    {"name": "no nodes", "nodes": healthy_cluster(both({"ha.cf": "keepalive 1\ndeadtime 10\nbcast eth0\n"})),
     "fires": {"CFG204": list(BOTH)}},
    {"name": "crm on with haresources", "nodes": healthy_cluster(per_node(lambda n: {"ha.cf": hacf(n) + "crm on\n"})),
     "fires": {"CFG205": list(BOTH)}},
    {"name": "legacy failback", "nodes": healthy_cluster(per_node(
        lambda n: {"ha.cf": hacf(n).replace("auto_failback on\n", "")})),
     "fires": {"CFG206": list(BOTH)}},
    # --- naming --------------------------------------------------------------------------------------
    {"name": "haresources names lisa (corpus haresources/003)", "nodes": healthy_cluster(
        both({"haresources": "lisa IPaddr::10.250.0.4/24/eth0\n"})), "fires": {"CFG301": list(BOTH)}},
    {"name": "uname is the FQDN", "nodes": healthy_cluster({"node01": {"uname-n.txt": "node01.example.com\n"}}),
     "fires": {"CFG302": ["node01.example.com"]}},
    {"name": "same VIP in two groups (corpus haresources/029)", "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.4/24/eth0 nfs\nnode02 IPaddr::10.250.0.4/24/eth0 httpd\n"})),
     "fires": {"CFG303": list(BOTH)}},
    {"name": "resource script missing", "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.4/24/eth0 drbddisk::r0 mysql\n",
         "resource-scripts.txt": "x /etc/ha.d/resource.d/IPaddr\n- /etc/init.d/mysql\nx /etc/init.d/ssh\n"})),
     "fires": {"CFG304": list(BOTH) * 2}},
    {"name": "resource scripts present", "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.4/24/eth0 mysql\n",
         "resource-scripts.txt": "x /etc/ha.d/resource.d/IPaddr\nx /etc/init.d/mysql\n",
         "boot-services.txt": "mysql.service disabled enabled\nssh.service enabled enabled\n"})),
     "quiet": ["CFG304", "CFG305"]},
    {"name": "resource arguments the agents refuse (init script with args, Filesystem, drbddisk)",
     "nodes": healthy_cluster(both(
         {"haresources": "node01 IPaddr::10.250.0.4/24/eth0 drbddisk::r0::r1 Filesystem::/dev/drbd0::srv::ext4 "
                         "Filesystem::/dev/drbd1 mysql::fast\n",
          "resource-scripts.txt": "x /etc/ha.d/resource.d/IPaddr\nx /etc/ha.d/resource.d/drbddisk\n"
                                  "x /etc/ha.d/resource.d/Filesystem\nx /etc/init.d/mysql\n"})),
     "fires": {"CFG306": list(BOTH) * 4}},
    {"name": "resource arguments as the agents expect", "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.4/24/eth0 drbddisk::r0 Filesystem::/dev/drbd0::/srv::ext4 "
                        "Filesystem::-Ldata::/data mysql\n",
         "resource-scripts.txt": "x /etc/ha.d/resource.d/IPaddr\nx /etc/ha.d/resource.d/drbddisk\n"
                                 "x /etc/ha.d/resource.d/Filesystem\nx /etc/init.d/mysql\n"})),
     "quiet": ["CFG306", "CFG304"]},
    {"name": "service enabled at boot", "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.4/24/eth0 mysql\n",
         "boot-services.txt": "mysql.service enabled enabled\n"})), "fires": {"CFG305": list(BOTH)}},
    {"name": "chkconfig on (CentOS 6)", "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.4/24/eth0 httpd\n",
         "boot-services.txt": "httpd          \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off\n"})),
     "fires": {"CFG305": list(BOTH)}},
    # --- authkeys --------------------------------------------------------------------------------
    {"name": "authkeys 0644", "nodes": healthy_cluster({"node02": {"authkeys.stat": "644 root root\n"}}),
     "fires": {"SEC001": ["node02"]}},
    {"name": "auth line after key", "nodes": healthy_cluster(both({"authkeys": "1 sha1 k\nauth 1\n"})),
     "fires": {"SEC002": list(BOTH)}},
    {"name": "crc", "nodes": healthy_cluster(both({"authkeys": "auth 2\n2 crc\n"})), "fires": {"SEC003": list(BOTH)},
     "quiet": ["SEC002", "XND004"]},
    # --- network -------------------------------------------------------------------------------
    {"name": "bare VIP outside every subnet (corpus haresources/027)", "nodes": healthy_cluster(both(
        {"haresources": "node01 192.168.10.4\n"})), "fires": {"NET001": list(BOTH)}},
    {"name": "VIP in the subnet, no mask", "nodes": healthy_cluster(both({"haresources": "node01 10.250.0.4\n"})),
     "quiet": ["NET001", "NET002"]},
    {"name": "two NICs in the VIP's subnet (corpus ip-a/001)", "nodes": healthy_cluster(per_node(lambda n: {
        "haresources": "node01 10.250.1.40\n",
        "ip-a.txt": ip_a(ADDR[n][0], ADDR[n][1], [f"inet 10.250.1.{60 + BOTH.index(n)}/24 scope global eth0"])})),
     "fires": {"NET001": list(BOTH)}},
    {"name": "nic carries another subnet", "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr2::10.250.0.4/24/eth1\n"})), "fires": {"NET002": list(BOTH)}},
    {"name": "nic does not exist", "nodes": healthy_cluster({"node02": {"haresources": "node01 IPaddr::10.250.0.4/24/ens33\n"},
                                                            "node01": {"haresources": "node01 IPaddr::10.250.0.4/24/ens33\n"}}),
     "fires": {"NET002": list(BOTH)}},
    {"name": "iptables drops 694 (lab partition)", "nodes": healthy_cluster({"node02": {"iptables-save.txt": (
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        "-A INPUT -s 10.250.0.2/32 -p udp -m udp --dport 694 -j DROP\nCOMMIT\n")}}),
     "fires": {"NET003": ["node02"]}},
    {"name": "nft drops another port", "nodes": healthy_cluster(both({"nft-ruleset.txt": (
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
        "\t\tudp dport 5060 drop\n\t}\n}\n")})), "quiet": ["NET003"]},
    {"name": "nft drops 694", "nodes": healthy_cluster(both({"nft-ruleset.txt": (
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
        "\t\tip saddr 10.250.0.0/24 udp dport 694 drop\n\t}\n}\n")})), "fires": {"NET003": list(BOTH)}},
    {"name": "media on a missing NIC", "nodes": healthy_cluster({"node02": {"ip-a.txt": ip_a(ADDR["node02"][0])}}),
     "fires": {"NET004": ["node02"]}},
    {"name": "/etc/hosts wrong", "nodes": healthy_cluster(both({"hosts": "127.0.0.1 localhost\n10.250.0.2 node01\n"
                                                                         "10.250.0.33 node02\n"})),
     "fires": {"NET005": list(BOTH)}},
    {"name": "/etc/hosts right", "nodes": healthy_cluster(both({"hosts": "127.0.0.1 localhost\n10.250.0.2 node01\n"
                                                                         "10.250.1.3 node02\n"})),
     "quiet": ["NET005"]},
    # --- cross-node ----------------------------------------------------------------------------------
    {"name": "VIP on both", "nodes": healthy_cluster({"node02": {"ip-a.txt": ip_a(
        ADDR["node02"][0], ADDR["node02"][1], ["inet 10.250.0.4/24 brd 10.250.0.255 scope global secondary eth0"])}}),
     "fires": {"XND001": [None]}, "quiet": ["XND009"]},
    {"name": "VIP on none is info", "nodes": healthy_cluster({"node01": {"ip-a.txt": ip_a(*ADDR["node01"])}}),
     "fires": {"XND009": [None]}, "quiet": ["XND001"]},
    {"name": "haresources differ (corpus haresources/013 vs 014)", "nodes": healthy_cluster(
        {"node02": {"haresources": "node02 IPaddr::10.250.0.4/24/eth0\n"}}), "fires": {"XND003": [None]}},
    {"name": "authkeys differ", "nodes": healthy_cluster({"node02": {"authkeys": "auth 1\n1 sha1 another-key\n"}}),
     "fires": {"XND004": [None]}},
    {"name": "udpport and deadtime differ", "nodes": healthy_cluster({"node02": {"ha.cf": hacf(
        "node02").replace("udpport 694", "udpport 695").replace("deadtime 10", "deadtime 12")}}),
     "fires": {"XND005": [None, None]}},
    {"name": "ucast points at own address only", "nodes": healthy_cluster(per_node(
        lambda n: {"ha.cf": BASE_HACF.format(peer1=ADDR[n][1])})), "fires": {"XND006": list(BOTH)}},
    {"name": "versions differ", "nodes": healthy_cluster({
        "node01": {"packages.txt": "heartbeat\t1:3.0.6-13+b2\nresource-agents\t1:4.12.0-2\n"},
        "node02": {"packages.txt": "heartbeat\t1:3.0.6-13+b2\nresource-agents\t1:4.11.0-1\n"}}),
     "fires": {"XND007": [None]}, "quiet": ["PKG001"]},
    {"name": "MOR convention (opt-in) broken", "select": ["XND008"], "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.1/24/eth0\n"})),
     "fires": {"XND008": [None]}},
    {"name": "MOR convention kept", "select": ["XND008"], "nodes": healthy_cluster(both(
        {"haresources": "node01 IPaddr::10.250.0.13/24/eth0\n"})), "quiet": ["XND008"]},
    {"name": "partition both ways (lab split-brain log lines)", "nodes": healthy_cluster(per_node(lambda n: {
        "heartbeat.log": _log(n, [("07:36:10", "info", f"Status update for node {_peer(n)}: status active"),
                                  ("07:40:01", "WARN", f"node {_peer(n)}: is dead"),
                                  ("07:40:05", "info", "Link x:eth1 dead.")])})),
     "fires": {"XND002": [None]}},
    {"name": "one way: node01 lost node02 while node02 kept running", "nodes": healthy_cluster({
        "node01": {"heartbeat.log": _log("node01", [("07:36:10", "info", "Status update for node node02: status active"),
                                                    ("07:40:01", "WARN", "node node02: is dead")])},
        "node02": {"heartbeat.log": _log("node02", [("07:36:10", "info", "Status update for node node01: status active"),
                                                    ("07:41:30", "WARN", "Message hist queue is filling up (376 messages in queue)")])}}),
     "fires": {"XND002": [None]}},
    {"name": "real crash: node02's log stops before node01 declares it dead", "nodes": healthy_cluster({
        "node01": {"heartbeat.log": _log("node01", [("07:36:10", "info", "Status update for node node02: status active"),
                                                    ("07:40:01", "WARN", "node node02: is dead")])},
        "node02": {"heartbeat.log": _log("node02", [("07:36:10", "info", "Status update for node node01: status active")])}}),
     "quiet": ["XND002"]},
    # --- on the wire (a `probe listen --format json` report in the node folder) ----------------------
    {"name": "foreign cluster and a failing peer on the wire", "nodes": healthy_cluster({"node01": {
        "probe-listen.json": _listen([("node02", "10.250.0.3", {"wrong-key": 5})],
                                     [{"node": "web01", "address": "10.250.0.9", "packets": 3, "auth_indexes": [3]}])}}),
     "fires": {"NET010": ["node01"], "NET011": ["node01"]}},
    {"name": "clean wire", "nodes": healthy_cluster({"node01": {
        "probe-listen.json": _listen([("node02", "10.250.0.3", {"ok": 5}), ("node01", "10.250.0.2", {"ok": 5})], [])}}),
     "quiet": ["NET010", "NET011"]},
    # --- packages -------------------------------------------------------------------------------
    {"name": "EPEL heartbeat 3.0.4 with el6_4 resource-agents", "nodes": healthy_cluster(both({
        "packages.txt": "heartbeat-3.0.4-2.el6.x86_64\nresource-agents-3.9.2-21.el6_4.8.x86_64\n"})),
     "fires": {"PKG001": list(BOTH)}},
    {"name": "older el6 resource-agents", "nodes": healthy_cluster(both({
        "packages.txt": "heartbeat-3.0.4-2.el6.x86_64\nresource-agents-3.9.2-7.el6.x86_64\n"})),
     "quiet": ["PKG001", "XND007"]},
    # --- services behind the VIP ----------------------------------------------------------------------
    {"name": "sip binds the node address", "nodes": healthy_cluster(per_node(lambda n: {
        "services/sip.conf": f"[general]\nbindaddr={ADDR[n][0]}\nbindport=5060\n[100]\nsecret=do-not-show\n"})),
     "fires": {"SVC001": list(BOTH)}},
    {"name": "sip binds the VIP", "nodes": healthy_cluster(both({
        "services/sip.conf": "[general]\nbindaddr=10.250.0.4\n", "services/mor.conf": "server_id = 1\n"})),
     "fires": {"SVC002": [None]}, "quiet": ["SVC001"]},
    {"name": "distinct server ids", "nodes": healthy_cluster(per_node(lambda n: {
        "services/mor.conf": f"server_id = {BOTH.index(n) + 1}\n", "services/manager.conf": "[general]\nbindaddr = 0.0.0.0\n"})),
     "quiet": ["SVC001", "SVC002"]},
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(tmp_path, scenario):
    nodes = scenario["nodes"]
    for files in nodes.values():  # "services/sip.conf" keys create the sub-folder
        for name in [k for k in files if "/" in k]:
            files[name.replace("/", "\0")] = files.pop(name)
    for node, files in nodes.items():
        folder = tmp_path / node
        for key in [k for k in files if "\0" in k]:
            sub, name = key.split("\0")
            (folder / sub).mkdir(parents=True, exist_ok=True)
            (folder / sub / name).write_text(files.pop(key))
    assert_scenario(tmp_path, scenario)


def test_secret_never_in_report(tmp_path):
    import json

    from hadoctor.report.findings_json import write_report
    from tests.rules.scenario import check

    scenario = next(s for s in SCENARIOS if s["name"] == "sip binds the node address")
    nodes = {n: dict(f) for n, f in scenario["nodes"].items()}
    for node, files in nodes.items():
        (tmp_path / node / "services").mkdir(parents=True)
        (tmp_path / node / "services" / "sip.conf").write_text(files.pop("services/sip.conf",
                                                                         files.pop("services\0sip.conf", "")))
    report = check(tmp_path, nodes)
    import io

    out = io.StringIO()
    write_report(report, 1, out)
    assert "SVC001" in out.getvalue()
    assert "do-not-show" not in out.getvalue() and "scenario-key-not-secret" not in out.getvalue()
    json.loads(out.getvalue())
