"""Lab library pieces that need no root (run in every test session)."""

from __future__ import annotations

import struct

import pytest

from . import evidence, scenarios
from .hblab import FAKE_KEY, OTHER_FAKE_KEY, Lab, authkeys_text, ha_cf


@pytest.mark.parametrize("subnet", ["10.251.1", "192.168.1", "10.0.0", "127.0.0"])
def test_subnet_must_be_inside_10_250(subnet):
    with pytest.raises(ValueError):
        Lab("hbl-x", subnet=subnet)


@pytest.mark.parametrize("prefix", ["", "Hbl", "hbl_x", "x" * 40, "a b"])
def test_prefix_is_checked(prefix):
    with pytest.raises(ValueError):
        Lab(prefix, subnet="10.250.9")


def test_addresses_plan():
    lab = Lab("hbl-plan", ("node01", "node02", "web01"), subnet="10.250.9", second_nic=True)
    assert [lab.ip(n) for n in lab.nodes] == ["10.250.9.11", "10.250.9.12", "10.250.9.13"]
    assert lab.vip == "10.250.9.100" and lab.vip2 == "10.250.9.101"
    assert lab.second_ip("web01") == "10.250.137.13"
    assert lab.namespaces() == ["hbl-plan-node01", "hbl-plan-node02", "hbl-plan-web01",
                                "hbl-plan-sw"]


def test_observers_plan():
    lab = Lab("hbl-plan", subnet="10.250.9", observers=("obs", "obs2"))
    assert lab.ip("obs") == "10.250.9.201" and lab.ip("obs2") == "10.250.9.202"
    assert list(lab.nodes) == ["node01", "node02"]          # observers are no cluster nodes
    assert lab.namespaces() == ["hbl-plan-node01", "hbl-plan-node02", "hbl-plan-obs",
                                "hbl-plan-obs2", "hbl-plan-sw"]
    for bad in (("node01",), ("sw",), ("Obs",)):
        with pytest.raises(ValueError):
            Lab("hbl-plan", subnet="10.250.9", observers=bad)


def test_ha_cf_text():
    text = ha_cf(["node01", "node02"], deadtime="30s")
    lines = text.splitlines()
    assert lines.index("udpport 694") < lines.index("bcast eth0")
    assert "realtime off" in lines and "deadtime 30s" in lines
    assert lines[-2:] == ["crm no", "realtime off"]
    assert "node node01" in lines and "auto_failback on" in lines


def test_fake_keys_only():
    for key in (FAKE_KEY, OTHER_FAKE_KEY):
        assert "not-secret" in key
        assert authkeys_text(key).startswith("auth 1\n")


def test_scenarios_use_distinct_subnets_and_prefixes():
    specs = scenarios.SCENARIOS.values()
    assert len({s.index for s in specs}) == len(specs)
    assert len({s.short for s in specs}) == len(specs)
    assert all(1 <= s.index < 128 for s in specs)


def test_parse_pcap_minimal():
    ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0, 10, 250, 1, 11, 10, 250, 1, 255])
    udp = struct.pack(">HHHH", 40000, 694, 12, 0) + b"###\n"
    frame = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + ip + udp
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    pcap += struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame
    assert evidence.parse_pcap(pcap) == [("10.250.1.11", "10.250.1.255", 694, b"###\n")]
