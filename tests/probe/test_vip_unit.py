"""``probe vip`` without root: frames against real captured ones, interface choice from real lab
captures, verdicts, owners, rendering, and errors. No packet is sent here (the exchange is
replaced by canned reports); tests/lab/test_probe_vip.py does the real thing."""

from __future__ import annotations

import io
import json
import shutil
import socket
import struct

import pytest

from hadoctor.commands.probe_vip import probe_target
from hadoctor.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, InputError, UsageError
from hadoctor.parsers.haresources import parse_haresources
from hadoctor.parsers.interfaces import parse_interfaces
from hadoctor.probe import frames, neighbours, netns, vip, vip_targets
from hadoctor.probe.neighbours import ProbeReport
from hadoctor.probe.vip import FREE, HELD_ONCE, HELD_TWICE, UNPROBEABLE, VipResult
from hadoctor.probe.vip_targets import VipTarget
from hadoctor.report.probe_vip import render_vip_results
from tests.conftest import FIXTURES

CAPTURED = json.loads((FIXTURES / "probe" / "frames.json").read_text())
FRAME = {name: bytes.fromhex(text) for name, text in CAPTURED["frames"].items()}
LAB = CAPTURED["lab"]
MAC = LAB["macs"]
LAB_FIXTURES = FIXTURES / "lab"


def table(capture: str, node: str = "node01"):
    path = LAB_FIXTURES / capture / node / "ip-j-a.json"
    return parse_interfaces(path.read_bytes(), str(path))


def targets(capture: str, node: str = "node01"):
    path = LAB_FIXTURES / capture / node / "haresources"
    return vip_targets.vip_targets(parse_haresources(path.read_bytes(), str(path)))


# --------------------------------------------------------------------------- ARP frames

def test_request_is_the_kernels_byte_for_byte():
    built = frames.build_arp_request(MAC["obs"], LAB["obs_ip"], LAB["node01_ip"])
    assert built == FRAME["kernel-arp-request"]
    assert frames.build_arp_request(MAC["obs"], "0.0.0.0", LAB["vip"]) == FRAME["hadoctor-arp-probe"]


def test_gratuitous_reply_is_send_arps_byte_for_byte():
    built = frames.build_arp_frame(frames.ARPOP_REPLY, MAC["node01"], LAB["vip"], MAC["node01"], LAB["vip"])
    assert built == FRAME["send_arp-gratuitous-reply"]


def test_kernel_reply_parsed_and_classified():
    p = frames.parse_arp_frame(FRAME["kernel-arp-reply"])
    assert (p.op, p.sender_mac, p.sender_ip, p.target_mac, p.target_ip) == (
        2, MAC["node01"], LAB["node01_ip"], MAC["obs"], LAB["obs_ip"])
    assert p.eth_dst == MAC["obs"] and p.eth_src == MAC["node01"]
    assert frames.classify_arp(p, LAB["node01_ip"]) == "reply"
    assert frames.classify_arp(p, LAB["vip"]) is None


def test_reply_to_an_rfc5227_probe():
    probe = frames.parse_arp_frame(FRAME["hadoctor-arp-probe"])
    assert probe.is_probe and not probe.is_gratuitous and probe.target_mac == frames.ZERO_MAC
    assert frames.classify_arp(probe, LAB["vip"]) == "probe"
    reply = frames.parse_arp_frame(FRAME["kernel-arp-reply-to-probe"])
    assert reply.op == 2 and reply.target_ip == "0.0.0.0" and reply.eth_dst == MAC["obs"]
    assert frames.classify_arp(reply, LAB["vip"]) == "reply"


@pytest.mark.parametrize("name", ["send_arp-gratuitous-request", "send_arp-gratuitous-reply"])
def test_send_arp_announcements(name):
    p = frames.parse_arp_frame(FRAME[name])
    assert p.is_gratuitous and p.sender_mac == MAC["node01"] and p.eth_dst == frames.BROADCAST_MAC
    assert frames.classify_arp(p, LAB["vip"]) == "announcement"


def test_kernel_request_uses_the_vip_as_source():
    p = frames.parse_arp_frame(FRAME["kernel-arp-request"])
    assert frames.classify_arp(p, LAB["obs_ip"]) == "source"  # obs asks from its own address


def test_vlan_tag_and_padding():
    raw = FRAME["kernel-arp-reply"]
    tagged = raw[:12] + struct.pack("!HH", 0x8100, 57) + raw[12:] + b"\0" * 14
    assert frames.parse_arp_frame(tagged) == frames.parse_arp_frame(raw)


@pytest.mark.parametrize("raw", [b"", FRAME["kernel-arp-reply"][:41], b"\xff" * 12 + b"\x08\x00" + b"\0" * 28,
                                 FRAME["kernel-arp-reply"][:14] + b"\x00\x06" + FRAME["kernel-arp-reply"][16:]])
def test_not_arp_is_none(raw):
    assert frames.parse_arp_frame(raw) is None


def test_mac_text_round_trip():
    assert frames.mac_text(frames.mac_bytes("02:00:0A:FA:28:0B")) == "02:00:0a:fa:28:0b"
    with pytest.raises(ValueError):
        frames.mac_bytes("02:00:0a")


# --------------------------------------------------------------------------- neighbour discovery

def _ipv6(frame: bytes):
    import ipaddress

    return (ipaddress.IPv6Address(frame[22:38]), ipaddress.IPv6Address(frame[38:54]), frame[54:])


def test_solicitation_is_the_kernels_byte_for_byte():
    src, dst, icmp = _ipv6(FRAME["kernel-neighbor-solicitation"])
    assert str(src) == LAB["obs6"] and dst == frames.solicited_node(LAB["vip6"])
    assert FRAME["kernel-neighbor-solicitation"][:6] == frames.mac_bytes(frames.multicast_mac(dst))
    built = frames.build_neighbor_solicitation(LAB["vip6"], MAC["obs"])
    assert built[2:4] == b"\0\0"  # the kernel fills the checksum in
    assert frames.with_checksum(src, dst, built) == icmp


def test_advertisement_parsed_and_checksum():
    src, dst, icmp = _ipv6(FRAME["kernel-neighbor-advertisement"])
    assert frames.icmpv6_checksum(src, dst, icmp) == struct.unpack("!H", icmp[2:4])[0]
    p = frames.parse_ndp(icmp)
    assert (p.type, p.target, p.lladdr, p.solicited, p.override, p.router) == (
        136, LAB["vip6"], MAC["node01"], True, True, False)
    assert frames.classify_ndp(p, LAB["vip6"]) == "reply"
    p.solicited = False
    assert frames.classify_ndp(p, LAB["vip6"]) == "announcement"
    assert frames.classify_ndp(p, "fd00::1") is None


def test_solicitation_from_unspecified_is_a_probe():
    ns = frames.parse_ndp(frames.build_neighbor_solicitation(LAB["vip6"], None))
    assert ns.type == 135 and ns.lladdr is None
    assert frames.classify_ndp(ns, LAB["vip6"], "::") == "probe"
    assert frames.classify_ndp(ns, LAB["vip6"], LAB["obs6"]) is None


def test_bad_ndp_options():
    icmp = _ipv6(FRAME["kernel-neighbor-advertisement"])[2]
    assert frames.parse_ndp(icmp[:24] + b"\x02\x00" + b"\0" * 6) is None  # option length 0
    assert frames.parse_ndp(icmp[:20]) is None
    assert frames.parse_ndp(b"\x80" + icmp[1:]) is None  # an echo request


# --------------------------------------------------------------------------- targets and interface choice

def test_targets_from_haresources():
    res = parse_haresources(b"node01 10.0.0.5/24/eth0:1 IPaddr2::10.0.1.5/24 httpd\n"
                            b"node02 IPv6addr::fd00:0:0:0:0:0:0:5/64/eth1 IPaddr::10.0.0.5/24/eth0\n")
    got = [(t.address, t.prefix, t.nic, t.node, t.line) for t in vip_targets.vip_targets(res)]
    assert got == [("10.0.0.5", 24, "eth0:1", "node01", 1), ("10.0.1.5", 24, None, "node01", 1),
                   ("fd00::5", 64, "eth1", "node02", 2)]
    assert vip_targets.vip_targets(res)[0].base_nic == "eth0"


def test_as_target_accepts_ipspec_and_text():
    spec = parse_haresources(b"n1 IPaddr::10.0.0.5/255.255.255.0/eth0\n").groups[0].resources[0].ip
    t = vip_targets.as_target(spec)
    assert (t.address, t.prefix, t.nic, t.family) == ("10.0.0.5", 24, "eth0", 4)
    assert vip_targets.as_target("10.0.0.5").prefix is None
    with pytest.raises(UsageError):
        vip_targets.parse_vip_arg("10.0.0.5/99")


@pytest.mark.parametrize("capture, iface, why", [
    ("healthy", "eth0", "haresources names eth0"),
    ("split-brain", "eth0", "haresources names eth0"),
    ("ipaddr2-nic-mismatch", "eth1", "haresources names eth1"),  # IPaddr2 put the VIP there
    ("ipaddr2-nic-missing", "eth0", "haresources names eth2, which this host does not have; "
                                    "eth0 carries the VIP's subnet"),
    ("findif", None, "no interface of this host is in a subnet holding 10.250.254.100"),
])
def test_interface_choice_from_lab_captures(capture, iface, why):
    (target,) = targets(capture)
    name, reason = vip.choose_interface(target, table(capture))
    assert name == iface and reason.startswith(why), reason


def test_interface_choice_without_nic_and_overrides():
    t = table("healthy")
    assert vip.choose_interface(VipTarget("10.250.1.100"), t) == ("eth0", "eth0 carries the VIP")
    assert vip.choose_interface(VipTarget("10.250.1.150"), t) == ("eth0", "eth0 carries the VIP's subnet")
    assert vip.choose_interface(VipTarget("10.250.129.50"), t)[0] == "eth1"
    assert vip.choose_interface(VipTarget("10.250.1.150"), t, "eth1") == ("eth1", "eth1 given")
    assert vip.choose_interface(VipTarget("10.250.1.150"), t, "eth7")[0] is None
    assert vip.choose_interface(VipTarget("10.250.1.150", 24, "eth1"), t) == (
        "eth1", "haresources names eth1 (the VIP's subnet is on eth0 here)")
    assert vip.choose_interface(VipTarget("10.250.1.150", nic="eth0"), None) == ("eth0", "haresources names eth0")
    assert vip.choose_interface(VipTarget("10.250.1.150"), None)[0] is None
    assert vip.choose_interface(VipTarget("fe80::1:2"), t)[0] == "eth0"  # both have fe80::/64; the first


def test_sender_choice():
    t = table("healthy")
    assert neighbours.pick_sender(t, "eth0", "10.250.1.100", 24) == "10.250.1.11"  # never the VIP itself
    assert neighbours.pick_sender(t, "eth1", "10.250.1.100", 24) == "0.0.0.0"
    assert neighbours.pick_sender(t, "eth9", "10.250.1.100") == "0.0.0.0"


def test_owners_from_snapshot_tables():
    owners = vip.owners_map({"node01": table("split-brain"), "node02": table("split-brain", "node02")})
    assert owners["b6:43:fe:cf:45:2b"] == "node01/eth0"
    assert "00:00:00:00:00:00" not in owners and len(owners) == 4


# --------------------------------------------------------------------------- verdicts through probe_vips

class FakeNet:
    """Stands in for arp_exchange/ndp_exchange: answers with canned MACs per (ip, iface)."""

    def __init__(self, answers=None, announcements=None, error=None):
        self.answers = answers or {}
        self.announcements = announcements or {}
        self.error = error
        self.calls = []

    def arp(self, ip, iface, timeout, count, netns=None, sender_ip=None, table=None):
        self.calls.append((ip, iface, sender_ip, netns))
        if self.error:
            raise self.error
        report = ProbeReport(ip, iface, netns, MAC["obs"], sender_ip, sent=count)
        for mac in self.answers.get(ip, []):
            report.note(mac, "reply")
        for mac in self.announcements.get(ip, []):
            report.note(mac, "announcement")
        return report

    def ndp(self, ip, iface, timeout, count, netns=None):
        return self.arp(ip, iface, timeout, count, netns, "link-local")


@pytest.fixture
def net(monkeypatch):
    fake = FakeNet()
    monkeypatch.setattr(vip, "arp_exchange", fake.arp)
    monkeypatch.setattr(vip, "ndp_exchange", fake.ndp)
    return fake


SB = {"node01": "b6:43:fe:cf:45:2b"}


def _split_brain_owners():
    return {"node01": table("split-brain"), "node02": table("split-brain", "node02")}


def _mac(capture, node, ifname="eth0"):
    return table(capture, node).get(ifname).mac


def test_held_once_from_an_observer(net):
    n1 = _mac("split-brain", "node01")
    net.answers = {"10.250.7.100": [n1]}
    observer = parse_interfaces(b"eth0 UP 10.250.7.201/24\n", "obs")
    (r,) = vip.probe_vips(targets("split-brain"), table=observer, owners=_split_brain_owners())
    assert (r.verdict, r.macs, r.owners, r.iface, r.local_mac) == (HELD_ONCE, [n1], {n1: "node01/eth0"}, "eth0", None)
    assert r.ok and not r.problem and net.calls[0][2] == "10.250.7.201"
    assert r.detail.startswith(f"{n1} (node01/eth0) holds it; haresources names eth0")
    assert vip.exit_code([r]) == EXIT_OK


def test_split_brain_seen_from_a_holder(net):
    """node01 holds the VIP itself (never hears its own answer) and node02 answers: two MACs."""
    n1, n2 = _mac("split-brain", "node01"), _mac("split-brain", "node02")
    net.answers = {"10.250.7.100": [n2]}
    (r,) = vip.probe_vips(targets("split-brain"), table=table("split-brain"), owners=_split_brain_owners())
    assert r.verdict == HELD_TWICE and r.macs == [n1, n2] and r.local_mac == n1
    assert r.owners == {n1: "node01/eth0", n2: "node02/eth0"}
    assert "split brain" in r.detail and "this host carries it on eth0" in r.detail
    assert r.problem and vip.exit_code([r]) == EXIT_FINDINGS


def test_foreign_host_is_an_address_conflict(net):
    n1 = _mac("split-brain", "node01")
    net.answers = {"10.250.7.100": [n1, "02:aa:bb:cc:dd:ee"]}
    observer = parse_interfaces(b"eth0 UP 10.250.7.201/24\n", "obs")
    (r,) = vip.probe_vips(targets("split-brain"), table=observer, owners=_split_brain_owners())
    assert r.verdict == HELD_TWICE and "no cluster node" in r.detail and "address conflict" in r.detail


def test_outage_and_failover(net):
    observer = parse_interfaces(b"eth0 UP 10.250.7.201/24\n", "obs")
    (r,) = vip.probe_vips(targets("split-brain"), table=observer)
    assert r.verdict == FREE and r.problem and "outage" in r.detail
    n2 = _mac("split-brain", "node02")
    net.answers = {"10.250.7.100": [n2]}
    (r,) = vip.probe_vips(targets("split-brain"), table=observer, owners=_split_brain_owners())
    assert r.verdict == HELD_ONCE and "haresources prefers node01: failed over" in r.detail


def test_must_be_free_before_takeover(net):
    observer = parse_interfaces(b"eth0 UP 10.250.7.201/24\n", "obs")
    (r,) = vip.probe_vips(targets("split-brain"), table=observer, expect_free=True)
    assert r.verdict == FREE and r.ok and "free to take" in r.detail and vip.exit_code([r]) == EXIT_OK
    net.answers = {"10.250.7.100": ["02:aa:bb:cc:dd:ee"]}
    net.announcements = {"10.250.7.100": ["02:aa:bb:cc:dd:ee"]}
    (r,) = vip.probe_vips(targets("split-brain"), table=observer, expect_free=True)
    assert r.verdict == HELD_ONCE and not r.ok and "has to be free" in r.detail
    assert "1 announcement(s)" in r.detail and vip.exit_code([r]) == EXIT_FINDINGS


def test_unprobeable_and_rfc5227_probe(net):
    (r,) = vip.probe_vips(targets("findif"), table=table("findif"))
    assert r.verdict == UNPROBEABLE and r.iface is None and not net.calls
    assert vip.exit_code([r]) == EXIT_INCOMPLETE and not r.problem
    # nic eth1 carries no address of the VIP's subnet: asked with sender 0.0.0.0
    (r,) = vip.probe_vips(["10.250.1.150/24/eth1"], table=table("healthy"))
    assert net.calls[-1][:3] == ("10.250.1.150", "eth1", "0.0.0.0") and "RFC 5227" in r.detail
    net.error = InputError("eth1", "the interface is down", "ip link set eth1 up")
    (r,) = vip.probe_vips(["10.250.1.150/24/eth1"], table=table("healthy"))
    assert r.verdict == UNPROBEABLE and r.detail.startswith("eth1: the interface is down")


def test_down_interface_is_unprobeable(net):
    down = parse_interfaces(b"2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN\n"
                            b"    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
                            b"    inet 10.250.7.201/24 scope global eth0\n", "ip-a")
    (r,) = vip.probe_vips(targets("split-brain"), table=down)
    assert r.verdict == UNPROBEABLE and r.iface == "eth0" and "without carrier" in r.detail and not net.calls


def test_ipv6_goes_to_ndp(net):
    net.answers = {"fd00::5": ["02:00:00:00:00:05"]}
    (r,) = vip.probe_vips(["fd00::5/64/eth0"], table=table("healthy"))
    assert r.verdict == HELD_ONCE and net.calls[-1][2] == "link-local"


def test_exit_code_precedence():
    once = VipResult("10.0.0.1", "eth0", ["a"], HELD_ONCE)
    gone = VipResult("10.0.0.2", "eth0", [], FREE)
    unknown = VipResult("10.0.0.3", None, [], UNPROBEABLE)
    assert vip.exit_code([once]) == EXIT_OK
    assert vip.exit_code([once, unknown]) == EXIT_INCOMPLETE
    assert vip.exit_code([gone, unknown]) == EXIT_FINDINGS
    assert vip.exit_code([]) == EXIT_INCOMPLETE


# --------------------------------------------------------------------------- rendering and CLI glue

def _results():
    report = ProbeReport("10.250.7.100", "eth0", None, MAC["obs"], "10.250.7.201", sent=3)
    report.note("b6:43:fe:cf:45:2b", "reply")
    return [VipResult("10.250.7.100", "eth0", ["b6:43:fe:cf:45:2b"], HELD_ONCE,
                      owners={"b6:43:fe:cf:45:2b": "node01/eth0"}, detail="held", prefix=24, report=report),
            VipResult("10.250.254.100", None, [], UNPROBEABLE, detail="no interface")]


def test_render_json():
    out = io.StringIO()
    code = render_vip_results(_results(), "json", stream=out)
    doc = json.loads(out.getvalue())
    assert code == doc["exit_code"] == EXIT_INCOMPLETE
    first = doc["results"][0]
    assert first["verdict"] == HELD_ONCE and first["owners"] == {"b6:43:fe:cf:45:2b": "node01/eth0"}
    assert first["probe"]["evidence"] == {"b6:43:fe:cf:45:2b": {"reply": 1}} and first["probe"]["sent"] == 3


def test_render_text():
    from rich.console import Console

    out = io.StringIO()
    code = render_vip_results(_results(), "text", console=Console(file=out, width=200))
    text = out.getvalue()
    assert code == EXIT_INCOMPLETE
    assert "10.250.7.100/24" in text and "node01/eth0" in text and "unprobeable" in text
    with pytest.raises(UsageError):
        render_vip_results(_results(), "sarif")


def test_probe_target_from_a_folder(net, tmp_path, monkeypatch):
    monkeypatch.setattr(vip, "read_interfaces", lambda netns, quiet=False: parse_interfaces(
        b"eth0 UP 10.250.7.201/24\n", "obs"))
    net.answers = {"10.250.7.100": [_mac("split-brain", "node01"), _mac("split-brain", "node02")]}
    (r,) = probe_target(str(LAB_FIXTURES / "split-brain"))
    assert r.verdict == HELD_TWICE and set(r.owners.values()) == {"node01/eth0", "node02/eth0"}
    assert "the VIP is up on several nodes (split brain)" in r.detail
    with pytest.raises(UsageError):
        probe_target(str(LAB_FIXTURES / "split-brain"), timeout=0)


def test_probe_target_without_vips(tmp_path, net):
    with pytest.raises(UsageError) as err:
        probe_target(root=str(tmp_path))
    assert "--vip" in err.value.hint
    (tmp_path / "etc" / "ha.d").mkdir(parents=True)
    (tmp_path / "etc" / "ha.d" / "haresources").write_text("node01 httpd\n")
    with pytest.raises(UsageError, match="names no IP resource"):
        probe_target(root=str(tmp_path))
    folder = tmp_path / "f" / "node01"
    shutil.copytree(LAB_FIXTURES / "healthy" / "node01", folder)
    (folder / "haresources").write_text("node01 httpd\n")
    with pytest.raises(UsageError, match="no haresources with an IP resource"):
        probe_target(str(tmp_path / "f"))


# --------------------------------------------------------------------------- sockets and namespaces

def test_no_raw_socket_permission_is_a_usage_error(monkeypatch):
    def refuse(*a, **k):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(socket, "socket", refuse)
    for call in (lambda: neighbours.arp_exchange("10.0.0.1", "eth0", sender_ip="0.0.0.0"),
                 lambda: neighbours.ndp_exchange("fd00::1", "eth0")):
        with pytest.raises(UsageError) as err:
            call()
        assert "root" in err.value.hint


def test_unknown_namespace():
    with pytest.raises(InputError, match="no network namespace"):
        netns.run_in_netns("hbl-surely-not-there-0", lambda: 1)
    with pytest.raises(InputError):
        neighbours.arp_exchange("10.0.0.1", "eth0", netns="../x", sender_ip="0.0.0.0")


def test_run_in_netns_keeps_the_callers_namespace(tmp_path, monkeypatch):
    """The function runs in another thread that entered the namespace; errors come back."""
    import threading

    entered = []
    monkeypatch.setattr(netns, "netns_path", lambda name: "/proc/self/ns/net")
    monkeypatch.setattr(netns, "_setns", lambda fd: entered.append(threading.get_ident()))
    assert netns.run_in_netns("x", threading.get_ident) == entered[0] != threading.get_ident()
    with pytest.raises(ZeroDivisionError):
        netns.run_in_netns("x", lambda: 1 / 0)

    def denied(fd):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(netns, "_setns", denied)
    with pytest.raises(UsageError, match="cannot enter network namespace x"):
        netns.run_in_netns("x", lambda: 1)
