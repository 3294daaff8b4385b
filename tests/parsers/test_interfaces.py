"""Tests for hadoctor.parsers.interfaces: corpus, real fixtures from this machine, netlink, properties."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES, corpus_params
from hadoctor.errors import InputError
from hadoctor.parsers.interfaces import (
    detect_format, parse_ifconfig, parse_interfaces, parse_ip_addr, parse_ip_brief, parse_ip_json,
)
from hadoctor.parsers.interfaces_netlink import read_netlink

FIX = FIXTURES / "parsers"
NETNS_SCRIPT = FIX / "interfaces-netns.sh"


def load(name: str):
    return parse_interfaces((FIX / name).read_bytes(), name)


def comparable(table, drop=("line",)):
    """The table as plain data without line numbers, for comparing two sources."""
    out = []
    for iface in table.interfaces:
        data = iface.to_dict()
        for key in drop:
            data.pop(key, None)
        for addr in data["addresses"]:
            addr.pop("line")
        out.append(data)
    return out


def problem_lines(table, severity=None):
    return sorted({p.line for p in table.problems if severity is None or p.severity == severity})


# --------------------------------------------------------------------------- corpus

@pytest.mark.parametrize("path", corpus_params("ip-a"))
def test_corpus_file_parses(path: Path):
    data = path.read_bytes()
    table = parse_interfaces(data, str(path))
    assert table.interfaces, table.problems
    assert table.source_format == ("ip-brief" if "brief" in path.name else "ip-addr")
    line_count = len(data.splitlines())
    for problem in table.problems:
        assert isinstance(problem.line, int) and 0 <= problem.line <= line_count
    json.dumps(table.to_dict())


def corpus_table(corpus, name):
    path = corpus / "ip-a" / name
    return parse_interfaces(path.read_bytes(), str(path))


def test_corpus_015_vlan_on_bond_has_no_ipv4(corpus):
    table = corpus_table(corpus, "015-sles-vlan4-at-bond0-no-address.txt")
    vlan = table.get("vlan4@bond0")
    assert (vlan.name, vlan.link, vlan.kind, vlan.index, vlan.state) == ("vlan4", "bond0", "vlan", 10, "UP")
    assert vlan.ipv4() == [] and vlan.addresses == []
    assert table.problems == []


def test_corpus_001_two_nics_in_one_subnet(corpus):
    table = corpus_table(corpus, "001-zongyu-centos7-two-nics-same-subnet.txt")
    matches = table.interfaces_on_subnet("172.30.105.200")
    assert [(i.name, str(a.interface)) for i, a in matches] == [
        ("ens33", "172.30.105.101/24"), ("ens38", "172.30.105.12/24")]
    assert matches[1][1].flags == ["dynamic"]
    # the author's "......" elision is the only thing not understood
    assert [(p.line, p.severity) for p in table.problems] == [(1, "warning")]


def test_corpus_019_hand_transcribed_problems_name_their_lines(corpus):
    table = corpus_table(corpus, "019-ubuntuforums-2007-hand-transcribed-malformed.txt")
    assert [i.name for i in table.interfaces] == ["lo", "eth0", "sit0"]
    assert problem_lines(table, "error") == [3, 4, 10]  # 127.0.01/8, '::  !/128 slope', 'fe80 :: 2c0:...'
    assert 9 in problem_lines(table, "warning")  # address without a prefix length
    assert {1, 7, 13} <= set(problem_lines(table, "warning"))  # flags 'loopback,up,10000', lower case
    eth0 = table.get("eth0")
    assert [str(a.interface) for a in eth0.addresses] == ["84.202.211.255/32"]
    assert eth0.is_up and table.get("lo").kind == "loopback"


def test_corpus_016_altname_and_address_in_another_subnet(corpus):
    table = corpus_table(corpus, "016-debian12-altname-vip-other-subnet.txt")
    ens37 = table.get("enp2s5")
    assert ens37.name == "ens37" and ens37.altnames == ["enp2s5"] and ens37.mtu == 9000
    vip = ens37.addresses[1]
    assert (str(vip.interface), vip.secondary, vip.broadcast) == ("10.10.130.21/24", False, None)
    assert [str(a.interface) for _, a in table.interfaces_on_subnet("10.10.130.99")] == ["10.10.130.21/24"]
    assert [str(a.interface) for _, a in table.interfaces_on_subnet("10.10.110.99")] == ["10.10.110.11/24"]
    assert table.interfaces_on_subnet("10.10.120.1") == []


def test_corpus_labels_and_secondaries(corpus):
    table = corpus_table(corpus, "003-zongyu-two-vips-ens38-0-ens38-1.txt")
    assert table.names(labels=True) == ["ens38", "ens38:0", "ens38:1"]
    iface, addr = table.find_address("172.30.105.201")
    assert (iface.name, addr.label, addr.secondary, addr.line) == ("ens38", "ens38:1", True, 8)
    # secondaries share their primary's route: findif sees one interface, via the primary
    assert [str(a.interface) for _, a in table.interfaces_on_subnet("172.30.105.7")] == ["172.30.105.13/24"]

    unlabelled = corpus_table(corpus, "005-zongyu-centos6-secondary-no-label.txt")
    _, vip = unlabelled.find_address("172.30.105.201/24")
    assert vip.secondary and vip.label is None


def test_corpus_host_address_is_found_but_never_a_subnet(corpus):
    table = corpus_table(corpus, "014-centos7-noprefixroute-32-and-label.txt")
    iface, host = table.find_address("192.168.100.244")
    assert iface.name == "eth0" and host.is_host and not host.secondary
    subnet = table.interfaces_on_subnet("192.168.100.244")
    assert [str(a.interface) for _, a in subnet] == ["192.168.100.213/24"]
    assert subnet[0][1].flags == ["noprefixroute"]
    assert table.interfaces_on_subnet("10.9.9.9") == []


def test_corpus_container_veth_and_tunnels(corpus):
    docker = corpus_table(corpus, "013-docker-veth-eth0-at-if234-vip.txt")
    eth0 = docker.get("eth0@if234")
    assert (eth0.name, eth0.index, eth0.link) == ("eth0", 233, "if234")

    sos = corpus_table(corpus, "006-insights-core-bond-vlan-ipv6-tunnels.txt")
    assert problem_lines(sos) == [1, 2, 3, 15]  # "Message truncated" x3, label tun0 on tunl1
    slave = sos.get("eth7")
    assert (slave.master, slave.state, slave.has_carrier, slave.is_up) == ("bond1", "DOWN", False, True)
    assert sos.get("bond1.57").kind == "vlan"
    _, p2p = sos.find_address("192.168.112.5")
    assert str(p2p.peer) == "192.168.122.6/32" and p2p.is_host
    assert sos.interfaces_on_subnet("192.168.112.5") == []
    v6 = sos.get("bond1.57").addresses[2]
    assert (v6.scope, v6.flags) == ("global", ["mngtmpaddr", "dynamic"])


def test_corpus_old_and_foreign_formats(corpus):
    mac = corpus_table(corpus, "010-iproute2mac-macos-status-not-state.txt")
    assert mac.problems == []
    assert [(i.name, i.state) for i in mac.interfaces][:4] == [
        ("lo0", "UNKNOWN"), ("gif0", "UNKNOWN"), ("stf0", "UNKNOWN"), ("en0", "UP")]
    assert mac.get("stf0").flags == [] and str(mac.get("en0").ipv4()[0].broadcast) == "7.249.179.255"

    old = corpus_table(corpus, "012-lartc-guide-old-iproute2-no-state.txt")
    eth0 = old.get("eth0:0")
    assert (eth0.state, eth0.has_carrier, eth0.is_up) == (None, None, True)

    busybox = corpus_table(corpus, "020-busybox-ip-addr-no-state-docker0.txt")
    assert busybox.problems == [] and busybox.get("docker0").has_carrier is False

    typo = corpus_table(corpus, "011-fwbuilder-heartbeat-vip-eth0-0.txt")
    assert [(p.line, p.severity) for p in typo.problems] == [(5, "error")]  # 'fele' is not hex

    brief = corpus_table(corpus, "007-iproute2-brief-addr-show.txt")
    assert [str(a.interface) for a in brief.get("eth0").addresses] == [
        "192.0.2.1/24", "2001:db8:200:84:ba27:ebff:fe68:5f03/64", "fe80::ba27:ebff:fe68:5f03/64"]


# --------------------------------------------------------------------------- fixtures captured on this machine

def test_fixture_formats_are_detected():
    expected = {"ip-a.txt": "ip-addr", "ip-d-a.txt": "ip-addr", "ip-br-a.txt": "ip-brief",
                "ip-j-a.json": "ip-json", "ip-j-p-a.json": "ip-json", "ifconfig-a.txt": "ifconfig"}
    for name, fmt in expected.items():
        table = load(name)
        assert (name, table.source_format) == (name, fmt)
        assert (name, table.problems) == (name, [])


def test_text_json_and_detail_captures_agree():
    text = comparable(load("ip-a.txt"), drop=("line", "kind"))
    for other in ("ip-j-a.json", "ip-j-p-a.json", "ip-d-a.txt"):
        assert comparable(load(other), drop=("line", "kind")) == text, other
    kinds = {i.name: i.kind for i in load("ip-d-a.txt").interfaces}
    assert kinds == {"lo": "loopback", "eth1": "veth", "eth0": "veth", "mv0": "macvlan", "br0": "bridge",
                     "hdv0": "veth", "br1": "bridge"}


def test_brief_capture_agrees_with_text():
    text, brief = load("ip-a.txt"), load("ip-br-a.txt")
    assert [(i.name, i.link, i.state) for i in brief.interfaces] == [(i.name, i.link, i.state) for i in text.interfaces]
    for full, short in zip(text.interfaces, brief.interfaces):
        assert [a.interface for a in short.addresses] == [a.interface for a in full.addresses]


def test_ifconfig_capture_agrees_with_text():
    text, ifc = load("ip-a.txt"), load("ifconfig-a.txt")
    assert sorted(ifc.names(labels=True)) == sorted(text.names(labels=True))
    for iface in text.interfaces:
        other = ifc.get(iface.name)
        assert (other.mtu, other.link_type) == (iface.mtu, iface.link_type)
        assert other.mac == (None if iface.kind == "loopback" else iface.mac)  # ifconfig prints no MAC for lo
        assert other.is_up == iface.is_up
        # ifconfig shows the first IPv4 address of each label and every IPv6 address
        shown = {}
        for addr in iface.ipv4():
            shown.setdefault(addr.label or iface.name, addr)
        expected = {(str(a.interface), a.label, a.secondary, a.broadcast) for a in shown.values()}
        expected |= {(str(a.interface), None, False, None) for a in iface.addresses if a.version == 6}
        got = {(str(a.interface), a.label, a.secondary, a.broadcast) for a in other.addresses}
        assert got == expected, iface.name


def test_fixture_questions_rules_ask():
    table = load("ip-a.txt")
    on_subnet = table.interfaces_on_subnet("10.250.200.50")
    assert [(i.name, str(a.interface)) for i, a in on_subnet] == [("eth1", "10.250.200.2/25"), ("eth0", "10.250.200.1/25")]
    assert table.find_address("10.250.200.100")[0].name == "eth0"
    assert table.find_address(ipaddress.ip_address("10.250.200.11"))[1].secondary
    assert table.find_address("10.250.200.99") is None and table.find_address("not an ip") is None
    assert table.interfaces_on_subnet("bogus") == []
    assert [table.get(n).name for n in ("eth0:0", "enp0s3", "eth0@eth1", "eth0:7")] == ["eth0"] * 4
    assert table.get("eth9") is None and table.get("eth9:0") is None
    assert table.names(labels=True) == ["lo", "eth1", "eth0", "eth0:0", "mv0", "br0", "hdv0", "br1"]
    assert table.get("mv0").ipv4() == [] and table.get("mv0").link == "eth0"
    hdv0 = table.get("hdv0")
    assert (hdv0.master, hdv0.link) == ("br0", "if2")
    br1 = table.get("br1")
    assert (br1.state, br1.is_up, br1.mtu) == ("DOWN", False, 1400)
    assert table.interfaces_on_subnet("10.250.200.200")[0][0].name == "br1"
    assert table.get("br0").ipv4()[0].flags == ["noprefixroute"]
    assert [(i.name, str(a.interface)) for i, a in table.addresses(6)][:2] == [("lo", "::1/128"), ("eth1", str(
        table.get("eth1").addresses[1].interface))]


def test_pretty_json_items_carry_their_lines():
    text = (FIX / "ip-j-p-a.json").read_text().splitlines()
    table = load("ip-j-p-a.json")
    for iface in table.interfaces:
        assert f'"ifname": "{iface.name}"' in text[iface.line - 1]
        for addr in iface.addresses:
            assert f'"local": "{addr.ip}"' in text[addr.line - 1]


# --------------------------------------------------------------------------- targeted samples

# `ifconfig` on a CentOS heartbeat NFS node after takeover (net-tools 1.60; public blog post).
CENTOS6_IFCONFIG = b"""\
eth0      Link encap:Ethernet  HWaddr 52:54:00:84:73:BD  
          inet addr:10.0.0.1  Bcast:10.0.0.255  Mask:255.255.255.0
          inet6 addr: fe80::5054:ff:fe84:73bd/64 Scope:Link
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
          RX packets:881922 errors:0 dropped:0 overruns:0 frame:0
          TX packets:1302012 errors:0 dropped:0 overruns:0 carrier:0
          collisions:0 txqueuelen:1000
          RX bytes:239440621 (228.3 MiB)  TX bytes:5791818459 (5.3 GiB)

eth0:0    Link encap:Ethernet  HWaddr 52:54:00:84:73:BD  
          inet addr:10.0.0.100  Bcast:10.0.0.255  Mask:255.255.255.0
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1

lo        Link encap:Local Loopback  
          inet addr:127.0.0.1  Mask:255.0.0.0
          inet6 addr: ::1/128 Scope:Host
          UP LOOPBACK RUNNING  MTU:16436  Metric:1
          RX packets:2 errors:0 dropped:0 overruns:0 frame:0
          TX packets:2 errors:0 dropped:0 overruns:0 carrier:0
          collisions:0 txqueuelen:0
          RX bytes:224 (224.0 b)  TX bytes:224 (224.0 b)
"""

# FreeBSD `ifconfig` (cloud-init's FreeBSD test data).
FREEBSD_IFCONFIG = b"""\
hn0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 0 mtu 1500
        options=51b<RXCSUM,TXCSUM,VLAN_MTU,VLAN_HWTAGGING,TSO4,LRO>
        ether 00:15:5d:4c:73:00
        inet6 fe80::215:5dff:fe4c:7300%hn0 prefixlen 64 scopeid 0x2
        inet 10.156.76.127 netmask 0xfffffc00 broadcast 10.156.79.255
        nd6 options=23<PERFORMNUD,ACCEPT_RTADV,AUTO_LINKLOCAL>
        media: Ethernet autoselect (10Gbase-T <full-duplex>)
        status: active
"""


def test_old_net_tools_ifconfig_with_heartbeat_alias():
    table = parse_interfaces(CENTOS6_IFCONFIG, "ifconfig.txt")
    assert table.source_format == "ifconfig" and table.problems == []
    assert table.names(labels=True) == ["eth0", "eth0:0", "lo"]
    eth0 = table.get("eth0")
    assert (eth0.mac, eth0.mtu, eth0.link_type, eth0.has_carrier) == ("52:54:00:84:73:bd", 1500, "ether", True)
    assert [(str(a.interface), a.scope, a.label, a.secondary, a.line) for a in eth0.addresses] == [
        ("10.0.0.1/24", None, None, False, 2), ("fe80::5054:ff:fe84:73bd/64", "link", None, False, 3),
        ("10.0.0.100/24", None, "eth0:0", True, 11)]
    lo = table.get("lo")
    assert (lo.kind, lo.mtu, [str(a.interface) for a in lo.addresses]) == ("loopback", 16436, ["127.0.0.1/8", "::1/128"])


def test_bsd_ifconfig_hex_netmask_and_zone():
    table = parse_ifconfig(FREEBSD_IFCONFIG, "ifconfig.txt")
    assert table.problems == []
    hn0 = table.get("hn0")
    assert (hn0.mtu, hn0.mac, hn0.flags[-1]) == (1500, "00:15:5d:4c:73:00", "MULTICAST")
    assert [str(a.interface) for a in hn0.addresses] == ["fe80::215:5dff:fe4c:7300/64", "10.156.76.127/22"]
    assert str(hn0.addresses[1].broadcast) == "10.156.79.255"


def test_ifconfig_bad_netmask_and_stray_lines():
    data = (b"eth0      Link encap:Ethernet  HWaddr 00:0C:29:5F:97:D7\n"
            b"          inet addr:10.1.1.1  Bcast:10.1.1.255  Mask:255.0.255.0\n"
            b"          something odd\n"
            b"garbage header\n")
    table = parse_ifconfig(data, "x")
    assert [(p.line, p.severity) for p in table.problems] == [(2, "error"), (3, "warning"), (4, "error")]
    assert table.get("eth0").addresses == []


def test_ip_addr_headers_and_lines_that_are_wrong():
    data = (b"    inet 10.0.0.1/24 scope global eth0\n"  # before any header
            b"2: eth0: mtu 1500 qdisc noop\n"  # no flags
            b"    inet 10.0.0.2/24 brd 10.0.0.255 scope global eth0:0\n"
            b"    inet6 10.0.0.3/24 scope global\n"  # wrong family
            b"3: eth1: <UP,BROADCAST> mtu big state SIDEWAYS\n"
            b"    inet 10.0.0.4/24 scope global bond0\n")  # label of another interface
    table = parse_ip_addr(data, "x")
    assert [(p.line, p.severity) for p in table.problems] == [
        (1, "error"), (2, "error"), (4, "error"), (5, "error"), (5, "warning"), (6, "warning")]
    assert table.get("eth0").addresses[0].label == "eth0:0"
    assert table.get("eth1").mtu is None


def test_json_errors_name_lines():
    bad = parse_ip_json(b'[\n {"ifname": "eth0",\n  "mtu": 1500,,\n}]', "x.json")
    assert [(p.line, p.severity) for p in bad.problems] == [(3, "error"), (0, "error")]  # + "no interfaces"
    shape = parse_ip_json(b'{"ifname": "eth0"}', "x.json")
    assert shape.problems[0].line == 1
    entries = parse_ip_json(b'[{}, {"ifindex": 1}, {"ifname": "lo", "addr_info": [{"family": "inet"}, 5]}]', "x.json")
    assert [p.message.split()[0] for p in entries.problems] == ["interface", "address", "address"]
    assert entries.names() == ["lo"]


def test_brief_and_detection_edge_cases():
    table = parse_ip_brief(b"eth0  UP  10.0.0.1/24 10.0.0.300/24 10.0.0.5\nlonely\n", "x")
    assert [(p.line, p.severity) for p in table.problems] == [(1, "error"), (1, "warning"), (2, "error")]
    assert [str(a.interface) for a in table.get("eth0").addresses] == ["10.0.0.1/24", "10.0.0.5/32"]
    link = parse_ip_brief(b"eth0             UP             52:54:00:9f:d3:d5 <BROADCAST,MULTICAST,UP,LOWER_UP>\n", "x")
    assert (link.get("eth0").mac, link.get("eth0").has_carrier) == ("52:54:00:9f:d3:d5", True)
    assert detect_format(b"") == "ip-addr" and detect_format(b"  [ ]") == "ip-json"
    empty = parse_interfaces(b"", "x")
    assert [(p.line, p.message) for p in empty.problems] == [(0, "no interfaces found")]


def test_duplicate_interface_and_long_line():
    data = (b"2: eth0: <UP> mtu 1500\n2: eth0: <UP> mtu 1500\n" + b"x" * (70 * 1024) + b"\n")
    table = parse_ip_addr(data, "x")
    assert [(p.line, p.severity) for p in table.problems] == [(3, "error"), (2, "warning")]


def test_importing_the_module_does_not_import_pyroute2():
    code = ("import sys, hadoctor.parsers.interfaces, hadoctor.parsers.interfaces_netlink; "
            "print('pyroute2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- live netlink

def _can_make_netns() -> str:
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    if not shutil.which("ip"):
        return "iproute2 (ip) is not installed"
    return ""


@pytest.fixture
def live_netns():
    """Namespaces hdtest-<pid>-a/-b built by the fixture script; always torn down."""
    reason = _can_make_netns()
    if reason:
        pytest.skip(reason)
    a, b = f"hdtest-{os.getpid()}-a", f"hdtest-{os.getpid()}-b"
    try:
        made = subprocess.run(["bash", str(NETNS_SCRIPT), "setup", a, b], capture_output=True, text=True)
        if made.returncode:
            pytest.skip(f"cannot build test namespaces here: {made.stderr.strip()[:200]}")
        yield a
    finally:
        subprocess.run(["bash", str(NETNS_SCRIPT), "teardown", a, b], capture_output=True)


def test_netlink_matches_ip_text_and_json(live_netns):
    def ip(*args):
        return subprocess.run(["ip", "-n", live_netns, *args], capture_output=True, check=True).stdout

    live = read_netlink(live_netns)
    assert live.source_format == "netlink" and live.problems == []
    assert comparable(live) == comparable(parse_ip_addr(ip("-d", "addr"), "ip-d-a"))
    assert comparable(live) == comparable(parse_ip_json(ip("-j", "-d", "addr"), "ip-j-d-a"))
    assert comparable(live, drop=("line", "kind")) == comparable(parse_ip_addr(ip("addr"), "ip-a"), drop=("line", "kind"))
    eth0 = live.get("enp0s3")
    assert (eth0.name, eth0.kind, eth0.labels()) == ("eth0", "veth", ["eth0:0"])
    assert [i.name for i, _ in live.interfaces_on_subnet("10.250.200.50")] == ["eth1", "eth0"]


def test_netlink_unknown_namespace_is_an_input_error_and_is_not_created():
    name = f"hdtest-{os.getpid()}-missing"
    with pytest.raises(InputError, match="no network namespace"):
        read_netlink(name)
    assert not os.path.exists(f"/var/run/netns/{name}")


def test_netlink_own_namespace_has_loopback():
    table = read_netlink()
    assert table.get("lo").kind == "loopback" and table.problems == []


# --------------------------------------------------------------------------- properties

PARSERS = [parse_interfaces, parse_ip_addr, parse_ip_brief, parse_ip_json, parse_ifconfig]
SEED_TEXTS = [(FIX / n).read_bytes() for n in ("ip-a.txt", "ip-br-a.txt", "ip-j-p-a.json", "ifconfig-a.txt")]


def check_invariants(table):
    for problem in table.problems:
        assert isinstance(problem.line, int) and problem.line >= 0
    json.dumps(table.to_dict())
    for iface in table.interfaces:
        for addr in iface.addresses:
            assert isinstance(addr.line, int) and addr.line >= 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.sampled_from(PARSERS))
def test_random_bytes_never_raise(data, parser):
    check_invariants(parser(data, "random"))


@st.composite
def mutated(draw):
    lines = draw(st.sampled_from(SEED_TEXTS)).split(b"\n")
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "cut", "junk", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]))))]
        elif op == "junk":
            lines[i] = lines[i] + draw(st.binary(max_size=12))
        else:
            words = lines[i].split(b" ")
            draw(st.randoms()).shuffle(words)
            lines[i] = b" ".join(words)
        if not lines:
            lines = [b""]
    return b"\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(PARSERS))
def test_mutated_real_output_never_raises(data, parser):
    check_invariants(parser(data, "mutated"))


@st.composite
def interface_set(draw):
    """A random but valid set of interfaces, rendered later as ``ip a`` text and ``ip -j a`` JSON."""
    count = draw(st.integers(1, 4))
    ifaces = []
    for index in range(1, count + 1):
        name = f"eth{index}"
        addrs = []
        for n in range(draw(st.integers(0, 3))):
            ip = draw(st.ip_addresses(v=4 if draw(st.booleans()) else 6))
            prefix = draw(st.integers(8, ip.max_prefixlen))
            label = f"{name}:{n}" if ip.version == 4 and draw(st.booleans()) else None
            addrs.append((ipaddress.ip_interface(f"{ip}/{prefix}"), label, draw(st.booleans()) and ip.version == 4))
        ifaces.append((index, name, draw(st.sampled_from([1400, 1500, 9000])), addrs))
    return ifaces


def render_text(ifaces) -> bytes:
    out = []
    for index, name, mtu, addrs in ifaces:
        out.append(f"{index}: {name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {mtu} qdisc noqueue state UP qlen 1000")
        out.append("    link/ether 52:54:00:9f:d3:d5 brd ff:ff:ff:ff:ff:ff")
        for addr, label, secondary in addrs:
            family = "inet" if addr.version == 4 else "inet6"
            words = [family, str(addr), "scope", "global"] + (["secondary"] if secondary else [])
            if addr.version == 4:
                words.append(label or name)
            out.append("    " + " ".join(words))
            out.append("       valid_lft forever preferred_lft forever")
    return ("\n".join(out) + "\n").encode()


def render_json(ifaces) -> bytes:
    items = []
    for index, name, mtu, addrs in ifaces:
        info = []
        for addr, label, secondary in addrs:
            entry = {"family": "inet" if addr.version == 4 else "inet6", "local": str(addr.ip),
                     "prefixlen": addr.network.prefixlen, "scope": "global"}
            if secondary:
                entry["secondary"] = True
            if addr.version == 4:
                entry["label"] = label or name
            info.append(entry)
        items.append({"ifindex": index, "ifname": name, "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
                      "mtu": mtu, "operstate": "UP", "link_type": "ether", "address": "52:54:00:9f:d3:d5",
                      "addr_info": info})
    return json.dumps(items, indent=4).encode()


@settings(max_examples=80, deadline=None)
@given(interface_set())
def test_text_and_json_renderings_of_one_host_agree(ifaces):
    text = parse_interfaces(render_text(ifaces), "t")
    js = parse_interfaces(render_json(ifaces), "j")
    assert text.problems == [] and js.problems == []
    assert comparable(text) == comparable(js)
    for (_, name, _, addrs), iface in zip(ifaces, text.interfaces):
        assert [(a.interface, a.label, a.secondary) for a in iface.addresses] == addrs
        for addr, _, _ in addrs:
            assert text.find_address(addr.ip) is not None
