"""Real captures of heartbeat 3.0.6 from the lab (tests/fixtures/lab/*/heartbeat.pcap)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import List

from hadoctor.parsers.authkeys import Authkeys, parse_authkeys
from hadoctor.wire.pcap import UdpPacket, read_pcap

LAB = Path(__file__).resolve().parent.parent / "fixtures" / "lab"
CAPTURES = ("healthy", "foreign-cluster", "authkeys-mismatch")


@functools.lru_cache(maxsize=None)
def lab_packets(scenario: str) -> List[UdpPacket]:
    return list(read_pcap(LAB / scenario / "heartbeat.pcap"))


@functools.lru_cache(maxsize=None)
def lab_authkeys(scenario: str, node: str) -> Authkeys:
    path = LAB / scenario / node / "authkeys"
    keys = parse_authkeys(path.read_bytes(), str(path), salt=b"tests")
    assert keys.active is not None, keys.problems
    return keys


def all_lab_payloads() -> List[bytes]:
    return [p.payload for scenario in CAPTURES for p in lab_packets(scenario)]
