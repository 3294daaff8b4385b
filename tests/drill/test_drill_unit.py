"""The drill's parts without a cluster: the analysis of samples, the report text, the node-side sh
(run by the real /bin/sh), the observer's TCP/UDP/ICMP probes on loopback, and the refusals that
come before any node is contacted. The whole drill runs against real daemons in tests/lab/test_drill.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hadoctor.drill import analysis, nodeside
from hadoctor.drill.driver import Drill, DrillOptions, _node_state, cluster_name
from hadoctor.drill.observer import Announcement, Observer, Sample, Streams, parse_service
from hadoctor.report.drill import render
from hadoctor.terminal import console
from hadoctor.errors import UsageError
from hadoctor.remote import RunResult

REPO = Path(__file__).resolve().parents[2]


def samples(pattern: str, start: float = 0.0, step: float = 0.1, macs=None):
    """'11001' -> Samples every 100 ms; ``macs`` gives each tick's ARP holders."""
    out = []
    for i, ch in enumerate(pattern):
        holders = tuple(macs[i]) if macs else ()
        out.append(Sample(round(start + i * step, 3), ch == "1", "" if ch == "1" else "refused", holders))
    return out


# ---------------------------------------------------------------------------- analysis

def test_outage_is_first_failure_to_first_answer():
    o = analysis.service_outage("tcp/80", samples("1110000011"), 0.0, 1.0)
    assert (o.outage_s, o.down_at, o.back_at, o.recovered) == (0.5, 0.3, 0.8, True)
    assert o.failures == {"refused": 5}


def test_two_outages_add_up_and_the_longest_is_kept():
    o = analysis.service_outage("udp/5060", samples("1001100011"), 0.0, 1.0)
    assert o.outage_s == 0.5 and o.longest_s == 0.3


def test_a_service_that_never_comes_back_is_an_outage_to_the_end():
    o = analysis.service_outage("icmp", samples("11000"), 0.0, 2.0)
    assert not o.recovered and o.outage_s == 1.8


def test_vip_moves_two_holders_and_none():
    a, b = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    ticks = [[a]] * 3 + [[a]] * 2 + [[]] * 3 + [[a, b]] * 4 + [[b]] * 3
    s = samples("1" * len(ticks), macs=ticks)
    m = analysis.vip_moves(s, [Announcement(0.9, b)], 0.3, 2.0, {a: "node01", b: "node02"}, 0.1)
    assert m.before == ["node01"] and m.after == ["node02"]
    assert m.old_gone_at == pytest.approx(0.2)      # first tick without node01: 0.5 s
    assert m.new_at == pytest.approx(0.5)           # node02 first answers at 0.8 s
    assert m.no_node_s == pytest.approx(0.3) and m.two_nodes_s == pytest.approx(0.4)
    assert m.announcements == [(0.6, "node02")]


def _phase(kind: str, new_at: float, two: float = 0.0, back: float = 2.0, none: float = 0.0):
    moves = analysis.VipMoves(["node01"], ["node02"], 0.5, new_at, two, none)
    svc = analysis.ServiceOutage("udp/5060", True, back - 0.5, back - 0.5, 0.5, back, True)
    return analysis.Phase("drill", kind, 0.0, 60.0, moves, [svc])


@pytest.mark.parametrize("new_at, severity, words", [
    (11.4, "info", "takeover 11.4 s with deadtime 10 s: expected"),
    (45.0, "warning", "35.0 s beyond deadtime"),
    (3.0, "warning", "sooner than deadtime"),
])
def test_takeover_time_against_deadtime(new_at, severity, words):
    p = _phase("crash", new_at, back=new_at + 1)
    analysis.judge(p, "crash", 10.0, 2.0)
    assert any(v.severity == severity and words in v.text for v in p.verdicts), p.verdicts


def test_two_holders_in_a_planned_move_is_an_error_and_in_a_crash_a_warning():
    p = _phase("switchover", 1.0, two=0.7, back=2)
    analysis.judge(p, "switchover", 10.0, 2.0)
    assert [v.severity for v in p.verdicts if "two nodes" in v.text] == ["error"]
    p = _phase("link", 11.0, two=4.0, back=12)
    analysis.judge(p, "link", 10.0, 2.0)
    assert [v.severity for v in p.verdicts if "two nodes" in v.text] == ["warning"]


def test_a_service_late_after_the_vip_moved_is_named():
    p = _phase("switchover", 1.0, back=39.0)
    analysis.judge(p, "switchover", 10.0, 2.0)
    late = [v.text for v in p.verdicts if "after the VIP moved" in v.text]
    assert late and "udp/5060 did not answer on the VIP for 38.0 s" in late[0]


def test_restore_that_frees_the_vip_for_long_says_why():
    p = _phase("restore", 3.0, none=20.0)
    p.vip.after = ["node01"]
    analysis.judge_restore(p, "node01")
    assert any(v.severity == "warning" and "20.0 s" in v.text for v in p.verdicts)


def test_client_spans_merge_equal_neighbours_and_name_the_holders():
    a, b = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    streams = Streams({"arp": samples("11111", macs=[[a], [a], [a, b], [b], [b]]),
                       "tcp/80": samples("11011")})
    spans = analysis.client_spans(streams, {a: "node01", b: "node02"}, lambda t: 1000 + t, 0.1)
    assert spans["arp"] == [(1000.0, 1000.2, "node01"), (1000.2, 1000.3, "two nodes: node01, node02"),
                            (1000.3, 1000.5, "node02")]
    assert [s[2] for s in spans["tcp/80"]] == ["answered", "refused", "answered"]


# ---------------------------------------------------------------------------- report text

def _report():
    from hadoctor.drill.driver import Report

    r = Report("crash", vip="10.0.0.100", owner_before="node01\x1b[2J", restored=True,
               deadtime_s=10, keepalive_s=2)
    p = _phase("crash", 11.4, two=3.0, back=12.0)
    analysis.judge(p, "crash", 10.0, 2.0)
    r.phases.append(p)
    r.logs["node02:/var/log/ha-log"] = ["heartbeat: WARN: node node01: is dead \x07"]
    return r


def render_text(report, width=None) -> str:
    from io import StringIO

    out = StringIO()
    render(report, "text", console(file=out, terminal=width is not None, width=width))
    return out.getvalue()


def test_text_has_no_raw_control_character_from_the_nodes():
    text = render_text(_report())
    assert "\x1b" not in text and "\x07" not in text
    assert "node01\\x1b[2J" in text and "is dead \\a" in text


def test_text_wraps_only_for_a_terminal_with_a_hanging_indent():
    plain = render_text(_report())
    assert any(len(line) > 80 for line in plain.splitlines())     # a pipe: whole lines
    narrow = render_text(_report(), width=80).splitlines()
    assert all(len(line) <= 80 for line in narrow)
    i = next(i for i, line in enumerate(narrow) if line.startswith("  warning  the VIP answered from two"))
    assert narrow[i + 1].startswith(" " * 11) and not narrow[i + 1].startswith(" " * 12)
    assert "\x1b" not in render_text(_report(), width=80)


# ---------------------------------------------------------------------------- node-side sh

@pytest.mark.parametrize("script", [
    nodeside.inspect_script(["/var/log/ha-log"]), nodeside.lock_script("{}"), nodeside.unlock_script(),
    nodeside.journal_script("{}"),
    *[nodeside.action_script(a, [694, 695]) for a in nodeside.ACTIONS]])
def test_node_scripts_are_valid_posix_sh(script):
    assert subprocess.run(["sh", "-n"], input=script.encode()).returncode == 0


def test_the_lock_is_exclusive_and_keeps_the_holders_journal(tmp_path):
    lock = tmp_path / "hadoctor-drill.lock"

    def run(script: str) -> str:
        script = script.replace(f"LOCK={nodeside.LOCK_PATH}", f"LOCK={lock}")
        return subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True).stdout.decode()

    assert "result=ok" in run(nodeside.lock_script('{"run": "first"}'))
    assert oct(lock.stat().st_mode & 0o777) == "0o600"
    second = run(nodeside.lock_script('{"run": "second"}'))
    assert "result=locked" in second
    from hadoctor.framing import parse_output

    assert b'"run": "first"' in parse_output(second.encode()).files["lock"]
    assert "result=ok" in run(nodeside.journal_script('{"run": "first", "state": "acting"}'))
    assert "acting" in lock.read_text()
    assert "result=ok" in run(nodeside.unlock_script()) and not lock.exists()


def test_an_inspection_is_read_into_a_node_state():
    out = ("uname=node01\nhb_processes=4\ncl_status=/usr/bin/cl_status\nhbstatus_rc=0\n"
           "nodestatus=node01 active\nnodestatus=node02 dead\nfw_rules=2\n"
           "log_size=/var/log/ha-log 12345\nresult=ok\n@file hacf\n"
           + " ".join(f"{b:02x}" for b in b"keepalive 2\ndeadtime 10\nbcast eth0\nnode node01 node02\n")
           + "\n@end\n")
    st = _node_state(_FakeShell("node01"), RunResult("node01", "local", 0, out.encode(), b"", 0.1))
    assert st.running and st.peers == {"node01": "active", "node02": "dead"}
    assert st.firewall_left and st.log_sizes == {"/var/log/ha-log": 12345}
    assert st.hacf.node_names == ["node01", "node02"] and cluster_name(st.hacf) == "node01+node02"


class _FakeShell:
    def __init__(self, node: str) -> None:
        self.node = node
        self.where = "local"


# ---------------------------------------------------------------------------- refusals before any contact

@pytest.mark.parametrize("opts, words", [
    (DrillOptions("switchover", ("node01",)), "give every node"),
    (DrillOptions("crash", ("node01", "node02")), "needs --hard"),
    (DrillOptions("reboot", ("node01", "node02")), "unknown drill"),
])
def test_refused_before_any_node_is_contacted(opts, words):
    with pytest.raises(UsageError, match=words):
        Drill(opts)


@pytest.mark.parametrize("args, words", [
    (["drill"], "say which drill"),
    (["drill", "switchover", "--node", "a", "--node", "b", "--port", "99999/udp"], "port must be 1-65535"),
    (["drill", "link", "--node", "a", "--node", "b"], "needs --hard"),
])
def test_cli_usage_errors_exit_2(args, words):
    cp = subprocess.run([sys.executable, "-m", "hadoctor", *args], cwd=REPO, capture_output=True, timeout=60)
    assert cp.returncode == 2 and words in cp.stderr.decode()
    assert cp.stdout == b""


def test_parse_service():
    assert parse_service("5060/UDP") == ("udp", 5060)
    for bad in ("x/tcp", "80/sctp", "", "①/tcp"):
        with pytest.raises(ValueError):
            parse_service(bad)


# ---------------------------------------------------------------------------- observer on loopback

def _udp_echo(sock: socket.socket, stop: threading.Event) -> None:
    sock.settimeout(0.05)
    while not stop.is_set():
        try:
            data, peer = sock.recvfrom(2048)
            sock.sendto(b"ok", peer)
        except OSError:
            pass


def test_observer_sees_a_tcp_service_go_away_and_a_udp_service_answer():
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    stop = threading.Event()
    threading.Thread(target=_udp_echo, args=(udp, stop), daemon=True).start()
    obs = Observer("127.0.0.1", None, [("tcp", tcp.getsockname()[1]), ("udp", udp.getsockname()[1])],
                   interval=0.05)
    obs.start()
    try:
        time.sleep(0.6)
        tcp.close()                     # the service stops: connects are refused
        time.sleep(0.6)
    finally:
        streams = obs.stop()
        stop.set()
        udp.close()
    t = streams.samples[f"tcp/{obs.services[0][1]}"]
    assert t[0].ok and not t[-1].ok and t[-1].detail == "refused"
    u = streams.samples[f"udp/{obs.services[1][1]}"]
    assert sum(s.ok for s in u) >= len(u) - 2
    if os.geteuid() == 0:
        assert all(s.ok for s in streams.samples["icmp"][-5:])
    else:
        assert "icmp" in streams.errors   # raw ICMP needs root: the stream says why instead of crashing


# ---------------------------------------------------------------------------- the picture

def test_the_picture_draws_the_nodes_logs_and_what_clients_saw():
    """A lab capture's logs (node01 failed, node02 took over at 09:19:26) with client probes placed
    at those times: one SVG holding the nodes' lanes and the clients' lane, valid XML."""
    import xml.etree.ElementTree as ET
    from datetime import datetime

    from hadoctor.drill.driver import Report
    from hadoctor.drill.picture import render_picture

    cap = REPO / "tests" / "fixtures" / "lab" / "failover"
    year = 2026
    r = Report("crash", vip="10.250.1.100", nodes=["node01", "node02"], owner_before="node01", restored=True)
    for node in r.nodes:
        r.node_files[node] = {"hacf": (cap / node / "ha.cf").read_bytes(),
                              "haresources": (cap / node / "haresources").read_bytes()}
        r.logs[f"{node}:/var/log/heartbeat.log"] = (cap / node / "heartbeat.log").read_text().splitlines()
    t = datetime(year, 11, 25, 9, 19, 20).timestamp()
    r.clients = {"arp": [(t, t + 6, "node01"), (t + 6, t + 7.5, "two nodes: node01, node02"),
                         (t + 7.5, t + 20, "node02")],
                 "tcp/5060": [(t, t + 6.2, "answered"), (t + 6.2, t + 6.5, "refused"), (t + 6.5, t + 20, "answered")]}
    svg = render_picture(r)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "clients (observer" in svg and "VIP 10.250.1.100 on" in svg and "tcp/5060 on the VIP" in svg
    assert "two nodes: node01, node02" in svg and "refused" in svg
    assert 'data-node="node02"' in svg
    assert render_picture(r, "html").startswith("<!DOCTYPE html>")
